package main

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"empathybot/internal/slackio/slackfake"
	"empathybot/internal/support"
)

// Issue 25, end to end through the real bot and slackfake: a nudged
// thread whose customer calms down after an acknowledging reply counts as
// de-escalated with a nudge; a held-out one gets no nudge, and its outcome
// is counted without. /empathy stats shows both, and says how much data
// is still needed.
func TestEndToEndOutcomesNudgedAndHeldOut(t *testing.T) {
	var cfg Config
	h := startBot(t, func(c *Config) {
		c.Holdout, c.HoldoutKey, c.Tips = 0.5, "a test secret", "learn"
		cfg = *c
	})
	hold := support.Holdout{Fraction: 0.5, Key: holdoutKey(cfg)}
	nudged := armedThread(hold, chSupport, support.ArmNudge, 0)
	held := armedThread(hold, chSupport, support.ArmHoldout, 0)
	if nudged == "" || held == "" {
		t.Fatal("no thread in one of the arms")
	}

	play := func(thread string) int {
		before := len(h.fake.Calls("chat.postEphemeral"))
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, looking into it."})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: thread,
			Text: "I'm so sorry you've had to chase this, that's really frustrating. I've fixed it and I'll check with you tomorrow morning."})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "Thanks, that works now."})
		return len(h.fake.Calls("chat.postEphemeral")) - before
	}
	if n := play(nudged); n < 1 {
		t.Fatalf("the nudged thread: %d private messages, want its nudge", n)
	}
	if n := play(held); n != 0 {
		t.Fatalf("the held-out thread: %d private messages, want none (no nudge, and no review: the reply acknowledged)", n)
	}
	want := []string{"With a nudge: de-escalated *1 of 1* answered", "Without (the 50% holdout): de-escalated *1 of 1* answered",
		"2 of about 785 answered moments needed to see a 10-point difference"}
	var stats string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if stats = h.command(agent, "stats"); strings.Contains(stats, want[0]) && strings.Contains(stats, want[1]) {
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(stats, w) {
			t.Errorf("stats lack %q:\n%s", w, stats)
		}
	}
	// The customer sees nothing, and nothing public is posted.
	if n := len(h.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d public messages", n)
	}
}

// Issue 25: the leads' report arrives as a PNG chart in each lead's DM,
// uploaded the way Slack asks (files.getUploadURLExternal, the bytes,
// files.completeUploadExternal), with team figures only.
func TestEndToEndLeadsGetTheChart(t *testing.T) {
	const lead = "ULEAD"
	h := startBot(t, func(c *Config) {
		c.Leads, c.ReportEvery = []string{lead}, 2*time.Second
	})
	thread := "1700002000.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, looking into it."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
	var files []slackfake.File
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && len(files) == 0; time.Sleep(50 * time.Millisecond) {
		files = h.fake.Files("D" + lead)
	}
	if len(files) == 0 {
		t.Fatalf("no chart in the lead's DM; calls: %v", h.fake.Calls("files.getUploadURLExternal"))
	}
	f := files[0]
	img, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil || img.Bounds().Dx() < 400 || len(f.Data) != f.Length {
		t.Fatalf("the file is no PNG chart of the length announced: %v, %d bytes, %d announced", err, len(f.Data), f.Length)
	}
	if !strings.Contains(f.Comment, "Frustrated moments") || !strings.Contains(f.Comment, "Team figures only") {
		t.Errorf("the report's words: %s", f.Comment)
	}
	if strings.Contains(f.Comment, agent) || strings.Contains(f.Comment, customer) {
		t.Errorf("the report names a person: %s", f.Comment)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d messages posted besides the file", n)
	}
}

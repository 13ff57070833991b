package main

import (
	"strings"
	"testing"
	"time"

	"empathybot/internal/slackio/slackfake"
)

const hostileMsg = "This is fucking ridiculous, the third time I'm asking and it's still broken!"

// homeOf opens user's App Home and returns the view published for them.
func (h *harness) homeOf(user, ev string) string {
	h.t.Helper()
	before := len(h.fake.Calls("views.publish"))
	env, err := h.fake.SendEvent(ev, map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.fake.WaitAck(env, 2*time.Second)
	h.waitHandled(ev, 1)
	views, ok := h.fake.WaitCalls("views.publish", before+1, 5*time.Second)
	if !ok {
		h.t.Fatal("no App Home")
	}
	v := views[before]
	if v.Args.Get("user_id") != user {
		h.t.Fatalf("App Home published for %s, want %s", v.Args.Get("user_id"), user)
	}
	return v.Args.Get("view")
}

// Issue 26, end to end: a run of hostile customer messages in threads an
// agent owns brings them one breather DM; their App Home shows their own
// figures, and another agent's shows only theirs.
func TestEndToEndBreatherAndOwnFigures(t *testing.T) {
	h := startBot(t, func(c *Config) {
		c.Agents = []string{agent, otherAgent}
		c.BreatherAt = 1.0
	})
	for i := 0; i < 5; i++ {
		thread := "1700003000.00" + string(rune('1'+i)) + "000"
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, looking into it."})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: hostileMsg})
	}
	var breathers []slackfake.Call
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		breathers = nil
		for _, c := range h.fake.Calls("chat.postMessage") {
			if c.Args.Get("channel") == "D"+agent && strings.Contains(c.Args.Get("text"), "tense thread") {
				breathers = append(breathers, c)
			}
		}
		if len(breathers) > 0 {
			break
		}
	}
	if len(breathers) != 1 {
		t.Fatalf("%d breather DMs to the agent, want 1: %v", len(breathers), h.fake.Calls("chat.postMessage"))
	}
	if b := breathers[0].Args.Get("blocks"); !strings.Contains(b, "empathy_pause") || !strings.Contains(b, "not about you") {
		t.Errorf("the breather: %s", b)
	}
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Args.Get("channel") == "D"+otherAgent {
			t.Errorf("the other agent got a DM: %s", c.Args.Get("text"))
		}
	}
	mine := h.homeOf(agent, "EvHomeLoaded")
	if !strings.Contains(mine, "Your last 4 working hours") || !strings.Contains(mine, "Tense threads: *5*") || !strings.Contains(mine, "messages with swearing: *5*") {
		t.Errorf("the loaded agent's App Home: %s", mine)
	}
	if !strings.Contains(mine, "Does the coaching help?") || !strings.Contains(mine, "With a nudge: de-escalated") {
		t.Errorf("the App Home lacks what the coaching changed: %s", mine)
	}
	theirs := h.homeOf(otherAgent, "EvHomeCalm")
	if !strings.Contains(theirs, "No tense threads") || strings.Contains(theirs, "Tense threads: *5*") || strings.Contains(theirs, agent) {
		t.Errorf("the calm agent's App Home shows someone else's figures: %s", theirs)
	}
	// Team figures are for teams of five or more: two agents get none.
	if out := h.command(agent, "stats"); !strings.Contains(out, "shown for teams of 5 or more") {
		t.Errorf("stats with two agents: %s", out)
	}
}

// Issue 26: with two agents on call, a paused one gets no on-call nudge
// while the other does.
func TestEndToEndPausedAgentGetsNoNewWork(t *testing.T) {
	fake := newFake(t)
	fake.AddUser(slackfake.User{ID: otherAgent, Name: "Lee"})
	h := startBotOn(t, fake, func(c *Config) { c.Agents = []string{agent, otherAgent} })
	if out := h.command(agent, "oncall @dana @lee"); !strings.Contains(out, "are now on call") {
		t.Fatalf("oncall: %s", out)
	}
	if out := h.command(otherAgent, "pause 30m"); !strings.Contains(out, "Paused for 30 min") {
		t.Fatalf("pause: %s", out)
	}
	for i, thread := range []string{"1700004000.000100", "1700004000.000200"} {
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: thread, Text: angry})
		calls, ok := h.fake.WaitCalls("chat.postEphemeral", i+1, 5*time.Second)
		if !ok {
			t.Fatalf("no on-call nudge for thread %d", i+1)
		}
		if to := calls[i].Args.Get("user"); to != agent {
			t.Errorf("thread %d: the nudge went to %s, want the agent who is not paused", i+1, to)
		}
	}
	if out := h.command(otherAgent, "pause off"); !strings.Contains(out, "lifted") {
		t.Errorf("pause off: %s", out)
	}
}

// Issue 26: a triage card names who could take the thread, the one with
// the calmer afternoon first.
func TestEndToEndTriageCardNamesTheLeastLoaded(t *testing.T) {
	const triage = "CTRIAGE"
	fake := newFake(t)
	fake.AddUser(slackfake.User{ID: otherAgent, Name: "Lee"})
	fake.AddChannel(triage, "support-triage")
	h := startBotOn(t, fake, func(c *Config) {
		c.Agents = []string{agent, otherAgent}
		c.TriageChannel = triage
	})
	// The first agent's afternoon: hostile messages in a thread they own.
	owned := "1700005000.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: owned, Text: "Hi, looking into it."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: owned, Text: hostileMsg})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700005000.000200", Text: angry}) // nobody owns it
	var blocks string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && blocks == ""; time.Sleep(50 * time.Millisecond) {
		for _, c := range h.fake.Calls("chat.postMessage") {
			if c.Args.Get("channel") == triage {
				blocks = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(c.Args.Get("blocks"))
			}
		}
	}
	want := "Could take it: <@" + otherAgent + "> has had a calmer afternoon; then <@" + agent + ">"
	if !strings.Contains(blocks, want) {
		t.Errorf("the triage card does not name the least-loaded first (want %q): %s", want, blocks)
	}
}

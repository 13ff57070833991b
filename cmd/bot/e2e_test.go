package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/redistest"
	"empathybot/internal/slackio"
	"empathybot/internal/slackio/slackfake"
)

const (
	chSupport = "CSUPPORT"
	chOther   = "COTHER"
	customer  = "UCUSTOMER"
	agent     = "UAGENT"
)

// harness runs the real bot (runBot) against slackfake and Redis at REDIS_URL
// (the embedded one when unset), with a key prefix of its own.
type harness struct {
	t    testing.TB
	fake *slackfake.Server
	stop context.CancelFunc
	done chan error

	mu      sync.Mutex
	cond    *sync.Cond
	handled map[string]int

	// skew moves the bot's clock (Bot.Now) forward, in nanoseconds, for
	// tests of what expires (caches, cooldowns).
	skew atomic.Int64
}

func startBot(t testing.TB, tweak func(*Config)) *harness {
	t.Helper()
	return startBotOn(t, newFake(t), tweak)
}

// startBotOn is startBot on a local Slack the test prepared.
func startBotOn(t testing.TB, fake *slackfake.Server, tweak func(*Config)) *harness {
	t.Helper()
	fake.SetPingInterval(200 * time.Millisecond)
	fake.AddChannel(chOther, "random")
	cfg := Config{
		BotToken: fake.BotToken, AppToken: fake.AppToken, APIURL: fake.APIURL(),
		RedisURL: os.Getenv("REDIS_URL"), RedisPrefix: testPrefix(t),
		Channels: []string{chSupport}, Agents: []string{agent}, Nudge: "ephemeral", Threshold: coach.DefaultThreshold,
		Cooldown: time.Minute, Retention: time.Hour, HTTPAddr: "off", PingTimeout: time.Second,
		ResponseReminder: time.Hour, FollowupAfter: time.Hour, ReminderRepeats: 3,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	noteRedis(cfg.RedisURL)
	h := &harness{t: t, fake: fake, done: make(chan error, 1), handled: map[string]int{}}
	h.cond = sync.NewCond(&h.mu)
	ctx, stop := context.WithCancel(context.Background())
	h.stop = stop
	// Every end-to-end test checks its own logs, at debug level, once the bot
	// has stopped: no token and no message text, ever.
	logs := &lockedBuffer{}
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn // a benchmark measures the bot, not the test's log capture
	}
	t.Cleanup(func() {
		checkLogs(t, logs.String(), fake)
		if t.Failed() {
			// The bot's last log lines, to tell what went wrong (E2E_LOGS=1: all).
			lines := strings.Split(logs.String(), "\n")
			if os.Getenv("E2E_LOGS") == "" && len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Log("bot logs:\n" + strings.Join(lines, "\n"))
		}
	})
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	go func() {
		h.done <- runBot(ctx, cfg, log, hooks{now: func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }, ready: func(b *slackio.Bot) {
			b.AfterEvent = func(id string) {
				h.mu.Lock()
				h.handled[id]++
				h.cond.Broadcast()
				h.mu.Unlock()
			}
		}})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-h.done:
		case <-time.After(6 * time.Second):
			t.Error("bot did not stop within 6s")
		}
	})
	if !fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("bot did not connect")
	}
	return h
}

// waitHandled waits until eventID was handled n times.
func (h *harness) waitHandled(eventID string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	t := time.AfterFunc(5*time.Second, func() { h.mu.Lock(); h.cond.Broadcast(); h.mu.Unlock() })
	defer t.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.handled[eventID] < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("event %s handled %d times, want %d", eventID, h.handled[eventID], n)
		}
		h.cond.Wait()
	}
}

// say sends a message and waits until the bot has acked it.
func (h *harness) say(m slackfake.Message) (envelopeID, eventID string) {
	h.t.Helper()
	remember(m.Text)
	env, ev, err := h.fake.SendMessage(m)
	if err != nil {
		h.t.Fatal(err)
	}
	// Acked at once, or (an author the bot must look up first) on Slack's
	// redelivery 3 s later.
	if _, ok := h.fake.WaitEventAck(ev, 6*time.Second); !ok {
		h.t.Fatalf("event %s not acked", ev)
	}
	return env, ev
}

func (h *harness) sayHandled(m slackfake.Message) (string, string) {
	h.t.Helper()
	env, ev := h.say(m)
	h.waitHandled(ev, 1)
	return env, ev
}

// expectNudgeInAssignedThread has an agent open a thread, a customer answer it
// angrily, and fails with msg unless the agent is nudged: the bot still works.
func (h *harness) expectNudgeInAssignedThread(thread, msg string) {
	h.t.Helper()
	h.expectNudge(thread, agent, customer, msg)
}

// expectNudge has opener start a thread and writer answer it angrily, and
// fails with msg unless the first nudge goes to opener.
func (h *harness) expectNudge(thread, opener, writer, msg string) {
	h.t.Helper()
	h.sayHandled(slackfake.Message{Channel: chSupport, User: opener, TS: thread, Text: "Hi, looking into it."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: writer, ThreadTS: thread, Text: angry})
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok || calls[0].Args.Get("user") != opener {
		h.t.Errorf("%s: %v", msg, calls)
	}
}

const angry = "This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous."

func TestEndToEndNudgesTheAssignedAgentOnce(t *testing.T) {
	h := startBot(t, nil)
	thread := "1700000000.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: thread, Text: "Hi, how do I export invoices?"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: thread, Text: "Hi Sam! Settings → Billing → Export."})
	// Slack markup is not tone: a mention, a pasted log line in capitals and
	// bold text must not read as shouting, failure or swearing.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread,
		Text: "<@" + agent + "> quick question: what does this log line mean? `FATAL ERROR: SYNC FAILED AGAIN`"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "Could you check this for me *now*? <@" + agent + ">"})
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Fatalf("calm conversation produced %d private messages", n)
	}
	env, _ := h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok {
		t.Fatal("no nudge")
	}
	c := calls[0]
	if c.Args.Get("user") != agent || c.Args.Get("channel") != chSupport || c.Args.Get("thread_ts") != thread {
		t.Errorf("nudge went to user %q channel %q thread %q", c.Args.Get("user"), c.Args.Get("channel"), c.Args.Get("thread_ts"))
	}
	blocks := c.Args.Get("blocks")
	// The customer wrote earlier in the thread and nobody answered, so the
	// nudge answers the trajectory (issue 15), over the words that show it:
	// their having asked before, rather than the problem still being there.
	for _, want := range []string{"frustrated", "Opening line", coach.Describe(coach.Trajectory), "third time"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("nudge blocks lack %q: %s", want, blocks)
		}
	}
	// Slack redelivers the same event on another envelope: no second nudge.
	env2, err := h.fake.Redeliver(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env2, 2*time.Second); !ok {
		t.Fatal("redelivery not acked")
	}
	_, ev := h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: "1700000001.000100", Text: "thanks!"})
	h.waitHandled(ev, 1)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("after a redelivery: %d nudges, want 1", n)
	}
	// Another frustrated message in the same thread within the cooldown: no second nudge.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "Hello?? Still nothing. This is unacceptable."})
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("within the cooldown: %d nudges, want 1", n)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("the bot posted %d public messages; it must never post publicly", n)
	}
}

func TestEndToEndIgnoresWhatItShould(t *testing.T) {
	h := startBot(t, func(c *Config) { c.Channels = []string{chSupport} })
	thread := "1700000100.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hello, how can we help?"})
	cases := []slackfake.Message{
		{Channel: chOther, User: customer, ThreadTS: thread, Text: angry},                               // unwatched channel
		{Channel: chSupport, User: "UOTHERBOT", BotID: "B123", ThreadTS: thread, Text: angry},           // another bot
		{Channel: chSupport, User: "UBOT", ThreadTS: thread, Text: angry},                               // ourselves
		{Channel: chSupport, User: customer, SubType: "message_changed", ThreadTS: thread, Text: angry}, // an edit
		{Channel: chSupport, User: customer, SubType: "channel_join", ThreadTS: thread, Text: angry},
	}
	for _, m := range cases {
		h.say(m)
	}
	// A message that is handled afterwards proves the ignored ones were processed first.
	_, ev := h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "ok thanks"})
	h.waitHandled(ev, 1)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d nudges for messages that must be ignored", n)
	}
	// thread_broadcast is a person speaking: it counts.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, SubType: "thread_broadcast", ThreadTS: thread, Text: angry})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Error("thread_broadcast from a frustrated customer got no nudge")
	}
}

func TestEndToEndReviewsTheAgentsReply(t *testing.T) {
	h := startBot(t, nil)
	thread := "1700000200.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, Dana here."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: thread, Text: "Please calm down."})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 2, 5*time.Second)
	if !ok {
		t.Fatalf("want a nudge and a review, got %d private messages", len(calls))
	}
	if !strings.Contains(calls[1].Args.Get("blocks"), "calm down") || calls[1].Args.Get("user") != agent {
		t.Errorf("review: %v", calls[1].Args)
	}
}

func TestEndToEndSlashCommands(t *testing.T) {
	h := startBot(t, nil)
	for _, c := range []struct{ text, want string }{ // in order: oncall set, then shown
		{"help", "/empathy check"},
		{"check We apologise for any inconvenience.", "script"},
		{"check I can see you've had to chase this, that's on us. I'll fix it and update you by 3pm.", "Looks good"},
		{"analyze " + angry, "frustrated"},
		{"tips waiting", "waiting"},
		{"frobnicate", "I don't know `frobnicate`"},
		{"snooze 2h", "paused"},
		{"snooze forever", "how long"},
		{"oncall @dana", "<@UAGENT> is now on call"}, // as typed; Slack escapes it per the manifest
		{"oncall", "<@UAGENT> is on call"},
	} {
		if out := h.command(agent, c.text); !strings.Contains(out, c.want) {
			t.Errorf("/empathy %s: %s\nwant it to contain %q", c.text, out, c.want)
		}
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("commands posted %d public messages", n)
	}
	// oncall and snooze touch Redis, so they are acked empty at once and
	// answered through the response_url.
	if n := len(h.fake.Calls("response_url")); n != 4 {
		t.Errorf("%d replies through response_url, want 4 (snooze ×2, oncall ×2)", n)
	}
}

func TestEndToEndSnoozeAndOnCall(t *testing.T) {
	h := startBot(t, nil)
	// Unassigned thread: the on-call agent gets the nudge.
	if _, err := h.fake.SlashCommand(agent, chSupport, "/empathy", "oncall me", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700000300.000100", Text: angry})
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok || calls[0].Args.Get("user") != agent {
		t.Fatalf("on-call agent not nudged: %v", calls)
	}
	// Snoozed: no nudge.
	if _, err := h.fake.SlashCommand(agent, chSupport, "/empathy", "snooze 1h", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700000301.000100", Text: angry})
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("snoozed agent got nudged: %d nudges", n)
	}
}

func TestEndToEndSurvivesBadInput(t *testing.T) {
	h := startBot(t, nil)
	bad := []string{
		`{"envelope_id":"bad-1","type":"events_api","payload":"not an object"}`,
		`{"envelope_id":"bad-2","type":"a_type_from_the_future","payload":{}}`,
		`{"envelope_id":"bad-3","type":"events_api","payload":{"type":"event_callback","event_id":"EvBad","event":{"type":"message","channel":42}}}`,
	}
	for _, b := range bad {
		if err := h.fake.SendRaw([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.fake.SendRaw([]byte(`this is not json`)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bad-1", "bad-2", "bad-3"} {
		if _, ok := h.fake.WaitAck(id, 3*time.Second); !ok {
			t.Errorf("malformed envelope %s not acked", id)
		}
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700000400.000100", Text: strings.Repeat("still not working!!! ", 2000)[:40000]})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700000401.000100", Text: "bad \xff\xfe utf8 \xc3 still broken"})
	// The bot is still alive and handling: an assigned frustrated thread is nudged.
	h.expectNudgeInAssignedThread("1700000402.000100", "no nudge after bad input")
}

func TestEndToEndSurvivesConnectionTrouble(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(*slackfake.Server) error
	}{
		{"refresh_requested", func(f *slackfake.Server) error { return f.Disconnect("refresh_requested") }},
		{"warning", func(f *slackfake.Server) error { return f.Disconnect("warning") }},
		{"dropped socket", func(f *slackfake.Server) error { f.DropSockets(); return nil }},
		// No pings for longer than the ping timeout (1 s here): the bot must
		// notice the dead link by itself and open a new one.
		{"missing pings", func(f *slackfake.Server) error { f.StopPings(); return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startBot(t, nil)
			if err := tc.break_(h.fake); err != nil {
				t.Fatal(err)
			}
			if !h.fake.WaitOpened(2, 10*time.Second) || !h.fake.WaitConnections(1, 5*time.Second) {
				t.Fatalf("no reconnect: %d connections opened", h.fake.Opened())
			}
			h.expectNudgeInAssignedThread("1700000500.000100", "no nudge after reconnecting")
		})
	}
}

func TestEndToEndWaitsOutRateLimits(t *testing.T) {
	h := startBot(t, nil)
	h.fake.RateLimit("chat.postEphemeral", time.Second)
	thread := "1700000600.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "hello"})
	h.say(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 10*time.Second); !ok {
		t.Fatal("nudge dropped after a 429")
	}
	if n := len(h.fake.Calls("chat.postEphemeral:429")); n == 0 {
		t.Error("the fake never answered 429; the test proved nothing")
	}
}

func TestEndToEndStopsPromptly(t *testing.T) {
	h := startBot(t, nil)
	start := time.Now()
	h.stop()
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("clean stop returned %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("bot did not stop within 5s")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v", d)
	}
}

func TestInvalidAuthIsAnErrorNotARetryLoop(t *testing.T) {
	fake, err := slackfake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := Config{BotToken: "xoxb-wrong", AppToken: fake.AppToken, APIURL: fake.APIURL(), HTTPAddr: "off",
		Threshold: coach.DefaultThreshold, Cooldown: time.Minute, Retention: time.Hour}
	done := make(chan error, 1)
	go func() {
		done <- runBot(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), hooks{})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, slackio.ErrInvalidAuth) || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
			t.Errorf("err = %v, want invalid auth naming SLACK_BOT_TOKEN", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("invalid_auth did not end the run")
	}
}

// A Socket Mode refusal that retrying cannot mend (the bot token given as
// the app token: Slack answers not_allowed_token_type) stops the bot with
// Slack's error and the variable to fix, and is counted by its name; it was
// retried forever, logged only as connection_error.
func TestSocketModeRefusalIsNamed(t *testing.T) {
	fake, err := slackfake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	cfg := Config{BotToken: fake.BotToken, AppToken: fake.BotToken, APIURL: fake.APIURL(), HTTPAddr: "off",
		Threshold: coach.DefaultThreshold, Cooldown: time.Minute, Retention: time.Hour}
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- runBot(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)), hooks{}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not_allowed_token_type") || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
			t.Errorf("err = %v, want Slack's not_allowed_token_type naming SLACK_APP_TOKEN", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not_allowed_token_type did not end the run")
	}
	if !strings.Contains(logs.String(), `"slack_error":"not_allowed_token_type"`) {
		t.Errorf("the log does not name Slack's error:\n%s", logs.String())
	}
}

// A Redis that refuses the password, or cannot be reached, stops the bot at
// start-up with one line that names REDIS_URL and never the password; it
// used to start anyway and log the failure over and over (58-72 lines in
// 10 s).
func TestRedisRefusalStopsStartUp(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "right-one")
	fake, err := slackfake.New()
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	for _, c := range []struct {
		url, want string
	}{
		{"redis://:wr0ng-pass@" + srv.Addr() + "/0", "refuses the credentials"},
		{"redis://:wr0ng-pass@127.0.0.1:" + strconv.Itoa(redistest.FreePort(t)) + "/0", "cannot reach Redis"},
	} {
		cfg := Config{BotToken: fake.BotToken, AppToken: fake.AppToken, APIURL: fake.APIURL(), HTTPAddr: "off", RedisURL: c.url,
			Threshold: coach.DefaultThreshold, Cooldown: time.Minute, Retention: time.Hour, RedisStartupWait: 2 * time.Second}
		var logs lockedBuffer
		start := time.Now()
		err := runBot(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)), hooks{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "wr0ng") {
			t.Errorf("%s: err = %v, want %q naming REDIS_URL without the password", c.want, err, c.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: start-up took %v to give up", c.want, took)
		}
		if n := strings.Count(logs.String(), "\n"); n > 3 || strings.Contains(logs.String(), "wr0ng") {
			t.Errorf("%s: %d log lines:\n%s", c.want, n, logs.String())
		}
		if len(fake.Calls("apps.connections.open")) > 0 {
			t.Errorf("%s: the bot connected to Slack without its Redis", c.want)
		}
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
	tests := []struct{ name, key, val, want string }{
		{"missing bot token", "SLACK_BOT_TOKEN", "", "SLACK_BOT_TOKEN"},
		{"wrong bot token", "SLACK_BOT_TOKEN", "xapp-1", "SLACK_BOT_TOKEN"},
		{"missing app token", "SLACK_APP_TOKEN", "", "SLACK_APP_TOKEN"},
		{"nudge", "EMPATHY_NUDGE", "shout", "EMPATHY_NUDGE"},
		{"threshold", "EMPATHY_THRESHOLD", "7", "EMPATHY_THRESHOLD"},
		{"threshold not a number", "EMPATHY_THRESHOLD", "high", "EMPATHY_THRESHOLD"},
		{"cooldown", "EMPATHY_COOLDOWN", "-5m", "EMPATHY_COOLDOWN"},
		{"retention", "EMPATHY_RETENTION", "forever", "EMPATHY_RETENTION"},
		{"channels", "EMPATHY_CHANNELS", "support,random", "EMPATHY_CHANNELS"},
		{"api url", "SLACK_API_URL", "http://localhost:1/api", "SLACK_API_URL"},
		{"http addr", "EMPATHY_HTTP_ADDR", "8080", "EMPATHY_HTTP_ADDR"},
		{"redis url scheme", "REDIS_URL", "http://localhost:6379", "REDIS_URL"},
		{"redis url port", "REDIS_URL", "redis://localhost:notaport", "REDIS_URL"},
		{"cluster addrs", "REDIS_CLUSTER_ADDRS", "localhost", "REDIS_CLUSTER_ADDRS"},
		{"repeats", "EMPATHY_REMINDER_REPEATS", "1000", "EMPATHY_REMINDER_REPEATS"},
		{"repeats not a number", "EMPATHY_REMINDER_REPEATS", "many", "EMPATHY_REMINDER_REPEATS"},
		{"retention shorter than follow-ups", "EMPATHY_RETENTION", "2h", "EMPATHY_RETENTION"},
		{"reminder", "EMPATHY_RESPONSE_REMINDER", "0s", "EMPATHY_RESPONSE_REMINDER"},
		{"threshold NaN", "EMPATHY_THRESHOLD", "NaN", "EMPATHY_THRESHOLD"},
		{"threshold huge", "EMPATHY_THRESHOLD", "1e309", "EMPATHY_THRESHOLD"},
		{"cooldown huge", "EMPATHY_COOLDOWN", "9999999h", "EMPATHY_COOLDOWN"},
		{"retention tiny", "EMPATHY_RETENTION", "1ns", "EMPATHY_RETENTION"},
		{"follow-up tiny", "EMPATHY_FOLLOWUP_AFTER", "1ms", "EMPATHY_FOLLOWUP_AFTER"},
		{"log level", "LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"agent group", "EMPATHY_AGENT_GROUP", "support-team", "EMPATHY_AGENT_GROUP"},
		{"agents", "EMPATHY_AGENTS", "dana", "EMPATHY_AGENTS"},
		{"prefix with spaces", "EMPATHY_REDIS_PREFIX", "my prefix:", "EMPATHY_REDIS_PREFIX"},
		{"prefix with braces", "EMPATHY_REDIS_PREFIX", "{x}:", "EMPATHY_REDIS_PREFIX"},
		{"prefix too long", "EMPATHY_REDIS_PREFIX", strings.Repeat("p", 200), "EMPATHY_REDIS_PREFIX"},
		{"http port", "EMPATHY_HTTP_ADDR", "localhost:99999", "EMPATHY_HTTP_ADDR"},
		{"api url not http", "SLACK_API_URL", "ftp://slack.com/api/", "SLACK_API_URL"},
		{"token with spaces", "SLACK_BOT_TOKEN", "xoxb- 123", "SLACK_BOT_TOKEN"},
		{"threshold one", "EMPATHY_THRESHOLD", "1", "EMPATHY_THRESHOLD"},
		{"api url plain http", "SLACK_API_URL", "http://slack.example.com/api/", "SLACK_API_URL must be https"},
		{"redis db", "REDIS_URL", "redis://localhost:6379/99", "REDIS_URL"},
		{"business hours", "EMPATHY_BUSINESS_HOURS", "weekdays 9-5", "EMPATHY_BUSINESS_HOURS"},
		{"business hours zone", "EMPATHY_BUSINESS_HOURS", "Mon-Fri 09:00-17:00 Europe/Atlantis", "EMPATHY_BUSINESS_HOURS"},
		{"triage channel", "EMPATHY_TRIAGE_CHANNEL", "#triage", "EMPATHY_TRIAGE_CHANNEL"},
		{"misspelled variable", "EMPATHY_THRESHHOLD", "0.7", "EMPATHY_THRESHHOLD is not a setting of empathybot (did you mean EMPATHY_THRESHOLD?)"},
		{"unknown variable", "EMPATHY_NUDGES", "dm", "EMPATHY_NUDGES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{}
			for k, v := range base {
				env[k] = v
			}
			env[tt.key] = tt.val
			_, err := loadConfig(env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s=%q: err = %v, want one naming %s", tt.key, tt.val, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "xoxb-1") {
				t.Errorf("error leaks a token: %v", err)
			}
		})
	}
	env := Env{}
	for k, v := range base {
		env[k] = v
	}
	if cfg, err := loadConfig(env); err != nil {
		t.Errorf("valid config refused: %v", err)
	} else if cfg.Threshold != coach.DefaultThreshold {
		t.Errorf("EMPATHY_THRESHOLD unset: threshold %v, want the coach's default %v", cfg.Threshold, coach.DefaultThreshold)
	} else if cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("EMPATHY_HTTP_ADDR unset: %q, want this machine only (127.0.0.1:8080)", cfg.HTTPAddr)
	}
	for _, u := range []string{"http://127.0.0.1:9/api/", "http://localhost:9/api/", "http://[::1]:9/api/"} {
		env["SLACK_API_URL"] = u
		if _, err := loadConfig(env); err != nil {
			t.Errorf("SLACK_API_URL=%s (loopback) refused: %v", u, err)
		}
	}
	delete(env, "SLACK_API_URL")
	// Lists take spaces after commas.
	env["EMPATHY_CHANNELS"], env["EMPATHY_AGENTS"] = "C0123, C0456 ,", " U01, W02"
	if cfg, err := loadConfig(env); err != nil || strings.Join(cfg.Channels, "|") != "C0123|C0456" || strings.Join(cfg.Agents, "|") != "U01|W02" {
		t.Errorf("lists with spaces: %v %v %v", cfg.Channels, cfg.Agents, err)
	}
	for _, u := range []string{"redis://:secret@localhost:6379/2", "rediss://user:pw@redis.example.com:6380/0"} {
		env["REDIS_URL"] = u
		if _, err := loadConfig(env); err != nil {
			t.Errorf("REDIS_URL=%s refused: %v", u, err)
		}
	}
}

// EMPATHY_AGENT_GROUP: members of the user group are agents (fetched once
// and cached), everyone else is a customer, for messages and for /empathy.
func TestEndToEndAgentGroup(t *testing.T) {
	const member, outsider = "UGROUPAGENT", "UOUTSIDER"
	fake := newFake(t)
	fake.SetUsergroup("SAGENTS", []string{member})
	fake.AddUser(slackfake.User{ID: member, Name: "Gus"})
	fake.AddUser(slackfake.User{ID: outsider, Name: "Olive"}) // same workspace, not in the group
	h := startBotOn(t, fake, func(c *Config) { c.Agents = nil; c.AgentGroup = "SAGENTS" })
	h.expectNudge("1700000970.000100", member, outsider, "the group member was not nudged about the outsider")
	if out := h.command(member, "help"); !strings.Contains(out, "/empathy check") {
		t.Errorf("group member's /empathy help: %s", out)
	}
	if out := h.command(outsider, "help"); out != "Sorry, this command isn't available to you here." {
		t.Errorf("outsider's /empathy help: %s", out)
	}
	if n := len(h.fake.Calls("usergroups.users.list")); n != 1 {
		t.Errorf("the group was fetched %d times, want once (cached)", n)
	}
}

// Issue 15, end to end: a frustrated customer writing in a language the coach
// does not read gets no nudge and no random score; the metric counts the
// message by language, and /empathy analyze says it is not scored. A calm
// problem report in English gets no nudge either.
func TestEndToEndUnscoredLanguageAndProblemReportNudgeNobody(t *testing.T) {
	addr := freeAddr(t)
	h := startBot(t, func(c *Config) { c.HTTPAddr = addr })
	waitStatus(t, "http://"+addr+"/readyz", 200)
	thread := "1700007000.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread,
		Text: "Es la tercera vez que pregunto. Nadie nos responde y la exportación sigue sin funcionar. ¡Es ridículo!"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: "1700007001.000100",
		Text: "Hello, the export job fails with error 413 on every run and the pipeline is broken."})
	time.Sleep(300 * time.Millisecond) // a nudge would be on its way by now
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d nudges for an unscored message and a calm problem report, want 0", n)
	}
	out := scrape(t, addr)
	if !strings.Contains(out, `empathy_unscored_messages_total{language="es"} 1`) {
		t.Errorf("/metrics lacks the unscored Spanish message:\n%s", out)
	}
	if reply := h.command(agent, "analyze Das funktioniert schon wieder nicht, wir warten seit drei Tagen."); !strings.Contains(reply, "Not scored") || !strings.Contains(reply, "de") {
		t.Errorf("/empathy analyze of a German message: %q", reply)
	}
	// A weak cue is context, not something the customer shows.
	if reply := h.command(agent, "analyze IIRC the AMD build uses CIDER"); !strings.Contains(reply, "weak sign: they are shouting, maybe (“CIDER”)") {
		t.Errorf("/empathy analyze of a capitalised name: %q", reply)
	}
}

// A customer who writes again with nobody answering is escalating (issue
// 15): "any update?" is only a weak cue alone, and nudges nobody; the same
// line as the second unanswered message nudges the agent, and the nudge
// names the thread's trajectory. Had the first message nudged, the single
// nudge (the cooldown allows one) would name no trajectory.
func TestEndToEndTheThreadRaisesAFollowUp(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	thread := "1700009300.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi Sam, I'm looking into the export for you."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "any update?"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "any update?"})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok {
		t.Fatal("no nudge for the second unanswered follow-up")
	}
	if c := calls[0]; c.Args.Get("user") != agent || !strings.Contains(c.Args.Get("blocks"), coach.Describe(coach.Trajectory)) {
		t.Errorf("nudge to %q does not name the trajectory: %s", c.Args.Get("user"), c.Args.Get("blocks"))
	}
	if calls, _ := h.fake.WaitCalls("chat.postEphemeral", 2, 500*time.Millisecond); len(calls) != 1 {
		t.Errorf("%d nudges, want 1", len(calls))
	}
}

// Slack shows no ephemeral message in a thread without replies (it answers
// ok and shows nothing): the on-call agent's nudge about a brand-new
// complaint goes beside the message, at channel level, with a link to it;
// once the thread has replies, nudges go in the thread.
func TestNudgeAboutANewComplaintIsSeen(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.command(agent, "oncall me")
	top := "1700008100.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: top, Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok {
		t.Fatalf("no visible nudge; invisible ones: %d", len(h.fake.Calls("chat.postEphemeral:invisible")))
	}
	if th := calls[0].Args.Get("thread_ts"); th != "" {
		t.Errorf("nudge posted in the reply-less thread %s", th)
	}
	if !strings.Contains(calls[0].Args.Get("blocks"), "p1700008100000100") {
		t.Errorf("the channel-level nudge does not link the message: %s", calls[0].Args.Get("blocks"))
	}
	// With a reply, the thread shows ephemerals: the next nudge goes there.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: top, Text: "Looking into it."})
	other := "1700008200.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: other, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: other, Text: angry})
	h.fake.WaitCalls("chat.postEphemeral", 3, 5*time.Second) // the first nudge, a review of the reply, this nudge
	var inThread []string
	for _, c := range h.fake.Calls("chat.postEphemeral") {
		if strings.Contains(c.Args.Get("blocks"), "sounds frustrated") {
			inThread = append(inThread, c.Args.Get("thread_ts"))
		}
	}
	if len(inThread) != 2 || inThread[1] != other {
		t.Errorf("nudges posted in threads %q, want the second in %s", inThread, other)
	}
	if n := len(h.fake.Calls("chat.postEphemeral:invisible")); n != 0 {
		t.Errorf("%d nudges nobody could see", n)
	}
}

// Real message events often carry team and no user_team, and in Enterprise
// Grid the team can be the organisation's E… ID. With no agent list and
// users.info failing, the bot still tells our people (team T0EMPATHY, or our
// organisation E0ORG) from a Slack Connect customer (TACME), and a /me
// message from the customer counts like any other.
func TestTeamsAsRealEventsCarryThem(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.EnterpriseID = "E0ORG"
	h := startBotOn(t, fake, func(c *Config) { c.Agents = nil })
	h.fake.FailWith("users.info", "user_not_found", 1000)
	grid := "1700008300.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: grid, UserTeam: "E0ORG", Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: grid, Text: angry})
	plain := "1700008400.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: plain, Text: "hello"}) // team only
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: plain, SubType: "me_message", Text: "is still waiting. Third time asking. Ridiculous."})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 2, 5*time.Second)
	if !ok {
		t.Fatalf("%d nudges, want 2 (our agent told from the customer by team, twice)", len(calls))
	}
	for _, c := range calls {
		if c.Args.Get("user") != agent {
			t.Errorf("a nudge went to %s", c.Args.Get("user"))
		}
	}
}

// usergroups.users.list is Tier 2 (about 20 calls a minute): when it fails,
// the bot does not call it again on every message, and while it waits no
// lock holds up the other lookups; nobody unknown becomes an agent.
func TestAgentGroupFailureBacksOff(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.SetUsergroup("SAGENTS", []string{agent})
	fake.FailWith("usergroups.users.list", "internal_error", 1000) // the start-up fetch fails too
	h := startBotOn(t, fake, func(c *Config) { c.Agents = nil; c.AgentGroup = "SAGENTS" })
	for i := 0; i < 12; i++ {
		th := fmt.Sprintf("1700008500.%06d", (i+1)*100)
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: "Hi, a question about invoices."})
	}
	if n := len(h.fake.Calls("usergroups.users.list:internal_error")); n != 1 {
		t.Errorf("usergroups.users.list called %d times (at start-up, then in a burst of 12 messages), want 1 (then back off)", n)
	}
}

// Triage: a frustrated customer in a new thread, nobody on call → a card in
// the agents' triage channel with the cue, a link to the message and a
// Claim button; an agent's Claim replaces the card for everyone ("claimed
// by") and makes them the thread's owner: the reminder goes to them alone.
func TestTriageCardIsClaimed(t *testing.T) {
	t.Parallel()
	const lee, triage = "ULEE", "CTRIAGE"
	h := startBot(t, func(c *Config) {
		c.Agents = []string{agent, lee}
		c.TriageChannel = triage
		c.ResponseReminder = 2 * time.Second
		c.ReminderRepeats = 1
	})
	h.fake.AddUser(slackfake.User{ID: lee, Name: "Lee"})
	h.fake.AddChannel(triage, "support-triage")
	th := "1700008600.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: angry})
	var card *slackfake.Call
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Args.Get("channel") == triage {
			card = &c
		}
	}
	if card == nil {
		t.Fatalf("no triage card; calls: %v", h.fake.Calls("chat.postMessage"))
	}
	unjson := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	blocks := unjson.Replace(card.Args.Get("blocks"))
	for _, want := range []string{"has no owner", "<#" + chSupport + ">", "p1700008600000100", "empathy_claim", chSupport + "|" + th} {
		if !strings.Contains(blocks, want) {
			t.Errorf("the card lacks %q: %s", want, blocks)
		}
	}
	env, rid, err := h.fake.Click(slackfake.Action{User: lee, Channel: triage, ActionID: "empathy_claim", Value: chSupport + "|" + th, Container: "message"})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.WaitAck(env, 2*time.Second)
	body, ok := h.fake.WaitResponse(rid, 5*time.Second)
	if !ok || !strings.Contains(string(body), `"replace_original":true`) || !strings.Contains(unjson.Replace(string(body)), "<@"+lee+"> claimed") {
		t.Fatalf("the card was not replaced with who claimed it: %s", body)
	}
	posts, ok := h.fake.WaitCalls("chat.postMessage", 2, 8*time.Second) // the card, then the reminder
	if !ok {
		t.Fatal("no reminder")
	}
	if posts[1].Args.Get("channel") != "D"+lee {
		t.Errorf("the reminder went to %s, want the claimer", posts[1].Args.Get("channel"))
	}
	if more, _ := h.fake.WaitCalls("chat.postMessage", 3, time.Second); len(more) > 2 {
		t.Errorf("%d posts, want the card and one reminder", len(more))
	}
}

// When the agent group's list goes stale and Slack then fails to give it,
// the last good list is kept: a member stays an agent (and is nudged), and
// is not taken for a customer meanwhile.
func TestAgentGroupKeepsTheLastGoodList(t *testing.T) {
	t.Parallel()
	const member = "UGROUPAGENT"
	fake := newFake(t)
	fake.SetUsergroup("SAGENTS", []string{member})
	fake.AddUser(slackfake.User{ID: member, Name: "Gus"})
	h := startBotOn(t, fake, func(c *Config) { c.Agents = nil; c.AgentGroup = "SAGENTS" })
	first := "1700008700.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: member, TS: first, Text: "Hi, Gus here."})
	if n := len(h.fake.Calls("usergroups.users.list")); n != 1 {
		t.Fatalf("%d group lookups, want 1", n)
	}
	h.skew.Store(int64(6 * time.Minute)) // the five-minute cache is stale
	h.fake.FailWith("usergroups.users.list", "internal_error", 1000)
	h.expectNudge("1700008800.000100", member, customer, "the group member was not nudged with the last good list")
	if _, ok := h.fake.WaitCalls("usergroups.users.list:internal_error", 1, 2*time.Second); !ok {
		t.Error("the refresh never failed: the test proved nothing")
	}
}

// Issue 22: another customer's "+1, same error here" in a thread where a
// frustrated customer waits is read alone, not as that customer writing
// again: no second nudge ("I'm sorry you had to write again"), even with
// the cooldown out of the way.
func TestEndToEndAnotherCustomersPlusOneIsNoSecondAsk(t *testing.T) {
	h := startBot(t, func(c *Config) { c.Cooldown = time.Millisecond })
	thread := "1700000800.000100"
	h.expectNudgeInAssignedThread(thread, "no nudge for the first customer")
	time.Sleep(10 * time.Millisecond)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: "UOTHERCUSTOMER", ThreadTS: thread, Text: "+1, same error here"})
	if calls, _ := h.fake.WaitCalls("chat.postEphemeral", 2, 2*time.Second); len(calls) != 1 {
		t.Errorf("%d nudges; another customer's +1 read as the first customer writing again", len(calls))
	}
	// The first customer writing again is still their trajectory.
	time.Sleep(10 * time.Millisecond)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "any update?"})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 2, 5*time.Second); !ok {
		t.Error("no nudge when the waiting customer follows up")
	}
}

// Issue 22: a complaint in a language the coach does not read nudges
// nobody, and /empathy stats says it was not scored.
func TestEndToEndUnscoredMessagesShowInStats(t *testing.T) {
	h := startBot(t, nil)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: "1700000900.000100",
		Text: "Das ist jetzt das dritte Mal, dass ich frage. Niemand antwortet uns und es funktioniert immer noch nicht."})
	var stats string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if stats = h.command(agent, "stats"); strings.Contains(stats, "Not scored: *1*") {
			break
		}
	}
	if !strings.Contains(stats, "Not scored: *1*") {
		t.Errorf("stats do not count the unscored message:\n%s", stats)
	}
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d nudges for a message the coach cannot read", n)
	}
}

// Issue 24: a message whose words are only in its rich_text blocks (the
// text field empty, as some clients and apps send it) is read from the
// blocks: the angry customer is heard.
func TestEndToEndRichTextOnlyMessageIsRead(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	thread := "1700008800.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, looking into it."})
	blocks, _ := json.Marshal([]any{map[string]any{"type": "rich_text", "block_id": "b1", "elements": []any{
		map[string]any{"type": "rich_text_section", "elements": []any{
			map[string]any{"type": "text", "text": "This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous "},
			map[string]any{"type": "emoji", "name": "rage"},
		}},
	}}})
	remember("This is the third time I'm asking.")
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: "", Blocks: blocks})
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok || calls[0].Args.Get("user") != agent {
		t.Errorf("a frustrated message sent as blocks only: no nudge (%v)", calls)
	}
}

// Issue 24: an edit that turns a calm message into a complaint is read
// again (the agent is nudged); deleting a frustrated message the customer
// waits on stops its reminders.
func TestEndToEndEditsAndDeletions(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = 2 * time.Second })
	thread := "1700008900.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "Hi, looking into it."})
	calm := slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, TS: "1700008900.000200", Text: "Thanks, I'll check."}
	h.sayHandled(calm)
	remember(angry)
	env, _, err := h.fake.EditMessage(calm, angry)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 2*time.Second); !ok {
		t.Fatal("the edit was not acked")
	}
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok || calls[0].Args.Get("user") != agent {
		t.Fatalf("a calm message edited into a complaint: no nudge (%v)", calls)
	}
	// The complaint is deleted before its reminder (2 s) is due: no reminder.
	edited := calm
	edited.Text = angry
	env, _, err = h.fake.DeleteMessage(edited)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 2*time.Second); !ok {
		t.Fatal("the deletion was not acked")
	}
	h.noMoreDMs(thread, 0, 4*time.Second)
}

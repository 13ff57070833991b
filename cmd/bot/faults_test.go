package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"empathybot/internal/redistest"
	"empathybot/internal/slackio/slackfake"
)

// Faults, end to end: real slack-go against slackfake, real Redis. Each test
// says what it proves.

// assignedAngry opens n assigned threads from base and has the customer
// answer each angrily, without waiting for the bot; it returns the envelopes
// of the angry messages.
func (h *harness) assignedAngry(base int, n int) []string {
	h.t.Helper()
	var envs []string
	for i := 0; i < n; i++ {
		th := fmt.Sprintf("17000%05d.000100", base+i)
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
		remember(angry)
		env, _, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
		if err != nil {
			h.t.Fatal(err)
		}
		envs = append(envs, env)
	}
	return envs
}

// promptAcks fails unless every envelope was acked within limit: the ack
// never waits for Slack or Redis. (A generous bound: it tells "acked at once"
// from "acked after the 2 s Web API call", even under -race.)
func (h *harness) promptAcks(envs []string, limit time.Duration) {
	h.t.Helper()
	for _, e := range envs {
		a, ok := h.fake.WaitAck(e, 5*time.Second)
		if !ok {
			h.t.Errorf("envelope %s not acked", e)
		} else if a.Latency > limit {
			h.t.Errorf("envelope %s acked after %v, want < %v", e, a.Latency, limit)
		}
	}
}

// A socket dropped right after an envelope was sent: Slack redelivers the
// envelope on the new connection; the customer's agent is nudged exactly once.
func TestFaultSocketDroppedMidEnvelope(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	th := "1700007000.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
	remember(angry)
	env, ev, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.DropSockets()
	if !h.fake.WaitOpened(2, 10*time.Second) || !h.fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("no reconnect after the drop")
	}
	env2, err := h.fake.Redeliver(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env2, 3*time.Second); !ok {
		t.Fatal("redelivery not acked")
	}
	h.waitHandled(ev, 1)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Fatal("nudge lost with the socket")
	}
	if calls, twice := h.fake.WaitCalls("chat.postEphemeral", 2, time.Second); twice {
		t.Errorf("%d nudges for one event", len(calls))
	}
}

// Ten disconnect requests in a row: the bot reconnects each time and works.
func TestFaultDisconnectStorm(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	for i := 0; i < 10; i++ {
		reason := []string{"refresh_requested", "warning", "link_disabled"}[i%3]
		if err := h.fake.Disconnect(reason); err != nil {
			t.Fatal(err)
		}
		if !h.fake.WaitOpened(i+2, 10*time.Second) || !h.fake.WaitConnections(1, 5*time.Second) {
			t.Fatalf("no reconnect after disconnect %d (%s)", i+1, reason)
		}
	}
	h.expectNudgeInAssignedThread("1700007100.000100", "no nudge after a disconnect storm")
}

// 429 on every post for 5 s (ephemeral nudges and DM reminders alike): acks
// stay prompt, and every nudge and every reminder arrives once Slack
// recovers, one per thread.
func TestFaultRateLimitedForFiveSeconds(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = 2 * time.Second; c.ReminderRepeats = 1 })
	h.fake.RateLimit("chat.postEphemeral", 5*time.Second)
	h.fake.RateLimit("chat.postMessage", 5*time.Second)
	start := time.Now()
	envs := h.assignedAngry(7200, 5)
	h.promptAcks(envs, 250*time.Millisecond)
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 5, 30*time.Second)
	if !ok {
		var got []string
		for _, c := range calls {
			got = append(got, c.Args.Get("thread_ts"))
		}
		t.Fatalf("%d of 5 nudges after the rate limit (threads %v; %d answers of 429)", len(calls), got, len(h.fake.Calls("chat.postEphemeral:429")))
	}
	if first := calls[0].At.Sub(start); first < 4*time.Second {
		t.Errorf("a nudge got through after %v, inside the 5 s rate limit", first)
	}
	threads := map[string]bool{}
	for _, c := range calls {
		threads[c.Args.Get("thread_ts")] = true
	}
	if len(threads) != 5 {
		t.Errorf("nudges went to %d threads, want 5", len(threads))
	}
	if _, more := h.fake.WaitCalls("chat.postEphemeral", 6, time.Second); more {
		t.Error("a nudge was sent twice")
	}
	// The reminders came due inside the rate limit: each arrives once after it.
	for i := 0; i < 5; i++ {
		th := fmt.Sprintf("17000%05d.000100", 7200+i)
		dms := h.waitDMs(th, 1, 15*time.Second)
		if dms[0].At.Sub(start) < 4*time.Second {
			t.Errorf("a reminder got through inside the rate limit")
		}
	}
	if n := len(h.fake.Calls("chat.postMessage:429")); n == 0 {
		t.Error("no reminder ever met a 429; the test proved nothing about them")
	}
	h.fake.WaitCalls("chat.postMessage", 6, time.Second)
	if n := len(h.fake.Calls("chat.postMessage")); n != 5 {
		t.Errorf("%d reminders for 5 threads", n)
	}
}

// The on-call agent is not in the channel: Slack refuses the ephemeral
// (user_not_in_channel), and the nudge reaches them by DM instead, once.
func TestFaultAgentNotInChannelGetsTheNudgeByDM(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.fake.SetMembers(chSupport, customer) // the agent has not joined the support channel
	th := "1700007350.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	if n := len(h.fake.Calls("chat.postEphemeral:user_not_in_channel")); n != 1 {
		t.Fatalf("%d refused nudges, want 1", n)
	}
	dms := h.waitDMs(th, 1, 5*time.Second)
	if !strings.Contains(dms[0].Args.Get("blocks"), "sounds frustrated") {
		t.Errorf("the DM is not the nudge: %s", dms[0].Args.Get("blocks"))
	}
	h.noMoreDMs(th, 1, time.Second)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d ephemerals after the refusal, want none", n)
	}
}

// Slack refuses a nudge for good (channel_not_found): it is not retried,
// and the thread's cooldown is given back, so the next frustrated message
// nudges.
func TestFaultRefusedNudgeGivesTheCooldownBack(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.fake.FailWith("chat.postEphemeral", "channel_not_found", 1)
	th := "1700007360.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	if n := len(h.fake.Calls("chat.postEphemeral:channel_not_found")); n != 1 {
		t.Fatalf("%d refused nudges, want 1", n)
	}
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Fatalf("a refused nudge was retried: %d delivered", n)
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: "Hello?? Still broken. Ridiculous."})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Error("no nudge after a refused one: the cooldown was kept")
	}
}

// 500s from the Web API: the nudge is retried with backoff and delivered once.
func TestFaultServerErrors(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.fake.FailNext("chat.postEphemeral", 3)
	h.assignedAngry(7300, 1)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 10*time.Second); !ok {
		t.Fatal("nudge lost after 500s")
	}
	if n := len(h.fake.Calls("chat.postEphemeral:500")); n != 3 {
		t.Errorf("%d answers of 500, want 3", n)
	}
}

// Connections closed without an answer after the request went out (the
// client reads EOF): the bot cannot tell whether Slack showed the nudge,
// so an ephemeral one is never sent again, and is counted as unknown (a
// doubled nudge teaches agents to ignore the bot; a lost one is rare).
// This holds whether Slack dropped the call (DropNext) or carried it out
// and lost the answer (LoseAnswerNext): the client sees the same.
func TestFaultUnansweredEphemeralIsNotRepeated(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	h := startBot(t, func(c *Config) { c.HTTPAddr = addr })
	waitStatus(t, "http://"+addr+"/readyz", 200)
	h.fake.LoseAnswerNext("chat.postEphemeral", 1)
	h.assignedAngry(7350, 1)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 10*time.Second); !ok {
		t.Fatal("the nudge was never sent")
	}
	waitMetric(t, addr, `empathy_deliveries_total{kind="nudge",outcome="unknown"} 1`)
	time.Sleep(time.Second)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("Slack showed %d nudges, want exactly 1", n)
	}
	h.fake.DropNext("chat.postEphemeral", 1)
	h.assignedAngry(7360, 1)
	waitMetric(t, addr, `empathy_deliveries_total{kind="nudge",outcome="unknown"} 2`)
	if n := len(h.fake.Calls("chat.postEphemeral:dropped")); n != 1 {
		t.Errorf("%d calls dropped, want 1: the call was repeated", n)
	}
}

// A DM whose answer is lost after Slack posted it: the next attempt finds it
// by its metadata in the DM's history and sends nothing. A DM Slack never
// posted (the connection dropped first) is looked for, not found, and sent.
func TestFaultUnansweredDMIsLookedUpNotRepeated(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.Nudge = "dm" })
	h.fake.LoseAnswerNext("chat.postMessage", 1)
	th := "1700007370.000100"
	h.assignedAngry(7370, 1)
	h.waitDMs(th, 1, 10*time.Second)
	if _, ok := h.fake.WaitCalls("conversations.history", 1, 15*time.Second); !ok {
		t.Fatal("the retry did not look in the DM's history")
	}
	h.noMoreDMs(th, 1, 2*time.Second)

	h.fake.DropNext("chat.postMessage", 1)
	th2 := "1700007380.000100"
	h.assignedAngry(7380, 1)
	h.waitDMs(th2, 1, 15*time.Second)
	h.noMoreDMs(th2, 1, time.Second)
	if n := len(h.fake.Calls("chat.postMessage:dropped")); n != 1 {
		t.Errorf("%d dropped posts, want 1", n)
	}
}

// Slack answers after the client gave up (its timeout): the post happened.
// An ephemeral nudge is not sent again; a DM is found in the history.
func TestFaultLateAnswerIsNotRepeated(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.APITimeout = 500 * time.Millisecond })
	h.fake.AnswerLateNext("chat.postEphemeral", 1, 2*time.Second)
	h.assignedAngry(7390, 1)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 10*time.Second); !ok {
		t.Fatal("the nudge was never sent")
	}
	time.Sleep(3 * time.Second)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("Slack showed %d nudges, want exactly 1", n)
	}

	dm := startBot(t, func(c *Config) { c.APITimeout = 500 * time.Millisecond; c.Nudge = "dm" })
	dm.fake.AnswerLateNext("chat.postMessage", 1, 2*time.Second)
	th := "1700007395.000100"
	dm.assignedAngry(7395, 1)
	dm.waitDMs(th, 1, 10*time.Second)
	dm.noMoreDMs(th, 1, 4*time.Second)
}

// waitMetric waits until /metrics at addr shows line.
func waitMetric(t *testing.T, addr, line string) {
	t.Helper()
	out := scrape(t, addr)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, line); {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", line)
		}
		time.Sleep(50 * time.Millisecond)
		out = scrape(t, addr)
	}
}

// A slow Web API (2 s a call): acks stay prompt, nudges arrive.
func TestFaultSlowWebAPI(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.fake.SetDelay(2 * time.Second)
	envs := h.assignedAngry(7400, 6)
	h.promptAcks(envs, 250*time.Millisecond)
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 6, 20*time.Second); !ok {
		t.Fatalf("%d of 6 nudges with a slow Web API", len(calls))
	}
}

// startOnOwnRedis runs the bot on a redis-server of the test's own (so the
// test may break it), with /readyz, 3 s response reminders, one repeat.
func startOnOwnRedis(t *testing.T, extra ...string) (*harness, *redistest.Server, string) {
	srv := redistest.Start(t, extra...)
	addr := freeAddr(t)
	h := startBot(t, func(c *Config) {
		c.RedisURL = srv.URL()
		c.HTTPAddr = addr
		c.ResponseReminder = 3 * time.Second
		c.ReminderRepeats = 1
	})
	ready := "http://" + addr + "/readyz"
	waitStatus(t, ready, 200)
	return h, srv, ready
}

// Redis stopped (SIGTERM) or killed (SIGKILL) for 6 s, AOF with fsync
// always, while frustrated customers write: 5 in assigned threads, 5 new
// threads for the on-call agent. Decide, record, then ack: while Redis is
// away nothing is acked and /readyz says not ready; Slack (the fake, on
// Slack's schedule, compressed) redelivers; once Redis is back, every nudge
// and every reminder arrives exactly once, and what was acked before the
// outage (a reminder due during it) is not lost.
func TestFaultRedisStoppedWhileFrustratedMessagesArrive(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*redistest.Server)
	}{
		{"SIGTERM", (*redistest.Server).Stop},
		{"SIGKILL", (*redistest.Server).Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, srv, ready := startOnOwnRedis(t, "--appendonly", "yes", "--appendfsync", "always")
			h.fake.SetRedelivery(2*time.Second, 4*time.Second, 8*time.Second)
			x := "1700007500.000100"
			h.expectNudgeInAssignedThread(x, "no nudge before the outage") // its reminder falls due during the outage
			h.command(agent, "oncall me")
			var assigned []string
			for i := 0; i < 5; i++ {
				th := fmt.Sprintf("17000%05d.000100", 7510+i)
				h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
				assigned = append(assigned, th)
			}
			tc.stop(srv)
			waitStatus(t, ready, 503)
			var envs []string
			threads := append([]string(nil), assigned...)
			for i, th := range assigned {
				remember(angry)
				env, _, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
				if err != nil {
					t.Fatal(err)
				}
				envs = append(envs, env)
				top := fmt.Sprintf("17000%05d.000100", 7520+i)
				env, _, err = h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, TS: top, Text: angry})
				if err != nil {
					t.Fatal(err)
				}
				envs = append(envs, env)
				threads = append(threads, top)
			}
			time.Sleep(1500 * time.Millisecond)
			for _, e := range envs {
				if a, ok := h.fake.WaitAck(e, 0); ok {
					t.Errorf("envelope %s acked %v after it came, while Redis was away: its message could be lost", e, a.Latency)
				}
			}
			time.Sleep(6*time.Second - 1500*time.Millisecond)
			srv.Restart()
			waitStatus(t, ready, 200)
			// One nudge per thread: ten, plus the one before the outage.
			if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 11, 20*time.Second); !ok {
				t.Fatalf("%d of 11 nudges after Redis came back", len(calls))
			}
			for _, th := range append(threads, x) {
				h.waitDMs(th, 1, 15*time.Second)
			}
			time.Sleep(2 * time.Second)
			if n := len(h.fake.Calls("chat.postEphemeral")); n != 11 {
				t.Errorf("%d nudges, want exactly 11", n)
			}
			for _, th := range append(threads, x) {
				h.noMoreDMs(th, 1, 0)
			}
			if h.fake.Redelivered() == 0 {
				t.Error("nothing was redelivered: the test proved nothing")
			}
			t.Logf("%d envelopes unacked during the outage, %d redeliveries; 11 nudges and 11 reminders, each once", len(envs), h.fake.Redelivered())
		})
	}
}

// A slow Redis (DEBUG SLEEP 2): /readyz says not ready while it stalls; a
// message that came in meanwhile is acked once it is recorded, or, when
// its record step ran out of time, on Slack's redelivery; every nudge
// arrives. (The on-call agent is nudged, so the order in which the stalled
// messages are recorded does not matter.)
func TestFaultRedisSlow(t *testing.T) {
	t.Parallel()
	h, srv, ready := startOnOwnRedis(t, "--enable-debug-command", "yes")
	h.command(agent, "oncall me")
	rc := srv.Client()
	slept := make(chan error, 1)
	go func() { slept <- rc.Do(context.Background(), "DEBUG", "SLEEP", "2").Err() }()
	waitStatus(t, ready, 503)
	var envs []string
	remember(angry)
	for i := 0; i < 3; i++ {
		env, _, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, TS: fmt.Sprintf("17000%05d.000100", 7600+i), Text: angry})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	if err := <-slept; err != nil {
		t.Fatalf("DEBUG SLEEP: %v", err)
	}
	waitStatus(t, ready, 200)
	for _, e := range envs {
		if _, ok := h.fake.WaitAck(e, 2*time.Second); ok {
			continue
		}
		re, err := h.fake.Redeliver(e) // as Slack redelivers an unacked envelope
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := h.fake.WaitAck(re, 5*time.Second); !ok {
			t.Errorf("envelope %s not acked on its redelivery", e)
		}
	}
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 3, 10*time.Second); !ok {
		t.Fatalf("%d of 3 nudges after Redis stalled", len(calls))
	}
}

// A rolling 429 storm for 15 s (Retry-After 1 on every post): acks stay
// under a second, no nudge or reminder is given up because of the rate
// limit, and each arrives once, after the storm.
func TestFaultRateLimitStormForFifteenSeconds(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = 3 * time.Second; c.ReminderRepeats = 1 })
	start := time.Now()
	h.fake.RateLimitFor("chat.postEphemeral", 15*time.Second, time.Second)
	h.fake.RateLimitFor("chat.postMessage", 15*time.Second, time.Second)
	envs := h.assignedAngry(7250, 5)
	h.promptAcks(envs, time.Second)
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 5, 45*time.Second)
	if !ok {
		t.Fatalf("%d of 5 nudges after the storm (%d answers of 429)", len(calls), len(h.fake.Calls("chat.postEphemeral:429")))
	}
	if first := calls[0].At.Sub(start); first < 14*time.Second {
		t.Errorf("a nudge got through after %v, inside the storm", first)
	}
	for i := 0; i < 5; i++ {
		h.waitDMs(fmt.Sprintf("17000%05d.000100", 7250+i), 1, 30*time.Second)
	}
	time.Sleep(2 * time.Second)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 5 {
		t.Errorf("%d nudges, want exactly 5", n)
	}
	for i := 0; i < 5; i++ {
		h.noMoreDMs(fmt.Sprintf("17000%05d.000100", 7250+i), 1, 0)
	}
	if n := len(h.fake.Calls("chat.postEphemeral:429")); n < 10 {
		t.Errorf("only %d answers of 429: the storm was not felt", n)
	}
}

// A full Redis (maxmemory, noeviction): the record step is refused, so the
// envelopes are not acked and /readyz reports the refused writes; when
// memory is freed, Slack's redeliveries are recorded and each nudge arrives
// once, and the reminder scheduled before is delivered.
func TestFaultRedisFull(t *testing.T) {
	t.Parallel()
	h, srv, ready := startOnOwnRedis(t)
	h.fake.SetRedelivery(2*time.Second, 3*time.Second, 5*time.Second)
	rc := srv.Client()
	ctx := context.Background()
	x := "1700007700.000100"
	h.expectNudgeInAssignedThread(x, "no nudge before Redis filled up")
	used, err := rc.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var usedBytes int64
	for _, line := range slices.Collect(splitLines(used)) {
		fmt.Sscanf(line, "used_memory:%d", &usedBytes)
	}
	if usedBytes == 0 {
		t.Fatal("no used_memory in INFO")
	}
	var envs []string
	for i := 0; i < 2; i++ {
		th := fmt.Sprintf("17000%05d.000100", 7701+i)
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
	}
	rc.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	rc.ConfigSet(ctx, "maxmemory", fmt.Sprint(usedBytes/2))
	for i := 0; i < 2; i++ {
		th := fmt.Sprintf("17000%05d.000100", 7701+i)
		remember(angry)
		env, _, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	waitStatus(t, ready, 503)
	for _, e := range envs {
		if _, ok := h.fake.WaitAck(e, time.Second); ok {
			t.Errorf("envelope %s acked while Redis refused to record it", e)
		}
	}
	rc.ConfigSet(ctx, "maxmemory", "0")
	waitStatus(t, ready, 200)
	if len(h.dmsAbout(x)) == 0 {
		h.waitDMs(x, 1, 15*time.Second)
	}
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 3, 15*time.Second); !ok {
		t.Errorf("%d nudges; want the 2 whose messages came while Redis was full as well", len(calls))
	}
	time.Sleep(time.Second)
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 3 {
		t.Errorf("%d nudges, want exactly 3", n)
	}
}

func splitLines(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := 0
		for i := 0; i < len(s); i++ {
			if s[i] == '\n' {
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		if start < len(s) {
			yield(s[start:])
		}
	}
}

// With no agent list (agents are our team, customers Slack Connect guests)
// and users.info failing, whoever the bot cannot place is a customer: the
// customer's 👀 claims nothing and their ✅ resolves nothing, the agent's
// reminder still comes, and the customer can never be made on-call.
func TestFaultIdentityLookupsFailClosed(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.Agents = nil; c.ResponseReminder = 2 * time.Second; c.ReminderRepeats = 1 })
	th := "1700007800.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "hello"})
	h.fake.FailWith("users.info", "user_not_found", 1000)
	h.react(customer, "eyes", chSupport, th)
	h.react(customer, "white_check_mark", chSupport, th)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Fatal("the agent was not nudged")
	}
	for _, c := range h.fake.Calls("chat.postEphemeral") {
		if c.Args.Get("user") != agent {
			t.Errorf("a nudge went to %s, not the agent", c.Args.Get("user"))
		}
	}
	dms := h.waitDMs(th, 1, 8*time.Second) // the response reminder: the customer's ✅ resolved nothing
	if !strings.HasSuffix(dms[0].Args.Get("channel"), agent) {
		t.Errorf("the reminder went to %s", dms[0].Args.Get("channel"))
	}
	if got := h.command(agent, "oncall <@"+customer+">"); !strings.Contains(got, "isn't on the support team") {
		t.Errorf("a customer was made on-call: %q", got)
	}
	if len(h.fake.Calls("users.info:user_not_found")) == 0 {
		t.Error("users.info never failed: the test proved nothing")
	}
}

// The ack never waits on the Web API: with users.info taking 3 s, an
// agent's 👀 (reactions carry no team) and a customer's message are acked
// at once; the unknown user is looked up in the background and counts as a
// customer meanwhile. Once known, the agent's next 👀 claims the thread.
func TestFaultSlowDirectoryNeverHoldsAnAck(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.Agents = nil })
	h.fake.SetMethodDelay("users.info", 3*time.Second)
	th := "1700008900.000100"
	env1, _ := h.say(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: "Hi, how do I export invoices?"})
	// The agent's first 👀 after a restart: Slack sends no team with it.
	env2, err := h.fake.SendEvent("EvSlowClaim", map[string]any{"type": "reaction_added", "user": agent, "reaction": "eyes",
		"item": map[string]any{"type": "message", "channel": chSupport, "ts": th}, "event_ts": th})
	if err != nil {
		t.Fatal(err)
	}
	h.promptAcks([]string{env1, env2}, 600*time.Millisecond)
	if _, ok := h.fake.WaitCalls("users.info", 1, 5*time.Second); !ok {
		t.Fatal("the unknown reactor was never looked up")
	}
	// Acked at once, the 👀 claims once users.info answers (3 s): the
	// customer's next angry message nudges the agent who claimed it. (It
	// used to count as a customer's 👀, and the thread stayed unowned.)
	time.Sleep(3500 * time.Millisecond)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok || calls[0].Args.Get("user") != agent {
		t.Errorf("the agent's first 👀 did not claim the thread: %v", calls)
	}
}

// With no agent list, a guest of our own workspace (is_restricted) is a
// customer: the team ID alone made guests agents, and a guest customer ran
// /empathy oncall me and then received another customer's nudge.
func TestGuestsOfOurWorkspaceAreCustomers(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.AddUser(slackfake.User{ID: "UGUEST", Name: "Gus", TeamID: fake.TeamID, Guest: true})
	h := startBotOn(t, fake, func(c *Config) { c.Agents = nil })
	out, err := h.fake.SlashCommand("UGUEST", chSupport, "/empathy", "oncall me", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the guest was told: %s", out)
	if !strings.Contains(string(out), "isn't on the support team") && !strings.Contains(string(out), "isn't available to you") {
		t.Errorf("a guest set themselves on call: %s", out)
	}
	if who, _ := h.fake.SlashCommand(agent, chSupport, "/empathy", "oncall", 5*time.Second); strings.Contains(string(who), "UGUEST") {
		t.Errorf("the guest is on call: %s", who)
	}
	// The guest writes angrily in a thread the agent opened: they are the
	// customer, and the agent is nudged.
	th := "1700008950.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, UserTeam: fake.TeamID, Text: "Hi, looking into it."})
	remember(angry)
	_, ev, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: "UGUEST", ThreadTS: th, UserTeam: fake.TeamID, Text: angry})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitEventAck(ev, 8*time.Second); !ok {
		t.Fatal("the guest's message was never acked")
	}
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok || calls[0].Args.Get("user") != agent {
		t.Errorf("a guest's complaint: %v", calls)
	}
}

// Issue 24: with no agent list, an agent's "Also send to channel" reply
// after a restart (Slack sends it without the author's team, and users.info
// is slow) is not taken for a customer's: it stays unacked until Slack has
// said who wrote it, and on Slack's redelivery it counts as the agent's
// reply, so the customer's response reminder does not fire.
func TestFaultUnknownAuthorWaitsForSlack(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.Agents = nil; c.ResponseReminder = 3 * time.Second })
	h.fake.SetMethodDelay("users.info", time.Second)
	th := "1700009100.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: angry})
	env, _, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: th, SubType: "thread_broadcast",
		Text: "Sorry for the trouble, Sam, I'm on it and will update you by 3pm."})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 700*time.Millisecond); ok {
		t.Fatal("acked before the author was known: it was taken for a customer's message")
	}
	time.Sleep(1500 * time.Millisecond) // users.info has answered, and the answer is cached
	renv, err := h.fake.Redeliver(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(renv, 2*time.Second); !ok {
		t.Fatal("the redelivered reply was not acked")
	}
	h.noMoreDMs(th, 0, 4*time.Second) // the agent replied: no response reminder
}

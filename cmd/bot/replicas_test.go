package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/coach"
	"empathybot/internal/redistest"
	"empathybot/internal/slackio/slackfake"
)

// realRedisURL is REDIS_URL, or a redis-server started for the test (these
// tests need state that outlives a process, which the embedded Redis cannot).
func realRedisURL(t *testing.T) string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return redistest.Start(t).URL()
}

// Restart: a reminder scheduled by one process, which is then stopped with
// SIGTERM before the reminder is due, is delivered once by the next process.
func TestRestartKeepsReminders(t *testing.T) {
	fake := newFake(t)
	prefix := testPrefix(t)
	url := realRedisURL(t)
	noteRedis(url)
	env := []string{"REDIS_URL=" + url, "EMPATHY_REDIS_PREFIX=" + prefix, "EMPATHY_HTTP_ADDR=127.0.0.1:0",
		"EMPATHY_RESPONSE_REMINDER=3s", "EMPATHY_REMINDER_REPEATS=1"}
	p1, logs1 := startProcess(t, fake, env...)
	if !fake.WaitConnections(1, 10*time.Second) {
		t.Fatalf("first process did not connect:\n%s", logs1)
	}
	processNudges(t, fake, "1700002000.000100", logs1)
	sent := time.Now()
	p1.Process.Signal(syscall.SIGTERM)
	if err := p1.Wait(); err != nil {
		t.Fatalf("first process exit: %v\n%s", err, logs1)
	}
	if time.Since(sent) > 2*time.Second {
		t.Fatalf("stopping took %v; the reminder (3 s) may have come due before the restart", time.Since(sent))
	}
	if n := len(fake.Calls("chat.postMessage")); n != 0 {
		t.Fatalf("%d DMs before the restart; the test proves nothing", n)
	}
	_, logs2 := startProcess(t, fake, env...)
	calls, ok := fake.WaitCalls("chat.postMessage", 1, 15*time.Second)
	if !ok {
		t.Fatalf("reminder lost across the restart:\n%s", logs2)
	}
	if !strings.Contains(calls[0].Args.Get("blocks"), "waiting") || calls[0].Args.Get("channel") != "D"+agent {
		t.Errorf("reminder: %v", calls[0].Args)
	}
	if _, ok := fake.WaitCalls("chat.postMessage", 2, 3*time.Second); ok {
		t.Error("the reminder arrived twice")
	}
}

// replicas runs n bots on one slackfake and one Redis prefix, as n pods of
// one deployment would.
func startReplicas(t *testing.T, fake *slackfake.Server, n int, tweak func(*Config)) {
	t.Helper()
	cfg := Config{
		BotToken: fake.BotToken, AppToken: fake.AppToken, APIURL: fake.APIURL(),
		RedisURL: realRedisURL(t), RedisPrefix: testPrefix(t),
		Channels: []string{chSupport}, Agents: []string{agent}, Nudge: "ephemeral", Threshold: coach.DefaultThreshold,
		Cooldown: time.Minute, Retention: time.Hour, HTTPAddr: "off", PingTimeout: 2 * time.Second,
		ResponseReminder: time.Hour, FollowupAfter: time.Hour, ReminderRepeats: 1,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	noteRedis(cfg.RedisURL)
	for i := 0; i < n; i++ {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		go func() { done <- runBot(ctx, cfg, log, hooks{}) }()
		t.Cleanup(func() {
			stop()
			select {
			case <-done:
			case <-time.After(8 * time.Second):
				t.Error("a replica did not stop")
			}
		})
	}
	if !fake.WaitConnections(n, 10*time.Second) {
		t.Fatalf("%d of %d replicas connected", fake.Connections(), n)
	}
}

// Three replicas, 1,000 frustrated threads, 100 of them redelivered on
// another connection: exactly 1,000 nudges and 1,000 reminders, one per thread.
func TestReplicasNudgeAndRemindExactlyOnce(t *testing.T) {
	const threads = 1000
	fake := newFake(t)
	startReplicas(t, fake, 3, func(c *Config) { c.ResponseReminder = 2 * time.Second })
	if _, err := fake.SlashCommand(agent, chSupport, "/empathy", "oncall me", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	remember(angry)
	var envs []string
	for i := 0; i < threads; i++ {
		env, _, err := fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer,
			TS: fmt.Sprintf("1700003000.%06d", i), Text: angry})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	for i := 0; i < threads; i += 10 { // Slack redelivers; round robin puts it on another replica
		if _, err := fake.Redeliver(envs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// On a busy machine this takes longer: wait while deliveries keep
	// coming, and fail only when they stop short. Under -race on two
	// cores, a burst of 1,000 envelopes can outlast the record step's
	// budget: such an envelope is not acked, and Slack sends it again 3 s
	// later, then a minute after that (SLACK-FACTS.md); the wait covers
	// that second retry, so a message is missing only if it is lost.
	for _, method := range []string{"chat.postEphemeral", "chat.postMessage"} {
		if n, ok := waitProgress(fake, method, threads, 75*time.Second); !ok {
			t.Fatalf("%s: %d calls, want %d (none for 75 s)", method, n, threads)
		}
	}
	// Anything doubled would arrive within a few poll intervals.
	fake.WaitCalls("chat.postMessage", threads+1, 3*time.Second)
	expectOncePerThread(t, fake, threads, 0, "p1700003000")
}

// REDIS_CLUSTER_ADDRS: the bot on a 3-master Redis Cluster nudges and reminds.
func TestEndToEndOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no cluster")
	}
	addrs := redistest.Cluster(t, 3)
	h := startBot(t, func(c *Config) {
		c.RedisURL = ""
		c.RedisCluster = addrs
		c.ResponseReminder = time.Second
		c.ReminderRepeats = 1
	})
	thread := "1700005000.000100"
	h.expectNudgeInAssignedThread(thread, "no nudge on a cluster")
	h.waitDMs(thread, 1, 8*time.Second)
	h.noMoreDMs(thread, 1, 1500*time.Millisecond)
}

// Crash after ack: two replicas (the real binary), 40 frustrated customers
// in new threads for the on-call agent; one replica is SIGKILLed (or sent
// SIGTERM, and must exit within 10 s) the moment every envelope is acked. Decide, record, then ack: what an ack answered
// is in Redis and in the durable queue, so the surviving replica delivers
// every nudge and every reminder, each exactly once, within 15 s of the
// stop: the deliveries the dead replica had read are taken over once it has
// been silent for the queue's ClaimIdle (6 s).
func TestCrashAfterAckLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: two replicas, a SIGKILL and a SIGTERM, and the handover after it (about 30 s)")
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { t.Parallel(); crashAfterAck(t, sig) })
	}
	t.Run("killed mid-send", func(t *testing.T) { t.Parallel(); crashMidSend(t) })
}

// Killed mid-send: nudges are DMs and Slack is slow to answer them, so the
// replica is SIGKILLed while it is sending its share of 30 nudges (the
// requests are in flight; the local Slack, like a server whose client hung
// up before the answer, did not post them). The other replica takes the
// dead one's deliveries over, looks in each DM's history for the delivery's
// metadata (the dead replica had marked them "sending"), finds nothing and
// sends: every nudge and every reminder within 15 s of the kill, each once.
func crashMidSend(t *testing.T) {
	const n = 30
	fake := newFake(t)
	url := realRedisURL(t)
	noteRedis(url)
	env := []string{"REDIS_URL=" + url, "EMPATHY_RESPONSE_REMINDER=6s", "EMPATHY_REMINDER_REPEATS=1", "EMPATHY_HTTP_ADDR=127.0.0.1:0",
		"EMPATHY_NUDGE=dm", "EMPATHY_REDIS_PREFIX=" + testPrefix(t)}
	p1, logs1 := startProcess(t, fake, env...)
	if !fake.WaitConnections(1, 10*time.Second) {
		t.Fatalf("first replica did not connect:\n%s", logs1)
	}
	_, logs2 := startProcess(t, fake, env...)
	if !fake.WaitConnections(2, 10*time.Second) {
		t.Fatalf("second replica did not connect:\n%s", logs2)
	}
	if _, err := fake.SlashCommand(agent, chSupport, "/empathy", "oncall me", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	fake.SetMethodDelay("chat.postMessage", 3*time.Second)
	remember(angry)
	sendAngryThreads(t, fake, n, "1700009500")
	time.Sleep(500 * time.Millisecond) // both replicas are sending
	p1.Process.Signal(syscall.SIGKILL)
	p1.Wait()
	killed := time.Now()
	fake.SetMethodDelay("chat.postMessage", 0)
	const handover = 15 * time.Second
	count := func() (nudges, reminders map[string]int) {
		nudges, reminders = map[string]int{}, map[string]int{}
		for _, c := range fake.Calls("chat.postMessage") {
			var md struct {
				Payload struct {
					ID string `json:"delivery_id"`
				} `json:"event_payload"`
			}
			if err := json.Unmarshal([]byte(c.Args.Get("metadata")), &md); err != nil {
				t.Fatalf("a post without its delivery metadata: %v", err)
			}
			id := md.Payload.ID
			switch {
			case strings.HasPrefix(id, "nudge:"):
				nudges[strings.Split(id, ":")[2]]++
			case strings.HasPrefix(id, "response:"):
				reminders[strings.Split(id, ":")[2]]++
			default:
				t.Errorf("unexpected post %q", id)
			}
		}
		return nudges, reminders
	}
	for {
		nudges, reminders := count()
		if len(nudges) == n && len(reminders) == n {
			break
		}
		if time.Now().After(killed.Add(handover)) {
			t.Fatalf("%v after the kill: nudges in %d threads, reminders in %d, want %d each\nsurvivor's logs:\n%s",
				handover, len(nudges), len(reminders), n, logs2)
		}
		fake.WaitCalls("chat.postMessage", len(fake.Calls("chat.postMessage"))+1, time.Second)
	}
	took := time.Since(killed)
	time.Sleep(3 * time.Second) // anything doubled would show by now
	nudges, reminders := count()
	for th, k := range nudges {
		if k != 1 {
			t.Errorf("thread %s: %d nudges", th, k)
		}
	}
	for th, k := range reminders {
		if k != 1 {
			t.Errorf("thread %s: %d reminders", th, k)
		}
	}
	// The dead replica's nudges were marked "sending": the survivor looked
	// before it sent them (otherwise the kill came too late to test this).
	lookups := len(fake.Calls("conversations.history"))
	if lookups == 0 {
		t.Error("no delivery was looked up: the replica was not killed mid-send")
	}
	t.Logf("killed mid-send: %d nudges and %d reminders, each once, all within %v of the kill (%d deliveries in doubt looked up first)",
		len(nudges), len(reminders), took.Round(100*time.Millisecond), lookups)
}

func crashAfterAck(t *testing.T, sig syscall.Signal) {
	const n = 40
	fake := newFake(t)
	url := realRedisURL(t)
	noteRedis(url)
	env := []string{"REDIS_URL=" + url, "EMPATHY_RESPONSE_REMINDER=4s", "EMPATHY_REMINDER_REPEATS=1", "EMPATHY_HTTP_ADDR=127.0.0.1:0"}
	prefix := "EMPATHY_REDIS_PREFIX=" + testPrefix(t)
	p1, logs1 := startProcess(t, fake, append(env, prefix)...)
	if !fake.WaitConnections(1, 10*time.Second) {
		t.Fatalf("first replica did not connect:\n%s", logs1)
	}
	_, logs2 := startProcess(t, fake, append(env, prefix)...)
	if !fake.WaitConnections(2, 10*time.Second) {
		t.Fatalf("second replica did not connect:\n%s", logs2)
	}
	if _, err := fake.SlashCommand(agent, chSupport, "/empathy", "oncall me", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// A slow Web API: at the kill, the dead replica's nudges are queued or
	// being delivered, not done.
	fake.SetDelay(300 * time.Millisecond)
	remember(angry)
	sendAngryThreads(t, fake, n, "1700009000")
	stopped := time.Now()
	p1.Process.Signal(sig)
	p1.Wait()
	if took := time.Since(stopped); sig == syscall.SIGTERM && took > 10*time.Second {
		t.Errorf("SIGTERM: the replica took %v to exit, past 10 s", took)
	} else if sig == syscall.SIGTERM {
		t.Logf("SIGTERM: the replica exited in %v", took.Round(10*time.Millisecond))
	}
	killed := len(fake.Calls("chat.postEphemeral"))
	t.Logf("%d of %d nudges delivered when the replica was killed", killed, n)
	const handover = 15 * time.Second // the goal: every delivery of the dead replica within 15 s
	// A nudge the dead replica was showing when it died may have been shown
	// or not: it is recorded as unknown and not sent again (a doubled nudge
	// is worse than a lost one). Every other nudge arrives.
	rdb := redisClient(t, url)
	unknown := func() int {
		return countDeliveries(t, rdb, strings.TrimPrefix(prefix, "EMPATHY_REDIS_PREFIX=")+"dl:nudge:", "unknown")
	}
	for end := stopped.Add(handover); len(fake.Calls("chat.postEphemeral"))+unknown() < n; {
		if time.Now().After(end) {
			t.Fatalf("%d of %d nudges after the crash (%d unknown)\nsurvivor's logs:\n%s", len(fake.Calls("chat.postEphemeral")), n, unknown(), logs2)
		}
		fake.WaitCalls("chat.postEphemeral", len(fake.Calls("chat.postEphemeral"))+1, time.Second)
	}
	if calls, ok := fake.WaitCalls("chat.postMessage", n, max(time.Until(stopped.Add(handover)), 0)); !ok {
		t.Fatalf("%d of %d reminders after the crash\nsurvivor's logs:\n%s", len(calls), n, logs2)
	}
	fake.WaitCalls("chat.postMessage", n+1, 3*time.Second)
	u := unknown()
	expectOncePerThread(t, fake, n, u, "p1700009000")
	t.Logf("%s: %d nudges (%d in doubt when the replica died, not repeated) and %d reminders, each once, %v after the stop", sig, n-u, u, n, time.Since(stopped).Round(100*time.Millisecond))
}

// A flood of 40,000-character messages (1,000 of them, sent without
// waiting) stays within memory: at most 32 envelopes are recorded at once
// and the rest wait unread on the socket, so the bot's peak RSS stays far
// below the pod's 256 Mi limit (it was 527 MiB with an unbounded queue),
// and every message is acked.
func TestFloodOfLongMessagesStaysWithinMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a flood test")
	}
	t.Parallel()
	fake := newFake(t)
	fake.Lean() // the fake keeps no copy of what it sent
	url := realRedisURL(t)
	noteRedis(url)
	p, logs := startProcess(t, fake, "REDIS_URL="+url, "EMPATHY_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn")
	if !fake.WaitConnections(1, 10*time.Second) {
		t.Fatalf("no connection:\n%s", logs)
	}
	long := strings.Repeat("This is the third time I'm asking and it is still broken. ", 700)[:40000]
	remember(long[:60])
	var envs []string
	for i := 0; i < 1000; i++ {
		e, _, err := fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, TS: fmt.Sprintf("1700009500.%06d", i), Text: long})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	for _, e := range envs {
		if _, ok := fake.WaitAck(e, 60*time.Second); !ok {
			t.Fatalf("envelope %s not acked", e)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to read the peak RSS from: %v", err)
	}
	var hwm int
	for _, line := range strings.Split(string(status), "\n") {
		fmt.Sscanf(line, "VmHWM: %d kB", &hwm)
	}
	limit := 128 << 10 // KiB
	if raceEnabled {
		limit = 400 << 10 // the race detector multiplies memory use
	}
	t.Logf("peak RSS %d MiB (limit %d MiB)", hwm>>10, limit>>10)
	if hwm == 0 || hwm > limit {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", hwm>>10, limit>>10)
	}
}

// nudgeThread is the thread a nudge is about: its thread_ts when it was
// posted in the thread, else the thread named by its Claim button (a nudge
// beside a reply-less message, at channel level).
func nudgeThread(t *testing.T, c slackfake.Call) string {
	t.Helper()
	if th := c.Args.Get("thread_ts"); th != "" {
		return th
	}
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(c.Args.Get("blocks")), &blocks); err != nil {
		t.Fatalf("nudge blocks: %v", err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == "empathy_claim" {
				if _, th, ok := strings.Cut(e.Value, "|"); ok {
					return th
				}
			}
		}
	}
	t.Fatalf("a nudge names no thread: %s", c.Args.Get("blocks"))
	return ""
}

// expectOncePerThread fails unless the fake saw exactly n nudges over n
// threads and n reminder DMs over n threads (threads named by prefix, as
// in their permalinks: "p1700003000").
// expectOncePerThread checks that each of n threads got one reminder, and
// one nudge unless unknown of them were in doubt (never two).
func expectOncePerThread(t *testing.T, fake *slackfake.Server, n, unknown int, prefix string) {
	t.Helper()
	reminded := map[string]int{}
	for _, c := range fake.Calls("chat.postMessage") {
		b := c.Args.Get("blocks")
		i := strings.Index(b, prefix)
		if i < 0 {
			t.Fatalf("reminder without a permalink: %s", b)
		}
		reminded[b[i:i+17]]++
	}
	nudged := map[string]int{}
	for _, c := range fake.Calls("chat.postEphemeral") {
		nudged[nudgeThread(t, c)]++
	}
	if len(nudged) != n-unknown || len(fake.Calls("chat.postEphemeral")) != n-unknown {
		t.Errorf("%d nudges over %d threads, want %d over %d (%d in doubt)", len(fake.Calls("chat.postEphemeral")), len(nudged), n-unknown, n-unknown, unknown)
	}
	if len(reminded) != n || len(fake.Calls("chat.postMessage")) != n {
		t.Errorf("%d reminders over %d threads, want %d over %d", len(fake.Calls("chat.postMessage")), len(reminded), n, n)
	}
}

// redisClient connects to the Redis at url for the test's own checks.
func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// countDeliveries counts the delivery keys under prefix whose state is state.
func countDeliveries(t *testing.T, rdb *redis.Client, prefix, state string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if v, err := rdb.Get(ctx, iter.Val()).Result(); err == nil && v == state {
			n++
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitProgress waits until fake has seen n calls of method, for as long as
// calls keep coming: it gives up after stall without a new one.
func waitProgress(fake *slackfake.Server, method string, n int, stall time.Duration) (int, bool) {
	for {
		before := len(fake.Calls(method))
		if before >= n {
			return before, true
		}
		calls, ok := fake.WaitCalls(method, n, stall)
		if ok {
			return len(calls), true
		}
		if len(calls) == before {
			return before, false
		}
	}
}

// sendAngryThreads has the customer start n threads angrily (ts
// sec.000000, sec.000100, ...) and waits until every envelope is acked.
func sendAngryThreads(t *testing.T, fake *slackfake.Server, n int, sec string) {
	t.Helper()
	var envs []string
	for i := 0; i < n; i++ {
		e, _, err := fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, TS: fmt.Sprintf("%s.%06d", sec, i*100), Text: angry})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	for _, e := range envs {
		if _, ok := fake.WaitAck(e, 5*time.Second); !ok {
			t.Fatalf("envelope %s not acked", e)
		}
	}
}

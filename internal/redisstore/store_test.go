package redisstore

import (
	"context"
	"empathybot/internal/support"
	"empathybot/internal/support/supporttest"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// opener gives a fresh store with a key prefix of its own, the client under
// it, and the prefix.
type opener func(t *testing.T) (*Store, redis.UniversalClient, string)

// standalone opens a store on REDIS_URL (the real server CI runs), or on the
// embedded server when REDIS_URL is unset.
func standalone(t *testing.T) (*Store, redis.UniversalClient, string) {
	t.Helper()
	var rdb *redis.Client
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		rdb = redis.NewClient(opt)
	} else {
		mr := miniredis.RunT(t)
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	}
	t.Cleanup(func() { rdb.Close() })
	prefix := fmt.Sprintf("test:%s:%d:", t.Name(), time.Now().UnixNano())
	return New(rdb, prefix, time.Hour), rdb, prefix
}

func TestStore(t *testing.T) { storeSuite(t, standalone) }

// storeSuite is every store test; it runs on a single Redis and on a cluster.
func storeSuite(t *testing.T, open opener) {
	tests := map[string]func(*testing.T, opener){
		"StatsAndFeedback":            testStats,
		"OpenItems":                   testOpenItems,
		"NudgesAreRemembered":         testNudges,
		"DeliveryIsOnceAcrossWorkers": testDelivery,
		"QueueFiresOnceAndCancels":    testQueue,
		"RecordStepQueuesWhatItArms":  testRecordArms,
		"SilentConsumerIsTakenOver":   testTakeOver,
		"RetryGoesBackToTheDueSet":    testRetry,
		"SoonerReminderIsSeen":        testSooner,
		"GoneConsumersAreRemoved":     testTidy,
		"QueueKeysTTLOnceAnHour":      testQueueTTL,
		"LongDeliveryIsNotTakenOver":  testHeartbeat,
		"EveryKeyHasATTLAndNoText":    testTTL,
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) { f(t, open) })
	}
	t.Run("Contract", func(t *testing.T) {
		supporttest.StoreContract(t, func(t *testing.T) support.ThreadStore { s, _, _ := open(t); return s })
	})
}

func testStats(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		s.Count(ctx, "C1", now.AddDate(0, 0, -i), support.StatFrustrated)
	}
	s.Count(ctx, "C1", now.AddDate(0, 0, -8), support.StatFrustrated) // outside the week
	s.Count(ctx, "C1", now, support.StatFollowupsDone)
	s.Count(ctx, "C2", now, support.StatFrustrated) // another channel
	for _, w := range []time.Duration{time.Minute, 3 * time.Minute, 10 * time.Minute, 2 * time.Minute} {
		s.AddReplyWait(ctx, "C1", now, w)
	}
	s.Feedback(ctx, "C1", "waiting", "acknowledge the feeling first", true, now)
	s.Feedback(ctx, "C1", "waiting", "acknowledge the feeling first", true, now)
	s.Feedback(ctx, "C1", "sarcasm", "sincerity over scripts", false, now)
	st, err := s.Stats(ctx, "C1", now, 7)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[support.StatFrustrated] != 3 || st.Counts[support.StatFollowupsDone] != 1 {
		t.Errorf("counts %v", st.Counts)
	}
	if st.FirstReplies != 4 || st.MedianFirstReply != 150*time.Second {
		t.Errorf("median of 1,2,3,10 min = %v over %d, want 2m30s over 4", st.MedianFirstReply, st.FirstReplies)
	}
	if st.Useful != 2 || st.NotUsed != 1 || st.ByCue["waiting"] != [2]int{2, 0} || st.ByTech["sincerity over scripts"] != [2]int{0, 1} {
		t.Errorf("feedback: %+v", st)
	}
}

func testNudges(t *testing.T, open opener) {
	s, rdb, _ := open(t)
	ctx := context.Background()
	at := time.UnixMilli(1700000000000)
	for i := 0; i < 7; i++ {
		s.Nudged(ctx, "UA", support.NudgeRecord{Channel: "C1", Thread: fmt.Sprint(i), Cue: "waiting", Tip: fmt.Sprintf("tip%d", i), At: at.Add(time.Duration(i) * time.Minute)})
	}
	tips, err := s.RecentTips(ctx, "UA")
	if err != nil || len(tips) != 5 || tips[0] != "tip6" || tips[4] != "tip2" {
		t.Errorf("recent tips %v %v, want tip6..tip2", tips, err)
	}
	ns, _ := s.RecentNudges(ctx, "UA", 2)
	if len(ns) != 2 || ns[0] != (support.NudgeRecord{Channel: "C1", Thread: "6", Cue: "waiting", Tip: "tip6", At: at.Add(6 * time.Minute)}) {
		t.Errorf("recent nudges %+v", ns)
	}
	// The list is bounded (cut back once it holds twice recentNudges), and
	// readers see at most recentNudges, the newest first.
	for i := 7; i < 45; i++ {
		s.Nudged(ctx, "UA", support.NudgeRecord{Channel: "C1", Thread: fmt.Sprint(i), Cue: "waiting", Tip: fmt.Sprintf("tip%d", i), At: at})
	}
	if n := rdb.LLen(ctx, s.nudgesKey("UA")).Val(); n < recentNudges || n >= 2*recentNudges {
		t.Errorf("the list holds %d nudges; want [%d, %d)", n, recentNudges, 2*recentNudges)
	}
	ns, _ = s.RecentNudges(ctx, "UA", 50)
	if len(ns) != recentNudges || ns[0].Tip != "tip44" {
		t.Errorf("recent nudges: %d, newest %+v; want %d, tip44", len(ns), ns[0], recentNudges)
	}
}

func testOpenItems(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx := context.Background()
	due := time.UnixMilli(1700000000000)
	s.AddOpen(ctx, "UA", support.OpenItem{Kind: support.KindFollowup, Channel: "C1", Thread: "1.1", TaskID: "t2", Due: due.Add(time.Hour)})
	s.AddOpen(ctx, "UA", support.OpenItem{Kind: support.KindResponse, Channel: "C1", Thread: "1.2", TaskID: "t1", Due: due})
	items, err := s.OpenItems(ctx, "UA")
	if err != nil || len(items) != 2 || items[0].TaskID != "t1" || !items[1].Due.Equal(due.Add(time.Hour)) {
		t.Fatalf("items %+v %v", items, err)
	}
	s.RemoveOpen(ctx, "UA", "t1")
	if items, _ = s.OpenItems(ctx, "UA"); len(items) != 1 || items[0].TaskID != "t2" {
		t.Errorf("after removing t1: %+v", items)
	}
}

func testDelivery(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx := context.Background()
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := s.BeginDelivery(ctx, "r1", time.Minute); err == nil && st == support.DeliveryOK {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d workers got the lease, want 1", ok.Load())
	}
	if st, _ := s.BeginDelivery(ctx, "r1", time.Minute); st != support.DeliveryBusy {
		t.Errorf("while leased: %s", st)
	}
	s.FinishDelivery(ctx, "r1", support.DeliveryFailed) // failed: someone may retry
	if st, _ := s.BeginDelivery(ctx, "r1", time.Minute); st != support.DeliveryOK {
		t.Errorf("after a failed delivery: %s", st)
	}
	s.FinishDelivery(ctx, "r1", support.DeliverySent)
	if st, _ := s.BeginDelivery(ctx, "r1", time.Minute); st != support.DeliveryDone {
		t.Errorf("after a delivery: %s", st)
	}
}

func testQueue(t *testing.T, open opener) {
	s, _, _ := open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := NewQueue(s, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now()
	r1 := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1.1", Gen: 1, N: 1, Due: now.Add(300 * time.Millisecond).UnixMilli()}
	r2 := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1.2", Gen: 1, N: 1, Due: now.Add(400 * time.Millisecond).UnixMilli()}
	for _, r := range []support.Reminder{r1, r1, r2} { // r1 twice: one task
		if err := q.Schedule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if sch, _, err := q.Depth(ctx); err != nil || sch != 2 {
		t.Errorf("depth %d %v, want 2 scheduled", sch, err)
	}
	if err := q.Cancel(ctx, r2.Channel, r2.Thread, r2.ID()); err != nil {
		t.Fatal(err)
	}
	if err := q.Cancel(ctx, "C1", "9.9", "never-scheduled"); err != nil {
		t.Errorf("cancelling an unknown reminder: %v", err)
	}
	got := make(chan support.Reminder, 10)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ { // three replicas
		wg.Add(1)
		go func() {
			defer wg.Done()
			rq := NewQueue(s, log)
			rq.Serve(ctx, time.Second, Handlers{Reminder: func(ctx context.Context, r support.Reminder) error { got <- r; return nil }})
		}()
	}
	select {
	case r := <-got:
		if r != r1 {
			t.Errorf("fired %+v, want %+v", r, r1)
		}
		if late := time.Since(r1.DueAt()); late < 0 {
			t.Errorf("fired %v early", -late)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reminder did not fire")
	}
	// Nothing else may fire: not r1 again, not the cancelled r2. Wait until
	// the queue is empty, then a few poll intervals more.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if sch, pend, _ := q.Depth(ctx); sch == 0 && pend == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case r := <-got:
		t.Errorf("a second delivery: %+v", r)
	case <-time.After(time.Second):
	}
	cancel()
	wg.Wait()
}

// allKeys scans every node for keys matching pattern.
func allKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			out = append(out, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, scan)
		return out, err
	}
	return out, scan(ctx, rdb.(*redis.Client))
}

func testTTL(t *testing.T, open opener) {
	s, rdb, prefix := open(t)
	ctx := context.Background()
	now := time.Now()
	s.FirstDelivery(ctx, "Ev9")
	v := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	s.RecordCustomer(ctx, support.CustomerRecord{EventID: "Ev10", Channel: "C1", Thread: "3.3", TS: "3.3", User: "UC", At: now,
		Verdicts: [3]support.Verdict{v, v, v}, Cooldown: time.Minute, ReminderDue: now.Add(time.Minute)})
	s.RecordAgentReply(ctx, support.AgentRecord{EventID: "Ev11", Channel: "C1", Thread: "3.3", TS: "3.4", Agent: "UA", At: now})
	s.Resolve(ctx, "C1", "3.3", "UA", now)
	s.SetOnCall(ctx, "C1", "UA")
	s.Snooze(ctx, "UA", time.Hour)
	s.Nudged(ctx, "UA", support.NudgeRecord{Channel: "C1", Thread: "3.3", Cue: "waiting", Tip: "ack-wait", At: now})
	s.Count(ctx, "C1", now, support.StatNudges)
	s.AddReplyWait(ctx, "C1", now, time.Minute)
	s.Feedback(ctx, "C1", "waiting", "ownership", true, now)
	s.AddOpen(ctx, "UA", support.OpenItem{Kind: support.KindFollowup, Channel: "C1", Thread: "3.3", TaskID: "t", Due: now})
	s.SetWatching(ctx, "C9", false)
	s.BeginDelivery(ctx, "d1", time.Minute)
	s.BeginDelivery(ctx, "d2", time.Minute)
	s.FinishDelivery(ctx, "d2", support.DeliverySent)
	s.BeginDelivery(ctx, "d3", time.Minute)
	s.FinishDelivery(ctx, "d3", support.DeliveryUnknown)
	// Issues 25 and 26: a moment (opened, then changed), an agent's tense
	// load, a pause and a breather's hold.
	s.OpenMoment(ctx, "C1", "3.3", support.Moment{TS: "3.3", At: now.UnixMilli(), Score: 0.9, Arm: support.ArmNudge})
	s.SetMoment(ctx, "C1", "3.5", support.Moment{TS: "3.5", At: now.UnixMilli(), Score: 0.9, Arm: support.ArmHoldout}, 0)
	s.AddLoad(ctx, "UA", support.LoadEntry{At: now, Thread: "C1:3.3", Excess: 0.3, Hostile: true})
	s.Pause(ctx, "UA", 30*time.Minute)
	s.TakeBreather(ctx, "UA", 2*time.Hour)
	keys, err := allKeys(ctx, rdb, prefix+"*")
	if err != nil || len(keys) < 20 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s has TTL %v (err %v); want (0, retention]", k, ttl, err)
		}
	}
}

func TestPurgeRemovesEverythingUnderThePrefix(t *testing.T) {
	s, rdb, prefix := standalone(t)
	ctx := context.Background()
	s.RecordCustomer(ctx, support.CustomerRecord{EventID: "E1", Channel: "C1", Thread: "1.1", TS: "1.1", User: "UC", At: time.Now()})
	s.Count(ctx, "C1", time.Now(), support.StatNudges)
	q := NewQueue(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := q.Schedule(ctx, support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1.1", Gen: 1, N: 1, Due: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	sibling := strings.TrimSuffix(prefix, ":") + "-sibling:"
	other := New(rdb, sibling, time.Hour)
	other.Count(ctx, "C1", time.Now(), support.StatNudges)
	if err := other.flushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	defer other.Purge(ctx)
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	left, _ := allKeys(ctx, rdb, prefix+"*")
	kept, _ := allKeys(ctx, rdb, sibling+"*")
	if len(left) != 0 || len(kept) != 1 {
		t.Errorf("after Purge: left %v, another prefix's keys %v (want none, one)", left, kept)
	}
}

// A malformed REDIS_URL is reported without its password.
func TestURLErrorsHideThePassword(t *testing.T) {
	for _, u := range []string{"redis://:s3cret@host:notaport/1", "redis://user:s3cret@host:6379/99x", "redis://:s3cret@host:6379/1?dial_timeout=zz",
		// A password with "/", a quote or a space: the URL parser trips
		// inside it and quotes what it tripped on.
		"redis://:s3cret/Pw+x=@host:6379/0", `redis://:s3cret"Pw@host:6379/0`, "redis://:s3cret Pw@host:6379/0", "redis://u:s3cret%zz@host:6379/0"} {
		err := CheckURL(u)
		if err == nil {
			t.Fatalf("%q accepted", u)
		}
		for _, frag := range []string{"s3cret", "Pw+x", "Pw@"} {
			if strings.Contains(err.Error(), frag) {
				t.Errorf("CheckURL(%q): the error shows the password: %v", u, err)
			}
			if _, _, _, err := Dial(u, nil, slog.New(slog.DiscardHandler), nil); err == nil || strings.Contains(err.Error(), frag) {
				t.Errorf("Dial(%q) = %v", u, err)
			}
		}
	}
	// What is wrong is still said when the URL parses.
	if err := CheckURL("redis://user:s3cret@host:6379/99x"); !strings.Contains(err.Error(), "database") {
		t.Errorf("a bad database number: %v", err)
	}
}

// The record step writes what it arms in the same script: a frustrated
// message's nudge in the shard's stream and its response reminder in the
// due set; a redelivery writes nothing again, a calm message nothing.
func testRecordArms(t *testing.T, open opener) {
	s, rdb, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	v := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	th := "1700000100.000100"
	n := &support.NudgeTask{Channel: "C1", Thread: th, TS: th, At: now.UnixMilli()}
	rec := support.CustomerRecord{EventID: "Ea1", Channel: "C1", Thread: th, TS: th, User: "UC", At: now,
		Verdicts: [3]support.Verdict{v, v, v}, Nudges: [3]*support.NudgeTask{n, n, n}, Cooldown: time.Minute, ReminderDue: now.Add(time.Hour)}
	for range 2 { // the first delivery and Slack's retry
		res, err := s.RecordCustomer(ctx, rec)
		if err != nil || !res.Nudge || res.Reminder.Kind == "" {
			t.Fatalf("record: %+v %v", res, err)
		}
	}
	calm := support.Verdict{Score: 0.1}
	th2 := "1700000100.000200"
	if _, err := s.RecordCustomer(ctx, support.CustomerRecord{EventID: "Ea2", Channel: "C1", Thread: th2, TS: th2, User: "UC", At: now,
		Verdicts: [3]support.Verdict{calm, calm, calm}, Cooldown: time.Minute, ReminderDue: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sh := s.shardOf("C1", th)
	entries, err := rdb.XRange(ctx, s.streamKey(sh), "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("stream: %d entries (%v), want the one nudge", len(entries), err)
	}
	var env envelope
	if err := json.Unmarshal([]byte(entries[0].Values["d"].(string)), &env); err != nil || env.Type != taskNudge || env.ID != n.ID() {
		t.Errorf("stream entry %+v (%v), want nudge %s", env, err, n.ID())
	}
	rem := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: th, Gen: now.UnixMilli(), N: 1, Due: now.Add(time.Hour).UnixMilli()}
	due, err := rdb.ZRangeByScoreWithScores(ctx, s.dueKey(sh), &redis.ZRangeBy{Min: "-inf", Max: "1e300"}).Result() // not the sentinel
	if err != nil || len(due) != 1 || due[0].Member != rem.ID() || int64(due[0].Score) != rem.Due {
		t.Errorf("due set %+v (%v), want %s at %d", due, err, rem.ID(), rem.Due)
	}
	if ok, _ := rdb.HExists(ctx, s.taskKey(sh), rem.ID()).Result(); !ok {
		t.Errorf("no envelope for %s", rem.ID())
	}
}

// A delivery whose consumer fell silent (its replica was killed after it
// read the entry) is taken over by another replica after ClaimIdle.
func testTakeOver(t *testing.T, open opener) {
	s, rdb, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Now()
	v := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	th := "1700000200.000100"
	n := &support.NudgeTask{Channel: "C1", Thread: th, TS: th, At: now.UnixMilli()}
	if _, err := s.RecordCustomer(ctx, support.CustomerRecord{EventID: "Eb1", Channel: "C1", Thread: th, TS: th, User: "UC", At: now,
		Verdicts: [3]support.Verdict{v, v, v}, Nudges: [3]*support.NudgeTask{n, n, n}, Cooldown: time.Minute}); err != nil {
		t.Fatal(err)
	}
	sh := s.shardOf("C1", th)
	stream := s.streamKey(sh)
	// The replica that dies: it reads the entry and never acks.
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		t.Fatal(err)
	}
	if res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "dead", Streams: []string{stream, ">"}, Count: 10}).Result(); err != nil || len(res[0].Messages) != 1 {
		t.Fatalf("the dead replica's read: %v %v", res, err)
	}
	got := make(chan support.NudgeTask, 4)
	q := NewQueue(s, slog.New(slog.DiscardHandler))
	q.ClaimIdle = 500 * time.Millisecond
	start := time.Now()
	go q.Serve(ctx, time.Second, Handlers{Nudge: func(ctx context.Context, x support.NudgeTask) error { got <- x; return nil }})
	select {
	case x := <-got:
		if x.ID() != n.ID() {
			t.Errorf("delivered %s, want %s", x.ID(), n.ID())
		}
		t.Logf("taken over after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the silent replica's nudge was not taken over")
	}
	select {
	case x := <-got:
		t.Errorf("delivered twice: %+v", x)
	case <-time.After(1500 * time.Millisecond):
	}
	if p, _ := rdb.XPending(ctx, stream, group).Result(); p != nil && p.Count != 0 {
		t.Errorf("%d entries still pending after the delivery", p.Count)
	}
}

// A delivery that fails goes back to the due set with its back-off (at
// least the Retry-After it was given) and is delivered again.
func testRetry(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := NewQueue(s, slog.New(slog.DiscardHandler))
	r := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1700000300.000100", Gen: 1, N: 1, Due: time.Now().UnixMilli()}
	if err := q.Schedule(ctx, r); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var first, second time.Time
	done := make(chan struct{})
	go q.Serve(ctx, time.Second, Handlers{Reminder: func(ctx context.Context, x support.Reminder) error {
		switch calls.Add(1) {
		case 1:
			first = time.Now()
			return &support.RetryLater{After: 1500 * time.Millisecond, Err: fmt.Errorf("rate limited")}
		case 2:
			second = time.Now()
			close(done)
		}
		return nil
	}})
	select {
	case <-done:
		if gap := second.Sub(first); gap < 1500*time.Millisecond {
			t.Errorf("retried after %v, before the Retry-After of 1.5 s", gap)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%d calls, want a retry", calls.Load())
	}
	time.Sleep(500 * time.Millisecond)
	if c := calls.Load(); c != 2 {
		t.Errorf("%d calls, want 2", c)
	}
}

// A reader that knows of a reminder due in an hour still sees, within a
// Poll, one that another replica schedules for sooner.
func testSooner(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := NewQueue(s, slog.New(slog.DiscardHandler))
	far := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1700000400.000100", Gen: 1, N: 1, Due: time.Now().Add(time.Hour).UnixMilli()}
	if err := q.Schedule(ctx, far); err != nil {
		t.Fatal(err)
	}
	got := make(chan support.Reminder, 2)
	go q.Serve(ctx, time.Second, Handlers{Reminder: func(ctx context.Context, r support.Reminder) error { got <- r; return nil }})
	time.Sleep(300 * time.Millisecond) // the reader has seen the far one
	near := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1700000400.000200", Gen: 1, N: 1, Due: time.Now().Add(200 * time.Millisecond).UnixMilli()}
	if err := NewQueue(s, slog.New(slog.DiscardHandler)).Schedule(ctx, near); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r != near {
			t.Errorf("fired %+v, want %+v", r, near)
		}
		if late := time.Since(near.DueAt()); late > q.Poll+500*time.Millisecond {
			t.Errorf("fired %v late, past the Poll of %v", late, q.Poll)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sooner reminder did not fire")
	}
}

// A replica that stopped leaves its consumer in the group; a reader removes
// it once it holds nothing and has been silent for goneAfter.
func testTidy(t *testing.T, open opener) {
	s, rdb, _ := open(t)
	ctx := context.Background()
	stream := s.streamKey(0)
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		t.Fatal(err)
	}
	// The gone replica read once (nothing there) and stopped.
	rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "gone-replica", Streams: []string{stream, ">"}, Count: 1, Block: -1})
	time.Sleep(20 * time.Millisecond)
	q := NewQueue(s, slog.New(slog.DiscardHandler))
	saved := goneAfter
	goneAfter = 10 * time.Millisecond
	defer func() { goneAfter = saved }()
	q.tidy(ctx, stream)
	cs, err := rdb.XInfoConsumers(ctx, stream, group).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == "gone-replica" {
			t.Errorf("the gone consumer is still in the group")
		}
	}
}

// The shard's queue keys get their TTL from the first script of a replica
// that writes to them, not from every one (a PEXPIRE per reminder was most
// of its cost); a reader sets it again when it starts and every tidyEvery,
// so a key made again without one gets it back.
func testQueueTTL(t *testing.T, open opener) {
	s, rdb, _ := open(t)
	ctx := context.Background()
	now := time.Now()
	rec := func(ts string) {
		t.Helper()
		v := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
		nt := &support.NudgeTask{Channel: "C1", Thread: ts, TS: ts, At: now.UnixMilli()}
		if _, err := s.RecordCustomer(ctx, support.CustomerRecord{EventID: "Ev" + ts, Channel: "C1", Thread: ts, TS: ts, User: "UC", At: now,
			Verdicts: [3]support.Verdict{v, v, v}, Nudges: [3]*support.NudgeTask{nt, nt, nt}, Cooldown: time.Minute, ReminderDue: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// Two threads of one shard (a Cluster has 16).
	first := "1700000000.000001"
	sh := s.shardOf("C1", first)
	second := ""
	for n := 2; second == ""; n++ {
		if ts := fmt.Sprintf("1700000000.%06d", n); s.shardOf("C1", ts) == sh {
			second = ts
		}
	}
	keys := []string{s.streamKey(sh), s.dueKey(sh), s.taskKey(sh)}
	rec(first)
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Fatalf("%s: TTL %v after the replica's first record step, want one", k, ttl)
		}
	}
	// The queue taking the shard's last task does not delete its keys
	// (Redis deletes an empty set or hash, and a script would make it
	// again without a TTL): the sentinel stays.
	q0 := NewQueue(s, slog.New(slog.DiscardHandler))
	rem := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: first, Gen: now.UnixMilli(), N: 1}
	if err := q0.Cancel(ctx, "C1", first, rem.ID()); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.ZCard(ctx, s.dueKey(sh)).Result(); n != 1 {
		t.Fatalf("due set after its only task was cancelled: %d members, want the sentinel alone", n)
	}
	for _, k := range keys[1:] {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Fatalf("%s: TTL %v once the queue took its last task, want one", k, ttl)
		}
	}
	if sc, d, _ := q0.Depth(ctx); sc != 0 || d != 1 {
		t.Errorf("depth %d scheduled, %d pending; want 0 (the sentinel is not a task) and the nudge", sc, d)
	}
	for _, k := range keys {
		rdb.Persist(ctx, k)
	}
	rec(second)
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl != -1 {
			t.Fatalf("%s: TTL %v, want none: the record step set it again within the hour", k, ttl)
		}
	}
	qctx, cancel := context.WithCancel(ctx)
	q := NewQueue(s, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Serve(qctx, time.Second, Handlers{Nudge: func(context.Context, support.NudgeTask) error { return nil },
			Reminder: func(context.Context, support.Reminder) error { return nil }})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range keys {
		for rdb.PTTL(ctx, k).Val() <= 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s: TTL %v once a reader ran, want one", k, ttl)
		}
	}
	cancel()
	<-done
}

// A delivery that runs longer than ClaimIdle on a live replica is not taken
// over by another: the heartbeat keeps its entry claimed.
func testHeartbeat(t *testing.T, open opener) {
	s, _, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	done := make(chan struct{})
	handler := func(ctx context.Context, r support.Reminder) error {
		if calls.Add(1) == 1 {
			time.Sleep(3 * time.Second) // three times ClaimIdle
			close(done)
		}
		return nil
	}
	for i := 0; i < 2; i++ { // two replicas
		q := NewQueue(s, slog.New(slog.DiscardHandler))
		// A second, not less: under -race on a Redis Cluster on two cores a
		// heartbeat (every 250 ms here) can be late by a few hundred ms.
		q.ClaimIdle = time.Second
		go q.Serve(ctx, time.Second, Handlers{Reminder: handler})
	}
	r := support.Reminder{Kind: support.KindResponse, Channel: "C1", Thread: "1700000500.000100", Gen: 1, N: 1, Due: time.Now().UnixMilli()}
	if err := NewQueue(s, slog.New(slog.DiscardHandler)).Schedule(ctx, r); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the reminder was not delivered")
	}
	time.Sleep(1500 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("delivered %d times: another replica took over a delivery in progress", n)
	}
}

// The record step sends only the script's SHA; a Redis that has forgotten
// the script (SCRIPT FLUSH, a restart) gets it again, and the message is
// recorded once.
func TestRecordStepAfterScriptFlush(t *testing.T) {
	s, rdb, _ := standalone(t)
	ctx := context.Background()
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	v := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	r := support.CustomerRecord{EventID: "EvFlush", Channel: "C1", Thread: "9.9", TS: "9.9", User: "UC", At: time.Now(),
		Verdicts: [3]support.Verdict{v, v, v}, Cooldown: time.Minute}
	first, err := s.RecordCustomer(ctx, r)
	if err != nil || first.Duplicate || !first.Thread.NewlyFrustrated {
		t.Fatalf("after SCRIPT FLUSH: %+v, %v", first, err)
	}
	again, err := s.RecordCustomer(ctx, r)
	if err != nil || !again.Duplicate {
		t.Fatalf("the redelivery: %+v, %v", again, err)
	}
}

// Count buffers its increments: nothing reaches Redis until countEvery has
// passed (or this replica reads its stats, or closes), and then each field
// is one HINCRBY of the sum. A flush that fails keeps its counts for the
// next one: none lost, none doubled.
func TestCountsAreBufferedThenAdded(t *testing.T) {
	s, rdb, prefix := standalone(t)
	ctx := context.Background()
	now := time.Now()
	key := s.statsKey("C1", now)
	for i := 0; i < 5; i++ {
		s.Count(ctx, "C1", now, support.StatFrustrated, support.StatNudges)
	}
	if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
		t.Fatalf("the counts reached Redis at once: want them buffered")
	}
	// This replica reads its own counts.
	st, err := s.Stats(ctx, "C1", now, 1)
	if err != nil || st.Counts[support.StatFrustrated] != 5 || st.Counts[support.StatNudges] != 5 {
		t.Fatalf("own stats: %v %v; want 5 and 5", st.Counts, err)
	}
	// A flush that fails puts its counts back.
	s.Count(ctx, "C1", now, support.StatNudges)
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.flushCounts(dead); err == nil {
		t.Fatal("a flush on a cancelled context reported no error")
	}
	// Another replica sees the counts once countEvery has passed, without
	// any read or flush on this one.
	deadline := time.Now().Add(countEvery + 3*time.Second)
	for {
		v, _ := rdb.HGet(ctx, key, support.StatNudges).Int()
		if v == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nudges in Redis %d after %v; want 6", v, countEvery+3*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 0 {
		t.Errorf("stats key TTL %v; want one", ttl)
	}
	// Close adds what is buffered.
	other := New(rdb, prefix, time.Hour)
	other.Count(ctx, "C1", now, support.StatNudges)
	other.counts.mu.Lock()
	other.counts.timer.Stop() // only Close may add it now
	other.counts.mu.Unlock()
	other.rdb = redis.NewClient(rdb.(*redis.Client).Options()) // Close closes its own client
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.HGet(ctx, key, support.StatNudges).Int(); v != 7 {
		t.Errorf("after another replica's Close: nudges %d; want 7", v)
	}
}

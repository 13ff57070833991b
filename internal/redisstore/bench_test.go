package redisstore

import (
	"context"
	"empathybot/internal/coach"
	"empathybot/internal/support"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func benchRedis(b *testing.B) redis.UniversalClient {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		b.Skip("REDIS_URL is unset: this benchmark measures a real Redis")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 200
	rdb := redis.NewClient(opt)
	b.Cleanup(func() { rdb.Close() })
	return rdb
}

// BenchmarkReminders100k schedules 100,000 reminders due over a window and
// fires them with three replicas (three queue readers, each with the
// production handler's idempotency check), reporting firing lateness p50/p99,
// reminders per second, and how many deliveries the idempotency key absorbed.
// Run: REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench Reminders100k -benchtime 1x ./internal/redisstore/
func BenchmarkReminders100k(b *testing.B) {
	const n = 100_000
	window := 60 * time.Second
	if w := os.Getenv("BENCH_WINDOW"); w != "" {
		window, _ = time.ParseDuration(w)
	}
	rdb := benchRedis(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for it := 0; it < b.N; it++ {
		prefix := fmt.Sprintf("bench:%d:", time.Now().UnixNano())
		s := New(rdb, prefix, time.Hour)
		q := NewQueue(s, log)
		ctx, cancel := context.WithCancel(context.Background())

		// Schedule: due times spread evenly over the window, starting after
		// scheduling is expected to finish.
		start := time.Now().Add(15 * time.Second)
		schedStart := time.Now()
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for w := 0; w < 32; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= n {
						return
					}
					due := start.Add(time.Duration(i) * window / n)
					r := support.Reminder{Kind: support.KindResponse, Channel: "CBENCH", Thread: fmt.Sprintf("1700000000.%06d", i), Gen: 1, N: 1, Due: due.UnixMilli()}
					if err := q.Schedule(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		schedDur := time.Since(schedStart)
		if time.Now().After(start) {
			b.Logf("warning: scheduling took %v, past the first due time", schedDur)
		}

		var mu sync.Mutex
		late := make([]time.Duration, 0, n)
		var absorbed, effects atomic.Int64
		done := make(chan struct{})
		handler := func(ctx context.Context, r support.Reminder) error {
			st, err := s.BeginDelivery(ctx, r.ID(), time.Minute)
			if err != nil {
				return err
			}
			if st != support.DeliveryOK {
				absorbed.Add(1)
				return nil
			}
			l := time.Since(r.DueAt())
			if err := s.FinishDelivery(ctx, r.ID(), support.DeliverySent); err != nil {
				return err
			}
			mu.Lock()
			late = append(late, l)
			mu.Unlock()
			if effects.Add(1) == n {
				close(done)
			}
			return nil
		}
		var serving sync.WaitGroup
		for rep := 0; rep < 3; rep++ {
			serving.Add(1)
			go func() {
				defer serving.Done()
				NewQueue(s, log).Serve(ctx, 5*time.Second, Handlers{Reminder: handler})
			}()
		}
		select {
		case <-done:
		case <-time.After(window + 5*time.Minute):
			b.Errorf("only %d of %d reminders fired", effects.Load(), n)
		}
		fired := time.Since(start)
		// Give duplicates a chance to show up before stopping.
		time.Sleep(2 * time.Second)
		cancel()
		serving.Wait()

		slices.Sort(late)
		pct := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
		b.ReportMetric(float64(pct(0.50).Milliseconds()), "late-p50-ms")
		b.ReportMetric(float64(pct(0.99).Milliseconds()), "late-p99-ms")
		b.ReportMetric(float64(late[len(late)-1].Milliseconds()), "late-max-ms")
		b.ReportMetric(float64(n)/fired.Seconds(), "reminders/s")
		b.ReportMetric(float64(n)/schedDur.Seconds(), "scheduled/s")
		b.ReportMetric(float64(effects.Load()), "effects")
		b.ReportMetric(float64(absorbed.Load()), "doubles-absorbed")
		if effects.Load() != n {
			b.Errorf("%d effects, want exactly %d", effects.Load(), n)
		}
		s.Purge(context.Background())
	}
}

// BenchmarkThreadMemory reports Redis memory per tracked thread: the thread
// hash, its cooldown, one reply mapping, and (separately) what the record
// step queued for it: a nudge and a response reminder.
func BenchmarkThreadMemory(b *testing.B) {
	const threads = 1000
	rdb := benchRedis(b)
	ctx := context.Background()
	for it := 0; it < b.N; it++ {
		prefix := fmt.Sprintf("mem:%d:", time.Now().UnixNano())
		s := New(rdb, prefix, 720*time.Hour)
		now := time.Now()
		var ours, queue int64
		sh := s.shardOf("C0123456789", "1700000000.000000")
		for i := 0; i < threads; i++ {
			ts := fmt.Sprintf("1700000000.%06d", i)
			v := support.Verdict{Score: 0.87, Frustrated: true, Cue: "repeated_contact"}
			n := &support.NudgeTask{Channel: "C0123456789", Thread: ts, TS: ts, At: now.UnixMilli(),
				Basis: coach.Default().Basis(coach.Default().Assess("This is the third time I'm asking and it's still broken."))}
			rec := support.CustomerRecord{EventID: "Ev" + ts, Channel: "C0123456789", Thread: ts, TS: ts, User: "U0123456789", At: now,
				Verdicts: [3]support.Verdict{v, v, v}, Nudges: [3]*support.NudgeTask{n, n, n}, Cooldown: 10 * time.Minute, ReminderDue: now.Add(time.Hour)}
			s.RecordCustomer(ctx, rec)
			s.RecordAgentReply(ctx, support.AgentRecord{EventID: "Ev" + ts + "1", Channel: "C0123456789", Thread: ts, TS: ts + "1", Agent: "U0AGENT0001", At: now})
			rec.EventID, rec.TS = "Ev"+ts+"2", ts+"2"
			s.RecordCustomer(ctx, rec)
			ours += rdb.MemoryUsage(ctx, s.threadKey("C0123456789", ts), 0).Val()
		}
		// The delivery queue, written by the record steps above: each
		// thread's response reminder (the due set and its envelopes) and
		// its nudge (the stream; no replica reads it here, so every nudge
		// is still in it), shared by the threads of the shard.
		for _, k := range []string{s.dueKey(sh), s.taskKey(sh), s.streamKey(sh)} {
			queue += rdb.MemoryUsage(ctx, k, 0).Val()
		}
		b.ReportMetric(float64(ours)/threads, "store-B/thread")
		b.ReportMetric(float64(queue)/threads, "queue-B/thread")
		b.ReportMetric(float64(ours+queue)/threads, "total-B/thread")
		s.Purge(ctx)
	}
}

// BenchmarkRecordPath measures the ack path without Slack: the desk's
// Message (the coach's assessment, then the record step that also queues
// what it arms) over a real Redis, from 64 goroutines, on the loadgen mix
// (80% calm, 15% frustrated, 5% agent replies) over 5,000 threads. It
// reports messages per second, the p99 of one Message, and Redis commands
// per message (INFO commandstats; run it alone on the Redis).
// Run: REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench RecordPath -benchtime 100000x ./internal/redisstore/
func BenchmarkRecordPath(b *testing.B) {
	rdb := benchRedis(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("rp:%d:", time.Now().UnixNano())
	s := New(rdb, prefix, time.Hour)
	b.Cleanup(func() { s.Purge(context.Background()) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	desk := support.NewDesk(log, coach.Default(), s, NewQueue(s, log), nil, benchDirectory{},
		support.Config{Cooldown: 10 * time.Minute, Policy: support.Policy{ResponseAfter: time.Hour, MaxReminders: 2}})
	calm := []string{"Hi, how do I export last month's invoices?", "Thanks, that worked!", "Is there an API for reports?", "Where can I change my billing email?"}
	angry := []string{"This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous.",
		"I've been waiting two days for a reply. Unacceptable.", "STILL NOT WORKING!!! I want to speak to a manager."}
	reply := "I'm on it now and will update you by 3pm."
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	before := commandCount(ctx, rdb)
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := seq.Add(1)
			th := fmt.Sprintf("1700000000.%06d", i*7919%5000)
			m := support.Message{EventID: fmt.Sprintf("Ev%d", i), Channel: "CBENCH", Thread: th, TS: fmt.Sprintf("1800000000.%06d", i), User: "UCUSTOMER"}
			text := calm[i%int64(len(calm))]
			switch p := i * 31 % 100; {
			case p < 15:
				text = angry[i%int64(len(angry))]
			case p < 20:
				m.User, text = "UAGENT", reply
			}
			t0 := time.Now()
			if _, err := desk.Message(ctx, m, text); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	took := time.Since(start)
	b.StopTimer()
	cmds := commandCount(ctx, rdb) - before
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/took.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cmds)/float64(len(lat)), "redis-cmds/msg")
}

type benchDirectory struct{}

func (benchDirectory) Role(_ context.Context, user, _ string) support.Role {
	if user == "UAGENT" {
		return support.Agent
	}
	return support.Customer
}

func (d benchDirectory) RoleNow(user, team string) support.Role {
	return d.Role(context.Background(), user, team)
}

// commandCount is the total of Redis's INFO commandstats calls.
func commandCount(ctx context.Context, rdb redis.UniversalClient) int64 {
	info, _ := rdb.Info(ctx, "commandstats").Result()
	var n int64
	for _, line := range strings.Split(info, "\n") {
		if i := strings.Index(line, "calls="); i >= 0 {
			v, _ := strconv.ParseInt(strings.SplitN(line[i+6:], ",", 2)[0], 10, 64)
			n += v
		}
	}
	return n
}

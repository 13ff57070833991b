package redisstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/coach"
	"empathybot/internal/support"
	"empathybot/internal/support/supporttest"
)

// roundTrips counts what a client sends: one per command or pipeline.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// The record step of "decide, record, then ack" costs one Redis round trip
// for a calm customer message, an agent's reply and a frustrated message:
// the record script writes the nudge and the reminder it arms itself.
func TestRecordStepRoundTrips(t *testing.T) {
	s, rdb, _ := standalone(t)
	count := &roundTrips{}
	rdb.AddHook(count)
	clock := supporttest.NewClock(time.Now())
	q := NewQueue(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Purge(context.Background()) })
	desk := support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), s, q, &supporttest.Notifier{Clock: clock},
		supporttest.Directory{"UAGENT": true}, support.Config{Cooldown: time.Minute, Policy: support.Policy{ResponseAfter: 10 * time.Minute, MaxReminders: 2}})
	ctx := context.Background()
	msg := func(n int, thread, user, text string) int64 {
		t.Helper()
		before := count.n.Load()
		ts := fmt.Sprintf("1700000000.%06d", n)
		if thread == "" {
			thread = ts
		}
		if _, err := desk.Message(ctx, support.Message{EventID: fmt.Sprintf("Ev%d", n), Channel: "C1", Thread: thread, TS: ts, User: user}, text); err != nil {
			t.Fatal(err)
		}
		return count.n.Load() - before
	}
	const angry = "This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous."
	msg(1, "", "UCUST", angry) // warm the script cache
	msg(2, "1700000000.000001", "UAGENT", "On it.")
	if got := msg(10, "", "UCUST", "Hi, how do I export invoices?"); got != 1 {
		t.Errorf("a calm customer message took %d round trips, want 1", got)
	}
	if got := msg(11, "1700000000.000010", "UAGENT", "Settings → Billing → Export."); got != 1 {
		t.Errorf("an agent's reply took %d round trips, want 1", got)
	}
	if got := msg(12, "1700000000.000010", "UCUST", angry); got != 1 {
		t.Errorf("a frustrated customer message (nudge and reminder) took %d round trips, want 1", got)
	}
}

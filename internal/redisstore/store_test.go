package redisstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// newStore returns a store on REDIS_URL (the real server CI runs), or on the
// embedded server when REDIS_URL is unset, with a key prefix of its own.
func newStore(t *testing.T) (*Store, redis.UniversalClient, string) {
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

func TestDedupeAndCooldownAreOnceOnly(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	first, err := s.FirstDelivery(ctx, "Ev1")
	if err != nil || !first {
		t.Fatalf("first delivery: %v %v", first, err)
	}
	if again, _ := s.FirstDelivery(ctx, "Ev1"); again {
		t.Error("second delivery of Ev1 reported as first")
	}
	ok, _ := s.TryNudge(ctx, "C1", "1.1", time.Minute)
	ok2, _ := s.TryNudge(ctx, "C1", "1.1", time.Minute)
	if !ok || ok2 {
		t.Errorf("TryNudge: %v then %v, want true then false", ok, ok2)
	}
	th, err := s.GetThread(ctx, "C1", "1.1")
	if err != nil || th.Nudges != 1 {
		t.Errorf("thread after one nudge: %+v %v", th, err)
	}
}

func TestThreadStateAndAssignee(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.GetThread(ctx, "C1", "2.2"); err != ErrNotFound {
		t.Fatalf("unknown thread: %v", err)
	}
	at := time.UnixMilli(1700000000123)
	th, err := s.CustomerMessage(ctx, "C1", "2.2", "UC", at, 0.91, true, "waiting")
	if err != nil || !th.Frustrated || th.Cue != "waiting" || !th.LastCustomerAt.Equal(at) || th.LastScore != 0.91 {
		t.Fatalf("after customer message: %+v %v", th, err)
	}
	before, _ := s.AgentReply(ctx, "C1", "2.2", "UA")
	if before.AgentReplied || before.LastAgent != "" {
		t.Errorf("AgentReply must return the state before the reply: %+v", before)
	}
	th, _ = s.GetThread(ctx, "C1", "2.2")
	if th.Assignee() != "UA" || !th.AgentReplied {
		t.Errorf("after reply: %+v", th)
	}
	s.Claim(ctx, "C1", "2.2", "UB")
	th, _ = s.GetThread(ctx, "C1", "2.2")
	if th.Assignee() != "UB" {
		t.Errorf("a claim beats the last replier: %+v", th)
	}
}

func TestEveryKeyHasATTLAndNoText(t *testing.T) {
	s, rdb, prefix := newStore(t)
	ctx := context.Background()
	s.FirstDelivery(ctx, "Ev9")
	s.CustomerMessage(ctx, "C1", "3.3", "UC", time.Now(), 0.5, true, "failure")
	s.AgentReply(ctx, "C1", "3.3", "UA")
	s.TryNudge(ctx, "C1", "3.3", time.Minute)
	s.SetOnCall(ctx, "C1", "UA")
	s.Snooze(ctx, "UA", time.Hour)
	s.ShownTip(ctx, "UA", "ack-wait")
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) < 6 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s has TTL %v (err %v); want (0, retention]", k, ttl, err)
		}
	}
}

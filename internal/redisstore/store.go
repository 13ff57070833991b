// Package redisstore keeps empathybot's shared state in Redis: event dedupe,
// per-thread state, nudge cooldowns, on-call agents, snoozes and recently shown
// tips. It is the only package that imports go-redis. It never stores message
// text, and every key it writes has a TTL.
//
// Keys of one thread share the hash tag {channel:thread}, so multi-key
// transactions stay in one Redis Cluster slot.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("redisstore: not found")

// Store is the Redis-backed state.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
}

// New wraps a go-redis client. prefix starts every key ("empathy:" by
// default); retention is the TTL of thread state and on-call settings.
func New(rdb redis.UniversalClient, prefix string, retention time.Duration) *Store {
	if prefix == "" {
		prefix = "empathy:"
	}
	if retention <= 0 {
		retention = 720 * time.Hour
	}
	return &Store{rdb: rdb, prefix: prefix, retention: retention}
}

// Open connects to the Redis at url (redis:// or rediss://).
func Open(ctx context.Context, url, prefix string, retention time.Duration) (*Store, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	return New(redis.NewClient(opt), prefix, retention), nil
}

// Client returns the underlying client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Close closes the client.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

// DedupeTTL is how long an event ID is remembered; Slack retries within minutes.
const DedupeTTL = time.Hour

// FirstDelivery records eventID and reports whether this is its first delivery.
func (s *Store) FirstDelivery(ctx context.Context, eventID string) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.prefix+"evt:"+eventID, 1, DedupeTTL).Result()
	if err != nil {
		return false, fmt.Errorf("dedupe %s: %w", eventID, err)
	}
	return ok, nil
}

// Thread is the state of one support thread. It holds IDs, times and scores,
// never message text.
type Thread struct {
	Channel, TS    string
	ClaimedBy      string
	LastAgent      string
	LastCustomer   string
	LastCustomerAt time.Time
	LastScore      float64
	Frustrated     bool   // the last customer message was frustrated
	Cue            string // its primary cue kind
	AgentReplied   bool   // an agent replied after the last customer message
	Nudges         int
}

// Assignee is who owns the thread: the claimer, else the last agent to reply.
func (t Thread) Assignee() string {
	if t.ClaimedBy != "" {
		return t.ClaimedBy
	}
	return t.LastAgent
}

func (s *Store) threadKey(channel, ts string) string {
	return s.prefix + "th:{" + channel + ":" + ts + "}"
}

func (s *Store) cooldownKey(channel, ts string) string {
	return s.prefix + "cd:{" + channel + ":" + ts + "}"
}

// CustomerMessage records a customer message in a thread and returns the thread.
func (s *Store) CustomerMessage(ctx context.Context, channel, ts, user string, at time.Time, score float64, frustrated bool, cue string) (Thread, error) {
	key := s.threadKey(channel, ts)
	var get *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "customer", user, "customer_at", at.UnixMilli(), "score", strconv.FormatFloat(score, 'f', 3, 64),
			"frustrated", b2s(frustrated), "cue", cue, "agent_replied", "0")
		p.Expire(ctx, key, s.retention)
		get = p.HGetAll(ctx, key)
		return nil
	})
	if err != nil {
		return Thread{}, fmt.Errorf("record customer message %s/%s: %w", channel, ts, err)
	}
	return parseThread(channel, ts, get.Val()), nil
}

// AgentReply records an agent's reply and returns the thread as it was before
// the reply (so the caller can see whether the customer was frustrated).
func (s *Store) AgentReply(ctx context.Context, channel, ts, agent string) (Thread, error) {
	key := s.threadKey(channel, ts)
	var get *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HGetAll(ctx, key)
		p.HSet(ctx, key, "last_agent", agent, "agent_replied", "1")
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return Thread{}, fmt.Errorf("record agent reply %s/%s: %w", channel, ts, err)
	}
	return parseThread(channel, ts, get.Val()), nil
}

// Claim assigns the thread to agent.
func (s *Store) Claim(ctx context.Context, channel, ts, agent string) error {
	key := s.threadKey(channel, ts)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "claimed_by", agent)
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("claim %s/%s: %w", channel, ts, err)
	}
	return nil
}

// GetThread reads a thread; ErrNotFound when it is unknown.
func (s *Store) GetThread(ctx context.Context, channel, ts string) (Thread, error) {
	m, err := s.rdb.HGetAll(ctx, s.threadKey(channel, ts)).Result()
	if err != nil {
		return Thread{}, fmt.Errorf("get thread %s/%s: %w", channel, ts, err)
	}
	if len(m) == 0 {
		return Thread{}, ErrNotFound
	}
	return parseThread(channel, ts, m), nil
}

// TryNudge reports whether a nudge may be sent for the thread now, and if so
// starts its cooldown and counts the nudge. Across replicas only one caller wins.
func (s *Store) TryNudge(ctx context.Context, channel, ts string, cooldown time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.cooldownKey(channel, ts), 1, cooldown).Result()
	if err != nil {
		return false, fmt.Errorf("nudge cooldown %s/%s: %w", channel, ts, err)
	}
	if ok {
		key := s.threadKey(channel, ts)
		_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HIncrBy(ctx, key, "nudges", 1)
			p.Expire(ctx, key, s.retention)
			return nil
		})
		if err != nil {
			return true, fmt.Errorf("count nudge %s/%s: %w", channel, ts, err)
		}
	}
	return ok, nil
}

// SetOnCall makes agent the on-call agent of channel ("" clears it).
func (s *Store) SetOnCall(ctx context.Context, channel, agent string) error {
	key := s.prefix + "oncall:" + channel
	var err error
	if agent == "" {
		err = s.rdb.Del(ctx, key).Err()
	} else {
		err = s.rdb.Set(ctx, key, agent, s.retention).Err()
	}
	if err != nil {
		return fmt.Errorf("set on-call for %s: %w", channel, err)
	}
	return nil
}

// OnCall returns the on-call agent of channel, or "".
func (s *Store) OnCall(ctx context.Context, channel string) (string, error) {
	v, err := s.rdb.Get(ctx, s.prefix+"oncall:"+channel).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get on-call for %s: %w", channel, err)
	}
	return v, nil
}

// Snooze mutes nudges to agent for d (d <= 0 lifts the snooze).
func (s *Store) Snooze(ctx context.Context, agent string, d time.Duration) error {
	key := s.prefix + "snooze:" + agent
	var err error
	if d <= 0 {
		err = s.rdb.Del(ctx, key).Err()
	} else {
		err = s.rdb.Set(ctx, key, 1, d).Err()
	}
	if err != nil {
		return fmt.Errorf("snooze %s: %w", agent, err)
	}
	return nil
}

// Snoozed reports whether agent's nudges are muted.
func (s *Store) Snoozed(ctx context.Context, agent string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.prefix+"snooze:"+agent).Result()
	if err != nil {
		return false, fmt.Errorf("check snooze %s: %w", agent, err)
	}
	return n > 0, nil
}

// recentTips is how many tips per agent are remembered to avoid repeats.
const recentTips = 5

// RecentTips returns the tip IDs recently shown to agent, most recent first.
func (s *Store) RecentTips(ctx context.Context, agent string) ([]string, error) {
	v, err := s.rdb.LRange(ctx, s.prefix+"tips:"+agent, 0, recentTips-1).Result()
	if err != nil {
		return nil, fmt.Errorf("recent tips %s: %w", agent, err)
	}
	return v, nil
}

// ShownTip records that tip was shown to agent.
func (s *Store) ShownTip(ctx context.Context, agent, tip string) error {
	key := s.prefix + "tips:" + agent
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, tip)
		p.LTrim(ctx, key, 0, recentTips-1)
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record tip %s: %w", agent, err)
	}
	return nil
}

func parseThread(channel, ts string, m map[string]string) Thread {
	t := Thread{Channel: channel, TS: ts, ClaimedBy: m["claimed_by"], LastAgent: m["last_agent"],
		LastCustomer: m["customer"], Cue: m["cue"], Frustrated: m["frustrated"] == "1", AgentReplied: m["agent_replied"] == "1"}
	if ms, err := strconv.ParseInt(m["customer_at"], 10, 64); err == nil {
		t.LastCustomerAt = time.UnixMilli(ms)
	}
	t.LastScore, _ = strconv.ParseFloat(m["score"], 64)
	t.Nudges, _ = strconv.Atoi(m["nudges"])
	return t
}

func b2s(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/support"
)

// An agent's tense load is a sorted set by time of "ms|channel:thread|excess|h"
// (IDs, a time, a score, whether hostile), kept support.LoadKeep (or the
// retention period, when shorter);
// loadagents lists the agents who have one, by their last entry.

func (s *Store) loadKey(agent string) string { return s.prefix + "load:" + agent }

func (s *Store) loadAgentsKey() string { return s.prefix + "loadagents" }

// AddLoad implements support.Agents.
func (s *Store) AddLoad(ctx context.Context, agent string, e support.LoadEntry) error {
	h := "0"
	if e.Hostile {
		h = "1"
	}
	at := e.At.UnixMilli()
	member := fmt.Sprintf("%d|%s|%.3f|%s", at, e.Thread, e.Excess, h)
	keep := min(support.LoadKeep, s.retention) // EMPATHY_RETENTION bounds every key
	cut := strconv.FormatInt(at-keep.Milliseconds(), 10)
	key, agents := s.loadKey(agent), s.loadAgentsKey()
	// One ZADD most of the time: the TTLs are renewed, the old entries
	// trimmed and the agent listed once an hour per replica (Loads reads
	// from a time, so an entry past LoadKeep is never read before it goes).
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(at), Member: member})
		if s.ttlDue(key) {
			p.ZRemRangeByScore(ctx, key, "-inf", "("+cut)
			p.PExpire(ctx, key, keep)
			p.ZAdd(ctx, agents, redis.Z{Score: float64(at), Member: agent})
			p.ZRemRangeByScore(ctx, agents, "-inf", "("+cut)
			s.expireAfter(ctx, p, agents, keep)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record load of %s: %w", agent, err)
	}
	return nil
}

// Loads implements support.Agents.
func (s *Store) Loads(ctx context.Context, agent string, since time.Time) ([]support.LoadEntry, error) {
	ms, err := s.rdb.ZRangeByScore(ctx, s.loadKey(agent), &redis.ZRangeBy{Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("load of %s: %w", agent, err)
	}
	out := make([]support.LoadEntry, 0, len(ms))
	for _, m := range ms {
		p := strings.Split(m, "|")
		if len(p) != 4 {
			continue
		}
		at, err1 := strconv.ParseInt(p[0], 10, 64)
		x, err2 := strconv.ParseFloat(p[2], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, support.LoadEntry{At: time.UnixMilli(at), Thread: p[1], Excess: x, Hostile: p[3] == "1"})
	}
	return out, nil
}

// LoadAgents implements support.Agents.
func (s *Store) LoadAgents(ctx context.Context) ([]string, error) {
	a, err := s.rdb.ZRange(ctx, s.loadAgentsKey(), 0, 999).Result()
	if err != nil {
		return nil, fmt.Errorf("agents with a load: %w", err)
	}
	return a, nil
}

// Pause implements support.Agents.
func (s *Store) Pause(ctx context.Context, agent string, d time.Duration) error {
	return s.setFlag(ctx, s.prefix+"pause:"+agent, d, "pause "+agent)
}

// Paused implements support.Agents.
func (s *Store) Paused(ctx context.Context, agent string) (bool, error) {
	return s.flagged(ctx, s.prefix+"pause:"+agent, "check pause "+agent)
}

// TakeBreather implements support.Agents: one SET NX.
func (s *Store) TakeBreather(ctx context.Context, agent string, every time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.prefix+"breather:"+agent, 1, min(every, s.retention)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("breather of %s: %w", agent, err)
	}
	return ok, nil
}

package redisstore

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

func day(t time.Time) string { return t.UTC().Format("20060102") }

func (s *Store) statsKey(channel string, at time.Time) string {
	return s.prefix + "st:" + channel + ":" + day(at)
}

func (s *Store) waitsKey(channel string, at time.Time) string {
	return s.prefix + "rw:" + channel + ":" + day(at)
}

// countEvery is how long Count keeps its increments before it adds them to
// Redis in one round trip: at 200 messages a second, the counters of a
// channel's day (frustrated, nudges, moments, outcomes) were a third of a
// Redis command per message, one HINCRBY each; buffered, they are a few a
// second. Nothing is buffered while nothing is counted (no timer runs), a
// read of the stats on this replica adds the buffer first (it reads its
// own counts), and Close adds it before it closes. What a replica killed
// with SIGKILL had buffered, at most countEvery's counts, is lost: these
// are counts, never deliveries.
const countEvery = time.Second

// counts is Count's buffer: key → field → increment.
type counts struct {
	mu      sync.Mutex
	pending map[string]map[string]int64
	timer   *time.Timer
}

// Count adds one to per-channel, per-day counters, within countEvery.
func (s *Store) Count(ctx context.Context, channel string, at time.Time, fields ...string) error {
	if len(fields) == 0 {
		return nil
	}
	key := s.statsKey(channel, at)
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	for _, f := range fields {
		s.counts.add(key, f, 1)
	}
	s.flushLater()
	return nil
}

// add adds n to key's field in the buffer: with c.mu held.
func (c *counts) add(key, field string, n int64) {
	if c.pending == nil {
		c.pending = map[string]map[string]int64{}
	}
	if c.pending[key] == nil {
		c.pending[key] = map[string]int64{}
	}
	c.pending[key][field] += n
}

// flushLater arms the flush in countEvery, unless it is armed: with
// s.counts.mu held.
func (s *Store) flushLater() {
	if s.counts.timer != nil {
		return
	}
	s.counts.timer = time.AfterFunc(countEvery, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.flushCounts(ctx)
	})
}

// flushCounts adds the buffered counts to Redis in one pipeline. Counts
// whose command failed go back to the buffer, for the next flush: none is
// lost, and one whose answer was lost after Redis applied it is counted
// twice (these are counts, never deliveries).
func (s *Store) flushCounts(ctx context.Context) error {
	c := &s.counts
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
	if len(p) == 0 {
		return nil
	}
	type incr struct {
		key, field string
		n          int64
		cmd        *redis.IntCmd
	}
	var sent []incr
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for key, m := range p {
			for f, n := range m {
				sent = append(sent, incr{key, f, n, pl.HIncrBy(ctx, key, f, n)})
			}
			s.expire(ctx, pl, key)
		}
		return nil
	})
	if err == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range sent {
		if in.cmd.Err() != nil {
			c.add(in.key, in.field, in.n)
		}
	}
	s.flushLater()
	return fmt.Errorf("add counts: %w", err)
}

// maxWaitsPerDay bounds the first-reply samples kept per channel and day.
const maxWaitsPerDay = 10000

// AddReplyWait records how long a frustrated customer waited for the first
// agent reply.
func (s *Store) AddReplyWait(ctx context.Context, channel string, at time.Time, wait time.Duration) error {
	key := s.waitsKey(channel, at)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, wait.Milliseconds())
		p.LTrim(ctx, key, -maxWaitsPerDay, -1)
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record reply wait in %s: %w", channel, err)
	}
	return nil
}

// Feedback records a 👍 or 👎 on a nudge, counted per cue kind and technique.
func (s *Store) Feedback(ctx context.Context, channel, cue, technique string, useful bool, at time.Time) error {
	v := "down"
	if useful {
		v = "up"
	}
	key := s.statsKey(channel, at)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, "fb_"+v, 1)
		if cue != "" {
			p.HIncrBy(ctx, key, v+":cue:"+cue, 1)
		}
		if technique != "" {
			p.HIncrBy(ctx, key, v+":tech:"+technique, 1)
		}
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record feedback in %s: %w", channel, err)
	}
	return nil
}

// Stats sums the last days days (today included) of channel up to now.
func (s *Store) Stats(ctx context.Context, channel string, now time.Time, days int) (support.ChannelStats, error) {
	_ = s.flushCounts(ctx) // this replica's own counts first
	st := support.ChannelStats{Channel: channel, Days: days, Counts: map[string]int{}, ByCue: map[string][2]int{}, ByTech: map[string][2]int{}}
	hs := make([]*redis.MapStringStringCmd, days)
	ls := make([]*redis.StringSliceCmd, days)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < days; i++ {
			at := now.AddDate(0, 0, -i)
			hs[i] = p.HGetAll(ctx, s.statsKey(channel, at))
			ls[i] = p.LRange(ctx, s.waitsKey(channel, at), 0, -1)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("stats of %s: %w", channel, err)
	}
	var waits []int64
	for i := 0; i < days; i++ {
		today := map[string]int{}
		st.PerDay = append(st.PerDay, today)
		for k, v := range hs[i].Val() {
			n, _ := strconv.Atoi(v)
			switch {
			case k == "fb_up":
				st.Useful += n
			case k == "fb_down":
				st.NotUsed += n
			case strings.HasPrefix(k, "up:") || strings.HasPrefix(k, "down:"):
				dir, rest, _ := strings.Cut(k, ":")
				kind, name, _ := strings.Cut(rest, ":")
				m := st.ByCue
				if kind == "tech" {
					m = st.ByTech
				}
				c := m[name]
				if dir == "up" {
					c[0] += n
				} else {
					c[1] += n
				}
				m[name] = c
			default:
				st.Counts[k] += n
				today[k] = n
			}
		}
		for _, v := range ls[i].Val() {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				waits = append(waits, ms)
			}
		}
	}
	st.FirstReplies = len(waits)
	if len(waits) > 0 {
		slices.Sort(waits)
		mid := len(waits) / 2
		m := waits[mid]
		if len(waits)%2 == 0 {
			m = (waits[mid-1] + waits[mid]) / 2
		}
		st.MedianFirstReply = time.Duration(m) * time.Millisecond
	}
	return st, nil
}

func openMember(o support.OpenItem) string {
	return o.Kind + "|" + o.Channel + "|" + o.Thread + "|" + o.TaskID
}

func (s *Store) openKey(agent string) string { return s.prefix + "open:" + agent }

// maxOpen bounds an agent's open-item list.
const maxOpen = 200

// AddOpen lists item among agent's open reminders and check-ins.
func (s *Store) AddOpen(ctx context.Context, agent string, item support.OpenItem) error {
	key := s.openKey(agent)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(item.Due.UnixMilli()), Member: openMember(item)})
		p.ZRemRangeByRank(ctx, key, 0, -maxOpen-1)
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add open item for %s: %w", agent, err)
	}
	return nil
}

// RemoveOpen takes every open item of agent for the task out of the list.
func (s *Store) RemoveOpen(ctx context.Context, agent, taskID string) error {
	items, err := s.OpenItems(ctx, agent)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.TaskID == taskID {
			if err := s.rdb.ZRem(ctx, s.openKey(agent), openMember(it)).Err(); err != nil {
				return fmt.Errorf("remove open item for %s: %w", agent, err)
			}
		}
	}
	return nil
}

// OpenItems lists agent's open items, soonest first.
func (s *Store) OpenItems(ctx context.Context, agent string) ([]support.OpenItem, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.openKey(agent), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("open items of %s: %w", agent, err)
	}
	out := make([]support.OpenItem, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		parts := strings.SplitN(m, "|", 4)
		if len(parts) != 4 {
			continue
		}
		out = append(out, support.OpenItem{Kind: parts[0], Channel: parts[1], Thread: parts[2], TaskID: parts[3], Due: time.UnixMilli(int64(z.Score))})
	}
	return out, nil
}

// beginScript takes a delivery's lease. The key holds "pending:<ms>" while
// an attempt holds the lease (until <ms>, by Redis's clock) and has not yet
// called Slack, "sending:<ms>" once it may have (MarkSending), "unknown"
// after an attempt whose outcome was unknown, and "done" once delivered. It
// lives for the retention period, so that a lease whose holder died is still
// there when it runs out: if the holder may have called Slack, the next
// attempt is told to check.
var beginScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 'done' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = 'ok'
if v then
  local phase, till = string.match(v, '^(%a+):(%d+)$')
  if till and tonumber(till) > now then return 'busy' end
  if phase ~= 'pending' then state = 'check' end
end
redis.call('SET', KEYS[1], 'pending:' .. (now + tonumber(ARGV[1])), 'PX', ARGV[2])
return state`)

// sendingScript marks a held lease as one whose holder may have called
// Slack, keeping its expiry.
var sendingScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local till = string.match(v, '^pending:(%d+)$')
if not till then return 0 end
redis.call('SET', KEYS[1], 'sending:' .. till, 'KEEPTTL')
return 1`)

// MarkSending records that the holder of delivery id's lease is about to
// call Slack: if it dies now, the next attempt checks before sending.
func (s *Store) MarkSending(ctx context.Context, id string) error {
	if err := sendingScript.Run(ctx, s.rdb, []string{s.prefix + "dl:" + id}).Err(); err != nil {
		return fmt.Errorf("mark delivery %s sending: %w", id, err)
	}
	return nil
}

// BeginDelivery takes the idempotency key id for lease. Only one caller
// across replicas gets support.DeliveryOK or support.DeliveryCheck (the
// latter when an earlier attempt may have reached Slack: its outcome was
// unknown, or its holder died and the lease ran out); once
// FinishDelivery(…, support.DeliverySent) ran, every later caller gets
// support.DeliveryDone.
func (s *Store) BeginDelivery(ctx context.Context, id string, lease time.Duration) (string, error) {
	v, err := beginScript.Run(ctx, s.rdb, []string{s.prefix + "dl:" + id}, lease.Milliseconds(), max(s.retention, lease).Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("begin delivery %s: %w", id, err)
	}
	return v, nil
}

// Delivered reports whether delivery id was sent, or may have been: done,
// unknown, or being sent (its holder called Slack, and a button in what
// it sent can be clicked before the outcome is recorded).
func (s *Store) Delivered(ctx context.Context, id string) (bool, error) {
	v, err := s.rdb.Get(ctx, s.prefix+"dl:"+id).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery %s: %w", id, err)
	}
	return v == "done" || v == "unknown" || strings.HasPrefix(v, "sending:"), nil
}

// FinishDelivery records an attempt's outcome: sent keeps the key as done
// for the retention period; unknown keeps a mark the next attempt reads
// (support.DeliveryCheck); failed releases it for a retry.
func (s *Store) FinishDelivery(ctx context.Context, id, outcome string) error {
	key := s.prefix + "dl:" + id
	var err error
	switch outcome {
	case support.DeliverySent:
		err = s.rdb.Set(ctx, key, "done", s.retention).Err()
	case support.DeliveryUnknown:
		err = s.rdb.Set(ctx, key, "unknown", s.retention).Err()
	default:
		err = s.rdb.Del(ctx, key).Err()
	}
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", id, err)
	}
	return nil
}

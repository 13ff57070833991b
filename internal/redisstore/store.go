// Package redisstore keeps empathybot's shared state in Redis: event dedupe,
// per-thread state, nudge cooldowns, on-call agents, snoozes and recently shown
// tips. It is the only package that imports go-redis. It never stores message
// text, and every key it writes has a TTL.
//
// A thread's keys share a shard's hash tag ({q<n>}) with that shard's
// delivery stream and due set, so the record step that arms a delivery
// writes it in the same script, in one Redis Cluster slot (see queue.go).
package redisstore

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is the Redis-backed state.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
	// shards is how many delivery streams (and hash tags) the threads are
	// spread over: 1 on a single server, ClusterShards on a Redis Cluster.
	shards uint32
	// expired remembers, per shared key (a channel's reply map or stats of
	// a day, an agent's recent nudges), when this replica last set its TTL:
	// the TTL is set again at most once per expireEvery, not on every write.
	expired sync.Map // key → time.Time
	// counts buffers Count's increments (stats.go).
	counts counts
}

// expireEvery is how often a replica sets the TTL of a shared key it keeps
// writing. A key that Redis lost (a restart without persistence) and that
// a write created again has no TTL until then.
const expireEvery = time.Hour

// expire queues, on p, key's TTL (retention) if this replica has not set
// it within expireEvery.
func (s *Store) expire(ctx context.Context, p redis.Pipeliner, key string) {
	s.expireAfter(ctx, p, key, s.retention)
}

// queueTTL reports whether the script that writes to shard n's queue keys
// (its stream, due set and task envelopes) should set their TTL: when this
// replica has not in the last expireEvery. The keys are shared by every
// thread of the shard, so a PEXPIRE per message would be most of a
// reminder's cost; each reader also keeps them every tidyEvery (Queue.read).
// The due set and the envelope hash hold a sentinel, so the queue never
// empties them and Redis never deletes them: a key is made again only if
// Redis lost it (a restart without persistence), and then has its TTL from
// a reader within tidyEvery.
func (s *Store) queueTTL(n uint32) bool {
	return s.ttlDue("queue:" + strconv.FormatUint(uint64(n), 10))
}

// expireAfter is expire with a TTL of its own.
func (s *Store) expireAfter(ctx context.Context, p redis.Pipeliner, key string, ttl time.Duration) {
	if s.ttlDue(key) {
		p.PExpire(ctx, key, ttl)
	}
}

// ttlDue reports whether this replica should set key's TTL now: it has not
// within expireEvery. It counts the TTL as set from now.
func (s *Store) ttlDue(key string) bool {
	now := time.Now()
	if last, ok := s.expired.Load(key); ok && now.Sub(last.(time.Time)) < expireEvery {
		return false
	}
	s.expired.Store(key, now)
	return true
}

// ClusterShards is how many shards a store on a Redis Cluster spreads its
// threads and deliveries over: enough for the slots to spread over the
// masters, few enough that a replica reads them all with one connection
// each. It is fixed: a thread's keys are found by it.
const ClusterShards = 16

// New wraps a go-redis client. prefix starts every key ("empathy:" by
// default); retention is the TTL of thread state and on-call settings.
func New(rdb redis.UniversalClient, prefix string, retention time.Duration) *Store {
	if prefix == "" {
		prefix = "empathy:"
	}
	if retention <= 0 {
		retention = 720 * time.Hour
	}
	st := &Store{rdb: rdb, prefix: prefix, retention: retention, shards: 1}
	if _, ok := rdb.(*redis.ClusterClient); ok {
		st.shards = ClusterShards
	}
	return st
}

// shardOf is the shard of a thread (or, for a personal reminder, of a
// channel and user): FNV-1a of "channel:thread" modulo the shard count.
func (s *Store) shardOf(channel, thread string) uint32 {
	if s.shards <= 1 {
		return 0
	}
	h := uint32(2166136261)
	for _, b := range []byte(channel + ":" + thread) {
		h ^= uint32(b)
		h *= 16777619
	}
	return h % s.shards
}

// tag is shard n's hash tag.
func tag(n uint32) string { return "{q" + strconv.FormatUint(uint64(n), 10) + "}" }

// Purge deletes every key under the store's prefix, its delivery queue's
// included (for load tests and benchmarks that clean up after themselves). It scans
// a single server; on a cluster, scan each master.
func (s *Store) Purge(ctx context.Context) error {
	s.counts.mu.Lock()
	s.counts.pending = nil // counts not added yet go with the rest
	s.counts.mu.Unlock()
	for _, pat := range []string{s.prefix + "*"} {
		iter := s.rdb.Scan(ctx, 0, pat, 5000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
					return err
				}
				keys = keys[:0]
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close adds the counts Count has buffered, then closes the client.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.flushCounts(ctx)
	return s.rdb.Close()
}

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

func (s *Store) threadKey(channel, ts string) string {
	return s.prefix + "th:" + tag(s.shardOf(channel, ts)) + channel + ":" + ts
}

// Every read-modify-write of a thread is one script on one key.
var (
	resolveScript = redis.NewScript(luaFields + `
if redis.call('HGET', KEYS[1], F.resolved) == '1' then return {redis.call('HGETALL', KEYS[1]), 0} end
-- the check-in this resolution arms (generation: its time)
redis.call('HSET', KEYS[1], F.resolved, '1', F.resolved_at, ARGV[1], F.resolved_by, ARGV[2], F.followup, ARGV[1] .. ':1')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {redis.call('HGETALL', KEYS[1]), 1}`)

	// setIfExists sets fields of a thread only if the thread is known, so a
	// late write never resurrects an expired thread without a TTL.
	setScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)
)

func pairs(v any) map[string]string {
	arr, _ := v.([]any)
	m := make(map[string]string, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		k, _ := arr[i].(string)
		val, _ := arr[i+1].(string)
		m[k] = val
	}
	return m
}

// Resolve marks the thread resolved by agent at at. changed is false when it
// already was (a second ✅ must not schedule a second check-in).
func (s *Store) Resolve(ctx context.Context, channel, ts, agent string, at time.Time) (t support.Thread, changed bool, err error) {
	res, err := resolveScript.Run(ctx, s.rdb, []string{s.threadKey(channel, ts)}, at.UnixMilli(), agent, s.retention.Milliseconds()).Slice()
	if err != nil || len(res) != 2 {
		return support.Thread{}, false, fmt.Errorf("resolve %s/%s: %w", channel, ts, err)
	}
	return parseThread(channel, ts, pairs(res[0])), res[1] == int64(1), nil
}

// Claim assigns the thread to agent.
func (s *Store) Claim(ctx context.Context, channel, ts, agent string) error {
	err := claimScript.Run(ctx, s.rdb, []string{s.threadKey(channel, ts)}, agent, s.retention.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("claim %s/%s: %w", channel, ts, err)
	}
	return nil
}

// SetPending records the thread's scheduled response reminder or check-in
// (by generation and number; support.Thread rebuilds its ID), so it can be cancelled.
func (s *Store) SetPending(ctx context.Context, r support.Reminder) error {
	name := "reminder"
	if r.Kind == support.KindFollowup {
		name = "followup"
	}
	return s.setFields(ctx, r.Channel, r.Thread, field(name), strconv.FormatInt(r.Gen, 10)+":"+strconv.Itoa(r.N))
}

// RemindersDone marks the reminders of the thread's current customer message
// done: later repeats are not sent.
func (s *Store) RemindersDone(ctx context.Context, channel, ts string) error {
	return s.setFields(ctx, channel, ts, field("reminders_done"), "1")
}

func (s *Store) setFields(ctx context.Context, channel, ts string, kv ...string) error {
	args := []any{s.retention.Milliseconds()}
	for _, x := range kv {
		args = append(args, x)
	}
	if err := setScript.Run(ctx, s.rdb, []string{s.threadKey(channel, ts)}, args...).Err(); err != nil {
		return fmt.Errorf("update thread %s/%s: %w", channel, ts, err)
	}
	return nil
}

// GetThread reads a thread; support.ErrNotFound when it is unknown.
func (s *Store) GetThread(ctx context.Context, channel, ts string) (support.Thread, error) {
	m, err := s.rdb.HGetAll(ctx, s.threadKey(channel, ts)).Result()
	if err != nil {
		return support.Thread{}, fmt.Errorf("get thread %s/%s: %w", channel, ts, err)
	}
	if len(m) == 0 {
		return support.Thread{}, support.ErrNotFound
	}
	return parseThread(channel, ts, m), nil
}

// Tracked implements support.ThreadStore: one EXISTS.
func (s *Store) Tracked(ctx context.Context, channel, ts string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.threadKey(channel, ts)).Result()
	if err != nil {
		return false, fmt.Errorf("tracked %s/%s: %w", channel, ts, err)
	}
	return n == 1, nil
}

// claimScript makes ARGV[1] the thread's owner. A new owner (not the one
// who claimed it or last replied) gets a fresh cooldown: the nudge cooldown
// another agent's nudge or the triage card took is given back, so the
// customer's next frustrated message nudges the new owner.
var claimScript = redis.NewScript(luaFields + `
local h = redis.call('HMGET', KEYS[1], F.claimed_by, F.last_agent)
local owner = h[1] or h[2]
if owner ~= ARGV[1] then
  redis.call('HDEL', KEYS[1], F.nudge_until)
end
redis.call('HSET', KEYS[1], F.claimed_by, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

var releaseScript = redis.NewScript(luaFields + `
if redis.call('HDEL', KEYS[1], F.nudge_until) == 1 then redis.call('HINCRBY', KEYS[1], F.nudges, -1) end
return 1`)

// ReleaseNudge undoes TryNudge after a nudge could not be delivered, so the
// next frustrated message in the thread may nudge again.
func (s *Store) ReleaseNudge(ctx context.Context, channel, ts string) error {
	if err := releaseScript.Run(ctx, s.rdb, []string{s.threadKey(channel, ts)}).Err(); err != nil {
		return fmt.Errorf("release nudge %s/%s: %w", channel, ts, err)
	}
	return nil
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

// SetWatching implements support.ThreadStore.
func (s *Store) SetWatching(ctx context.Context, channel string, on bool) error {
	key := s.prefix + "off"
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if on {
			p.SRem(ctx, key, channel)
		} else {
			p.SAdd(ctx, key, channel)
		}
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return fmt.Errorf("watching %s: %w", channel, err)
	}
	return nil
}

// ChannelsOff implements support.ThreadStore. Reading renews the set's
// TTL (the retention period): the switches last while any replica runs.
func (s *Store) ChannelsOff(ctx context.Context) ([]string, error) {
	key := s.prefix + "off"
	var members *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		members = p.SMembers(ctx, key)
		p.Expire(ctx, key, s.retention)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("channels off: %w", err)
	}
	return members.Val(), nil
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

// Snooze mutes nudges to agent for d, at most the retention period (d <= 0
// lifts the snooze).
func (s *Store) Snooze(ctx context.Context, agent string, d time.Duration) error {
	return s.setFlag(ctx, s.prefix+"snooze:"+agent, d, "snooze "+agent)
}

// Snoozed reports whether agent's nudges are muted.
func (s *Store) Snoozed(ctx context.Context, agent string) (bool, error) {
	return s.flagged(ctx, s.prefix+"snooze:"+agent, "check snooze "+agent)
}

// setFlag sets a flag key for d (at most the retention period), or clears
// it (d ≤ 0): an agent's snooze or pause.
func (s *Store) setFlag(ctx context.Context, key string, d time.Duration, what string) error {
	var err error
	if d <= 0 {
		err = s.rdb.Del(ctx, key).Err()
	} else {
		err = s.rdb.Set(ctx, key, 1, min(d, s.retention)).Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// flagged reports whether a flag key is set.
func (s *Store) flagged(ctx context.Context, key, what string) (bool, error) {
	n, err := s.rdb.Exists(ctx, key).Result()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n > 0, nil
}

// recentNudges is how many nudges per agent are remembered (App Home shows
// them; the last few tips are avoided when choosing the next).
const recentNudges = 20

func (s *Store) nudgesKey(agent string) string { return s.prefix + "nudges:" + agent }

// Nudged records a nudge delivered to agent.
func (s *Store) Nudged(ctx context.Context, agent string, n support.NudgeRecord) error {
	key := s.nudgesKey(agent)
	v := strings.Join([]string{n.Tip, n.Channel, n.Thread, n.Cue, strconv.FormatInt(n.At.UnixMilli(), 10)}, "|")
	var length *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		length = p.LPush(ctx, key, v)
		s.expire(ctx, p, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record nudge for %s: %w", agent, err)
	}
	// The list is cut back to recentNudges once it holds twice as many,
	// not on every nudge: readers take the first n.
	if length.Val() >= 2*recentNudges {
		if err := s.rdb.LTrim(ctx, key, 0, recentNudges-1).Err(); err != nil {
			return fmt.Errorf("record nudge for %s: %w", agent, err)
		}
	}
	return nil
}

// RecentNudges returns agent's last n nudges, newest first.
func (s *Store) RecentNudges(ctx context.Context, agent string, n int) ([]support.NudgeRecord, error) {
	n = min(n, recentNudges) // the list may hold more until it is cut back
	vs, err := s.rdb.LRange(ctx, s.nudgesKey(agent), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("recent nudges of %s: %w", agent, err)
	}
	out := make([]support.NudgeRecord, 0, len(vs))
	for _, v := range vs {
		p := strings.Split(v, "|")
		if len(p) != 5 {
			continue
		}
		out = append(out, support.NudgeRecord{Tip: p[0], Channel: p[1], Thread: p[2], Cue: p[3], At: msTime(p[4])})
	}
	return out, nil
}

// RecentTips returns the tips of agent's last five nudges, most recent first.
func (s *Store) RecentTips(ctx context.Context, agent string) ([]string, error) {
	ns, err := s.RecentNudges(ctx, agent, 5)
	tips := make([]string, len(ns))
	for i, n := range ns {
		tips[i] = n.Tip
	}
	return tips, err
}

func parseThread(channel, ts string, m map[string]string) support.Thread {
	get := func(name string) string { return m[field(name)] }
	t := support.Thread{Channel: channel, TS: ts, ClaimedBy: get("claimed_by"), LastAgent: get("last_agent"),
		LastCustomer: get("customer"), Cue: get("cue"), Frustrated: get("frustrated") == "1", AgentReplied: get("agent_replied") == "1",
		Resolved: get("resolved") == "1", ResolvedBy: get("resolved_by"), RemindersDone: get("reminders_done") == "1", FirstReplyWait: -1}
	t.LastCustomerAt = msTime(get("customer_at"))
	t.ResolvedAt = msTime(get("resolved_at"))
	t.WaitingSince = msTime(get("waiting_since"))
	t.EverFrustrated = get("first_frustrated") != ""
	t.LastScore, _ = strconv.ParseFloat(get("score"), 64)
	t.Nudges, _ = strconv.Atoi(get("nudges"))
	// A reply is a message whose ts is not the thread's: the last customer
	// message or the last agent reply says whether there has been one.
	ct, gt := get("customer_ts"), get("agent_ts")
	t.Replies = ct != "" && ct != ts || gt != "" && gt != ts
	t.PendingReminder = support.PendingID(support.KindResponse, channel, ts, get("reminder"))
	t.PendingFollowup = support.PendingID(support.KindFollowup, channel, ts, get("followup"))
	return t
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "" {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

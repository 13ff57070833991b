package redisstore

import (
	"context"
	"crypto/rand"
	"empathybot/internal/support"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The delivery queue, on Redis Streams.
//
// Each shard (see Store.shards) has three keys under its hash tag, beside the
// threads of that shard:
//
//   - q:{qN}    a stream of deliveries to make now, read by the consumer
//     group "deliver": every replica is a consumer, each entry goes to one;
//   - due:{qN}  a sorted set of the task IDs that fall due later, by due
//     time (Unix ms);
//   - task:{qN} a hash of those tasks' envelopes, by task ID.
//
// The record step writes a nudge (XADD) and the reminder it arms (ZADD,
// HSET) in its own script, so nothing is "armed" without its task. Each
// replica's reader moves what falls due from the due set to the stream
// (one script), reads the stream with a blocking XREADGROUP, and hands each
// entry to a worker. A worker acks (XACK, XDEL) when the delivery is done;
// a delivery to retry goes back to the due set with its back-off in the same
// script that acks it. While a delivery runs its entry is claimed again
// every few seconds (a heartbeat); an entry whose consumer has stopped
// (SIGKILL, a lost machine) is idle, and after ClaimIdle another replica
// takes it over with XAUTOCLAIM. Idle, a replica sends about three commands
// a second per shard: the blocking read and the due-set check, each once a
// Poll.

// Task types.
const (
	taskReminder = "reminder"
	taskNudge    = "nudge"
	taskReview   = "review"
)

// envelope is a task as the queue keeps it: IDs, times and a coach.Basis,
// never message text (see the payload types in support).
type envelope struct {
	Type string          `json:"t"`
	ID   string          `json:"i"`
	Try  int             `json:"n,omitempty"` // failed attempts so far
	Body json.RawMessage `json:"p"`
}

func newEnvelope(typ, id string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	e, err := json.Marshal(envelope{Type: typ, ID: id, Body: b})
	return string(e), err
}

// maxRetries: a delivery that fails (Slack down, Redis away) is retried with
// a back-off capped at one minute, for about three hours, then dropped and
// logged.
const maxRetries = 200

const group = "deliver"

func (s *Store) streamKey(n uint32) string { return s.prefix + "q:" + tag(n) }
func (s *Store) dueKey(n uint32) string    { return s.prefix + "due:" + tag(n) }
func (s *Store) taskKey(n uint32) string   { return s.prefix + "task:" + tag(n) }

// Queue delivers what the record step and the desk schedule: nudges and
// reviews now, reminders and check-ins when they fall due, each to one
// replica at a time, handed over when a replica stops.
type Queue struct {
	s        *Store
	log      *slog.Logger
	consumer string

	// Poll bounds how long the reader waits in one blocking read, and so how
	// late a reminder another replica scheduled sooner than any this
	// replica knew of can be. Default 1 s.
	Poll time.Duration
	// ClaimIdle is how long an entry's consumer must have been silent (no
	// heartbeat) before another replica takes it over. Default 6 s; the
	// heartbeat runs every ClaimIdle/4.
	ClaimIdle time.Duration
	// Concurrency is the number of deliveries handled at once per replica
	// (default 100).
	Concurrency int

	mu       sync.Mutex
	inflight map[uint32]map[string]bool // by shard, the entry IDs being handled
}

// NewQueue builds the queue over the store's Redis and keys.
func NewQueue(s *Store, log *slog.Logger) *Queue {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Queue{s: s, log: log, consumer: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		Poll: time.Second, ClaimIdle: support.Handover, Concurrency: 100, inflight: map[uint32]map[string]bool{}}
}

// sentinel is a member of every due set (at +inf: never due) and a field
// of every envelope hash, so that neither is deleted when the queue takes
// its last task: a key Redis deleted would come back without its TTL, and
// the scripts set the TTL only once an hour per replica (Store.queueTTL).
const sentinel = "~"

// luaKeep(due, tasks, ttl) puts the sentinel in the due set and the
// envelope hash and sets both keys' TTL.
const luaKeep = `
local function keep(due, tasks, ttl)
  redis.call('ZADD', due, '+inf', '` + sentinel + `')
  redis.call('HSET', tasks, '` + sentinel + `', '-')
  redis.call('PEXPIRE', due, ttl)
  redis.call('PEXPIRE', tasks, ttl)
end
`

// scheduleScript puts envelope ARGV[3] (ID ARGV[1]) in the due set at
// ARGV[2]; with a TTL ARGV[4] other than 0, it keeps the keys (luaKeep).
var scheduleScript = redis.NewScript(luaKeep + `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] ~= '0' then keep(KEYS[1], KEYS[2], ARGV[4]) end
return 1`)

// keepScript is a reader's periodic keep of its shard's keys: the
// sentinels and the TTLs of the due set, the envelopes and the stream.
var keepScript = redis.NewScript(luaKeep + `
keep(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
return 1`)

// queueTTL is the TTL argument of scheduleScript and retryScript for shard
// n: 0 when this replica set it recently (Store.queueTTL).
func (q *Queue) queueTTL(n uint32) int64 {
	if q.s.queueTTL(n) {
		return q.s.retention.Milliseconds()
	}
	return 0
}

// Schedule stores r, due at r.Due (one reminder per ID: scheduling it again
// replaces it).
func (q *Queue) Schedule(ctx context.Context, r support.Reminder) error {
	env, err := newEnvelope(taskReminder, r.ID(), r)
	if err != nil {
		return err
	}
	n := q.s.shardOf(reminderShard(r))
	err = scheduleScript.Run(ctx, q.s.rdb, []string{q.s.dueKey(n), q.s.taskKey(n)}, r.ID(), r.Due, env, q.queueTTL(n)).Err()
	if err != nil {
		return fmt.Errorf("schedule %s: %w", r.ID(), err)
	}
	return nil
}

// reminderShard is what a reminder is sharded by: its thread, or for a
// personal reminder its channel and user.
func reminderShard(r support.Reminder) (string, string) {
	if r.Thread == "" {
		return r.Channel, "u:" + r.User
	}
	return r.Channel, r.Thread
}

// Cancel removes a scheduled reminder of the thread. A reminder that already
// fired, is being delivered, or never existed is not an error: every
// delivery checks the thread's state anyway, so cancelling is tidiness, not
// correctness.
func (q *Queue) Cancel(ctx context.Context, channel, thread, id string) error {
	if id == "" {
		return nil
	}
	n := q.s.shardOf(channel, thread)
	_, err := q.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, q.s.dueKey(n), id)
		p.HDel(ctx, q.s.taskKey(n), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	return nil
}

// Depth returns how many tasks are scheduled (not yet due) and pending (in
// the streams: due, or being delivered).
func (q *Queue) Depth(ctx context.Context) (scheduled, pending int, err error) {
	for n := uint32(0); n < q.s.shards; n++ {
		var zc, xl *redis.IntCmd
		if _, err := q.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			zc = p.ZCount(ctx, q.s.dueKey(n), "-inf", "1e300") // not the sentinel, at +inf
			xl = p.XLen(ctx, q.s.streamKey(n))
			return nil
		}); err != nil {
			return 0, 0, err
		}
		scheduled += int(zc.Val())
		pending += int(xl.Val())
	}
	return scheduled, pending, nil
}

// Handlers deliver tasks. An error means "not delivered, retry later"; a
// *support.RetryLater error says how much later.
type Handlers struct {
	Reminder func(ctx context.Context, r support.Reminder) error
	Nudge    func(ctx context.Context, n support.NudgeTask) error
	Review   func(ctx context.Context, r support.ReviewTask) error
}

// retryDelay is the back-off before retry n: exponential from one second,
// capped at a minute, with ±20% jitter so replicas do not retry in step; at
// least a rate limit's Retry-After.
func retryDelay(n int, err error) time.Duration {
	d := min(time.Duration(1<<min(n, 6))*time.Second, time.Minute)
	var rl *support.RetryLater
	if errors.As(err, &rl) && rl.After > 0 {
		d = rl.After
	}
	return d + time.Duration(mrand.Int64N(int64(d)/5+1))
}

// moveScript moves up to ARGV[2] tasks due by ARGV[1] from the due set to
// the stream, and returns the next due time (-1: none).
var moveScript = redis.NewScript(`
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #first == 0 or first[1] == '` + sentinel + `' then return '-1' end
if tonumber(first[2]) > tonumber(ARGV[1]) then return first[2] end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local envs = redis.call('HMGET', KEYS[3], unpack(ids))
for i, id in ipairs(ids) do
  if envs[i] then redis.call('XADD', KEYS[1], '*', 'd', envs[i]) end
end
redis.call('ZREM', KEYS[2], unpack(ids))
redis.call('HDEL', KEYS[3], unpack(ids))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #nxt == 0 or nxt[1] == '` + sentinel + `' then return '-1' end
return nxt[2]`)

// retryScript acks entry ARGV[1] and schedules its envelope ARGV[3] (ID
// ARGV[2]) again at ARGV[4], in one step: a retry is never lost between
// the two.
var retryScript = redis.NewScript(luaKeep + `
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
if ARGV[5] ~= '0' then keep(KEYS[2], KEYS[3], ARGV[5]) end
redis.call('XACK', KEYS[1], ARGV[6], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1`)

// Serve reads and delivers until ctx ends, then stops reading and waits up
// to grace for the deliveries in progress (one that does not finish stays
// claimed by this replica and is handed over after ClaimIdle). It does not
// wait for a read blocked in Redis (up to Poll): what such a read returns
// after ctx ended is not started, and is handed over the same way.
func (q *Queue) Serve(ctx context.Context, grace time.Duration, h Handlers) error {
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	slots := make(chan struct{}, max(q.Concurrency, 1))
	w := &workers{}
	for n := uint32(0); n < q.s.shards; n++ {
		go q.read(ctx, work, n, slots, w, h)
	}
	go q.heartbeat(ctx)
	<-ctx.Done()
	w.close()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		stopWork()
		<-done
	}
	return nil
}

// workers counts the deliveries in progress; once closed it starts no more.
type workers struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start reports whether a delivery may start (and counts it); false once
// the queue is stopping.
func (w *workers) start() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.wg.Add(1)
	return true
}

func (w *workers) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// read is shard n's reader: it moves due tasks to the stream, reads new
// entries, takes over silent consumers' entries, and starts a worker for
// each.
func (q *Queue) read(ctx, work context.Context, n uint32, slots chan struct{}, w *workers, h Handlers) {
	stream, due, tasks := q.s.streamKey(n), q.s.dueKey(n), q.s.taskKey(n)
	var nextDue, lastClaim, lastTidy time.Time
	cursor := "0-0"
	failures := 0
	pause := func(err error) {
		failures++
		if failures == 1 || failures%30 == 0 {
			q.log.Warn("delivery queue: redis", "shard", n, "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)):
		}
	}
	if err := q.ensureGroup(ctx, stream); err != nil && ctx.Err() == nil {
		pause(err)
	}
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(nextDue) {
			v, err := moveScript.Run(ctx, q.s.rdb, []string{stream, due, tasks}, now.UnixMilli(), 100, q.s.retention.Milliseconds()).Text()
			if err != nil {
				if ctx.Err() == nil {
					pause(err)
				}
				continue
			}
			// Checked again at the next due time this replica knows of, and
			// at least every Poll: another replica may schedule sooner.
			next, _ := strconv.ParseFloat(v, 64)
			nextDue = now.Add(q.Poll)
			if next >= 0 && time.UnixMilli(int64(next)).Before(nextDue) {
				nextDue = time.UnixMilli(int64(next))
				if nextDue.Before(now) {
					nextDue = now // more than a batch was due: move the rest next time round
				}
			}
		}
		if time.Since(lastTidy) >= tidyEvery {
			lastTidy = time.Now()
			q.tidy(ctx, stream)
			// The shard's sentinels and TTLs, which the scripts set only
			// once an hour per replica (Store.queueTTL).
			_ = keepScript.Run(ctx, q.s.rdb, []string{due, tasks, stream}, q.s.retention.Milliseconds()).Err()
		}
		// Read at most a batch; each entry then waits for a free worker
		// (kept claimed by the heartbeat meanwhile), and the next read waits
		// until the whole batch has one.
		free := min(max(q.Concurrency, 1), 100)
		var entries []redis.XMessage
		var err error
		if time.Since(lastClaim) >= q.ClaimIdle/2 {
			lastClaim = time.Now()
			var next string
			entries, next, err = q.s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: group, Consumer: q.consumer,
				MinIdle: q.ClaimIdle, Start: cursor, Count: int64(free)}).Result()
			if err == nil {
				cursor = next
				if len(entries) > 0 {
					q.log.Info("took over deliveries of a silent replica", "shard", n, "entries", len(entries))
				}
			}
		}
		if err == nil && len(entries) == 0 {
			block := min(max(time.Until(nextDue), time.Millisecond), q.Poll, max(time.Until(lastClaim.Add(q.ClaimIdle/2)), time.Millisecond))
			var res []redis.XStream
			res, err = q.s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: q.consumer, Streams: []string{stream, ">"},
				Count: int64(free), Block: block}).Result()
			if errors.Is(err, redis.Nil) {
				err = nil
			}
			for _, s := range res {
				entries = append(entries, s.Messages...)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				// The stream expired with its group (nothing written for
				// the retention period): make both again.
				err = q.ensureGroup(ctx, stream)
			}
			if err != nil {
				pause(err)
			}
			continue
		}
		failures = 0
		for _, e := range entries {
			q.track(n, e.ID, true)
		}
		for i, e := range entries {
			started := false
			select {
			case slots <- struct{}{}:
				if started = w.start(); !started {
					<-slots
				}
			case <-ctx.Done():
			}
			if !started {
				// Not started: left claimed by this replica, and taken over
				// by another after ClaimIdle.
				for _, rest := range entries[i:] {
					q.track(n, rest.ID, false)
				}
				return
			}
			go func() {
				defer w.wg.Done()
				defer func() { <-slots }()
				defer q.track(n, e.ID, false)
				q.handle(work, n, e, h)
			}()
		}
	}
}

// tidyEvery is how often a reader removes the group's consumers that are
// gone: every replica that ever started is one (its name has its host and
// process), and Redis keeps them until told.
const tidyEvery = 10 * time.Minute

// goneAfter is how long a consumer with nothing pending must have been
// silent to count as gone.
var goneAfter = time.Hour

// tidy removes the consumers of stream's group that hold no entries and
// have not read for an hour: replicas that stopped.
func (q *Queue) tidy(ctx context.Context, stream string) {
	cs, err := q.s.rdb.XInfoConsumers(ctx, stream, group).Result()
	if err != nil {
		return // no group yet, or Redis away: next time
	}
	for _, c := range cs {
		if c.Name != q.consumer && c.Pending == 0 && c.Idle > goneAfter {
			_ = q.s.rdb.XGroupDelConsumer(ctx, stream, group, c.Name).Err()
		}
	}
}

func (q *Queue) ensureGroup(ctx context.Context, stream string) error {
	err := q.s.rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return q.s.rdb.PExpire(ctx, stream, q.s.retention).Err()
}

func (q *Queue) track(n uint32, id string, on bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if on {
		if q.inflight[n] == nil {
			q.inflight[n] = map[string]bool{}
		}
		q.inflight[n][id] = true
		return
	}
	delete(q.inflight[n], id)
}

// heartbeat claims this replica's entries in progress again every
// ClaimIdle/4, so that no other replica takes them over while they run.
// With nothing in progress it sends nothing.
func (q *Queue) heartbeat(ctx context.Context) {
	t := time.NewTicker(q.ClaimIdle / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		q.mu.Lock()
		busy := map[uint32][]string{}
		for n, ids := range q.inflight {
			for id := range ids {
				busy[n] = append(busy[n], id)
			}
		}
		q.mu.Unlock()
		for n, ids := range busy {
			err := q.s.rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.s.streamKey(n), Group: group, Consumer: q.consumer, Messages: ids}).Err()
			if err != nil && ctx.Err() == nil {
				q.log.Warn("delivery queue: heartbeat", "shard", n, "error", err)
			}
		}
	}
}

// handle delivers one entry and acks it, or schedules its retry.
func (q *Queue) handle(ctx context.Context, n uint32, e redis.XMessage, h Handlers) {
	raw, _ := e.Values["d"].(string)
	var env envelope
	if err := json.Unmarshal([]byte(raw), &env); err != nil || env.ID == "" {
		q.log.Error("delivery queue: malformed entry dropped", "shard", n, "entry", e.ID)
		q.ack(ctx, n, e.ID)
		return
	}
	err := q.run(ctx, env, h)
	if err == nil {
		q.ack(ctx, n, e.ID)
		return
	}
	if errors.Is(err, errPermanent) {
		q.log.Error("delivery queue: task dropped", "task", env.ID, "error", err)
		q.ack(ctx, n, e.ID)
		return
	}
	if env.Try >= maxRetries {
		q.log.Error("delivery queue: task dropped after its last retry", "task", env.ID, "retries", env.Try, "error", err)
		q.ack(ctx, n, e.ID)
		return
	}
	q.log.Warn("task not delivered; will retry", "task", env.ID, "retry", env.Try, "error", err)
	at := time.Now().Add(retryDelay(env.Try, err))
	env.Try++
	b, _ := json.Marshal(env)
	rctx := context.WithoutCancel(ctx)
	if err := retryScript.Run(rctx, q.s.rdb, []string{q.s.streamKey(n), q.s.dueKey(n), q.s.taskKey(n)},
		e.ID, env.ID, string(b), at.UnixMilli(), q.queueTTL(n), group).Err(); err != nil {
		// Not acked: the entry stays this replica's and is handed over
		// (to this one or another) after ClaimIdle.
		q.log.Warn("delivery queue: retry not recorded; the entry is taken over later", "task", env.ID, "error", err)
	}
}

var errPermanent = errors.New("permanent")

func (q *Queue) run(ctx context.Context, env envelope, h Handlers) error {
	switch env.Type {
	case taskReminder:
		var r support.Reminder
		if err := json.Unmarshal(env.Body, &r); err != nil {
			return fmt.Errorf("%w: bad reminder payload: %v", errPermanent, err)
		}
		// Moved by a replica whose clock may run ahead: wait for the due
		// time (a longer wait means the clocks disagree; retry).
		if early := time.Until(r.DueAt()); early > 0 {
			if early > 5*time.Second {
				return fmt.Errorf("reminder %s handed over %v early", r.ID(), early)
			}
			select {
			case <-time.After(early):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return h.Reminder(ctx, r)
	case taskNudge:
		var t support.NudgeTask
		if err := json.Unmarshal(env.Body, &t); err != nil {
			return fmt.Errorf("%w: bad nudge payload: %v", errPermanent, err)
		}
		return h.Nudge(ctx, t)
	case taskReview:
		var t support.ReviewTask
		if err := json.Unmarshal(env.Body, &t); err != nil {
			return fmt.Errorf("%w: bad review payload: %v", errPermanent, err)
		}
		return h.Review(ctx, t)
	}
	return fmt.Errorf("%w: unknown task type %q", errPermanent, env.Type)
}

func (q *Queue) ack(ctx context.Context, n uint32, id string) {
	ctx = context.WithoutCancel(ctx)
	_, err := q.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, q.s.streamKey(n), group, id)
		p.XDel(ctx, q.s.streamKey(n), id)
		return nil
	})
	if err != nil {
		// Not acked: handed over after ClaimIdle, and the delivery's
		// idempotency key makes the second run a duplicate.
		q.log.Warn("delivery queue: ack failed", "entry", id, "error", err)
	}
}

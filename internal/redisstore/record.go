package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/support"
)

// The record step of "decide, record, then ack", one script per message:
// dedupe, the thread by Slack's ts, the trajectory reading, the nudge
// cooldown and the response reminder, and the deliveries these arm
// (queue.go), atomically, on keys of one hash slot (the thread's shard).
// The thread keeps its last customer message's and last agent reply's
// dedupe IDs with their decisions: a redelivery of either gets the same
// decision back and arms nothing again; a redelivery of an older message
// is late (Slack's ts order) and arms nothing either. A calm message costs
// the script, one HMGET and one HSET.

// luaOlder compares two Slack timestamps ("1700000000.000100") as numbers
// without floating point: a shorter one is older; else by bytes.
const luaOlder = `
local function older(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
`

// The customer script. KEYS: the thread's hash, the shard's stream, due set
// and task envelopes. ARGV: 1 user, 2 at (ms), 3 ts, 4 retention (ms), 5
// the message's dedupe ID, 6 cooldown (ms), 7 the reminder's due time (ms,
// 0: none), 8-16 the three readings (score, frustrated, cue), 17-19 their
// nudges' envelopes, 20-21 the reminder's ID and envelope, 22 "1" for an
// edit of the message.
var recordCustomerScript = redis.NewScript(luaOlder + `
local th = KEYS[1]
local user, at, ts, retention, dedupe = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cooldown, due = tonumber(ARGV[6]), tonumber(ARGV[7])
-- What the thread holds, in one read.
local h = redis.call('HMGET', th, 'c', 'ar', 'r', 'f', 'wc', 'ct', 'gt', 'ff', 'nu', 'n', 'ce', 'cd', 'ex')
-- Dedupe: the thread keeps its last customer message's dedupe ID ('ce')
-- and decision ('cd'). A redelivery of it gets the decision back and arms
-- nothing again; a redelivery of an older one is late (below).
if h[11] == dedupe then return {'dup', h[12] or '', {}, 0, 0} end
local last, replied, resolved, frus, waiter, ct, gt = h[1], h[2] == '1', h[3] == '1', h[4] == '1', h[5], h[6], h[7]
-- The thread's trajectory is this customer's own: another customer's
-- "+1, same here" is no second ask, and does not stop the customer who
-- waits on a frustrated message ('wc') from writing again.
local v = 0
if last and not replied and not resolved then
  if last == user then
    if frus then v = 2 else v = 1 end
  elseif waiter == user then
    v = 2
  end
end
local edit = ARGV[22] == '1'
if (ct and (older(ts, ct) or (ts == ct and not edit))) or (gt and older(ts, gt)) or (edit and ts ~= ct) then
  -- Late: a newer customer message, or an agent reply after this one, is
  -- already recorded (or this one is, and this is its late redelivery; or
  -- this is an edit of a message that is no longer the last). The thread
  -- stays as it is; nothing is armed.
  return {'new', v .. '|0|0|1|0', {}, 0, 0}
end
local score, f, cue = ARGV[8 + v*3], ARGV[9 + v*3], ARGV[10 + v*3]
local set = {'c', user, 'ca', at, 's', score, 'f', f, 'q', cue, 'ct', ts}
local newly, nudge = 0, 0
if f == '1' then
  -- A frustrated message (re)starts the wait and re-arms reminders.
  table.insert(set, 'ws'); table.insert(set, at)
  table.insert(set, 'wc'); table.insert(set, user)
  if not h[8] then
    table.insert(set, 'ff'); table.insert(set, at)
    newly = 1
  end
  if tonumber(h[9] or '0') <= tonumber(at) then
    table.insert(set, 'nu'); table.insert(set, tonumber(at) + cooldown)
    table.insert(set, 'n'); table.insert(set, tonumber(h[10] or '0') + 1)
    nudge = 1
    -- The nudge to deliver, written by this step.
    redis.call('XADD', KEYS[2], '*', 'd', ARGV[17 + v])
    redis.call('PEXPIRE', KEYS[2], retention)
  end
  if due > 0 then
    -- The response reminder, in the shard's due set with its envelope.
    table.insert(set, 'ri'); table.insert(set, at .. ':1')
    redis.call('ZADD', KEYS[3], due, ARGV[20])
    redis.call('HSET', KEYS[4], ARGV[20], ARGV[21])
    redis.call('PEXPIRE', KEYS[3], retention)
    redis.call('PEXPIRE', KEYS[4], retention)
  end
  redis.call('HDEL', th, 'ar', 'r', 'rd')
else
  if replied or resolved then redis.call('HDEL', th, 'ar', 'r') end
  -- An edit that turns a complaint calm: the customer no longer waits on it.
  if edit and frus then redis.call('HDEL', th, 'ws', 'wc') end
end
local d = v .. '|' .. nudge .. '|' .. ((f == '1' and due > 0) and ARGV[7] or '0') .. '|0|' .. at
table.insert(set, 'ce'); table.insert(set, dedupe)
table.insert(set, 'cd'); table.insert(set, d)
-- The thread's TTL is renewed when a tenth of it has passed since it was
-- last set ('ex'), not on every message.
local renew = not h[13] or tonumber(at) - tonumber(h[13]) > tonumber(retention) / 10
if renew then table.insert(set, 'ex'); table.insert(set, at) end
redis.call('HSET', th, unpack(set))
if renew then redis.call('PEXPIRE', th, retention) end
-- The thread after the message, only when the caller has a use for it: a
-- message that reopens a resolved thread (its check-in to cancel).
local after = {}
if resolved then after = redis.call('HGETALL', th) end
return {'new', d, after, resolved and 1 or 0, newly}`)

// The agent script. KEYS: the thread's hash and the shard's stream. ARGV:
// 1 agent, 2 at (ms), 3 ts, 4 retention (ms), 5 the reply's dedupe ID, 6
// its review's envelope (empty for none). It returns the thread's fields the
// desk uses as they were before the reply.
var recordAgentScript = redis.NewScript(luaOlder + `
local th = KEYS[1]
local agent, at, ts, retention, dedupe, review = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local names = {'ct', 'gt', 'f', 'ar', 'ff', 'fr', 'ri', 'rd', 'la', 'cb', 'ae', 'ad', 'ex'}
local h = redis.call('HMGET', th, unpack(names))
local before = {}
for i = 1, 10 do
  if h[i] then table.insert(before, names[i]); table.insert(before, h[i]) end
end
if h[11] == dedupe then return {'dup', h[12] or '', before, -1} end
local ct, gt = h[1], h[2]
local waited = -1
local d
local set = {'la', agent}
if (ct and older(ts, ct)) or (gt and not older(gt, ts)) then
  -- Older than the customer's last message: it answered an earlier one
  -- (or a later agent reply is recorded, or this is its redelivery).
  d = 'late'
else
  d = 'none'
  if review ~= '' and h[3] == '1' and h[4] ~= '1' then
    -- The first reply to a frustrated customer: the review to deliver,
    -- written by this step.
    d = 'review'
    redis.call('XADD', KEYS[2], '*', 'd', review)
    redis.call('PEXPIRE', KEYS[2], retention)
  end
  for _, x in ipairs({'ar', '1', 'gt', ts}) do table.insert(set, x) end
  if h[5] and not h[6] then
    table.insert(set, 'fr'); table.insert(set, at)
    waited = tonumber(at) - tonumber(h[5])
  end
  redis.call('HDEL', th, 'ws', 'wc')
end
for _, x in ipairs({'ae', dedupe, 'ad', d}) do table.insert(set, x) end
local renew = not h[13] or tonumber(at) - tonumber(h[13]) > tonumber(retention) / 10
if renew then table.insert(set, 'ex'); table.insert(set, at) end
redis.call('HSET', th, unpack(set))
if renew then redis.call('PEXPIRE', th, retention) end
return {'new', d, before, waited}`)

// RecordCustomer is the record step for a customer message: one pipeline,
// one round trip (the reply map, for a reply, rides along). The script
// writes the nudge it decides on to the shard's delivery stream and the
// reminder it arms to the shard's due set.
func (s *Store) RecordCustomer(ctx context.Context, r support.CustomerRecord) (support.CustomerResult, error) {
	args := []any{r.User, r.At.UnixMilli(), r.TS, ms(r.Retention, s.retention), support.DedupeID(r.EventID, r.TS), r.Cooldown.Milliseconds(), dueMs(r.ReminderDue)}
	for _, v := range r.Verdicts {
		args = append(args, strconv.FormatFloat(v.Score, 'f', 3, 64), b2s(v.Frustrated), v.Cue)
	}
	for _, n := range r.Nudges {
		env := ""
		if n != nil {
			var err error
			if env, err = newEnvelope(taskNudge, n.ID(), n); err != nil {
				return support.CustomerResult{}, err
			}
		}
		args = append(args, env)
	}
	rem := support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: r.At.UnixMilli(), N: 1, Due: dueMs(r.ReminderDue)}
	remEnv := ""
	if rem.Due > 0 {
		var err error
		if remEnv, err = newEnvelope(taskReminder, rem.ID(), rem); err != nil {
			return support.CustomerResult{}, err
		}
	}
	args = append(args, rem.ID(), remEnv, b2s(r.Edit))
	res, err := s.recordStep(ctx, recordCustomerScript, r.Channel, r.Thread, r.TS, 5, true, args...)
	if err != nil {
		return support.CustomerResult{}, fmt.Errorf("record customer message %s/%s: %w", r.Channel, r.TS, err)
	}
	out := support.CustomerResult{Duplicate: res[0] == "dup", Thread: parseThread(r.Channel, r.Thread, pairs(res[2]))}
	out.Thread.Reopened = res[3] == int64(1)
	out.Thread.NewlyFrustrated = res[4] == int64(1)
	dec, _ := res[1].(string)
	f := strings.Split(dec, "|")
	if len(f) != 5 {
		return out, fmt.Errorf("record customer message %s/%s: bad decision %q", r.Channel, r.TS, dec)
	}
	out.Variant, _ = strconv.Atoi(f[0])
	out.Variant = min(max(out.Variant, support.Alone), support.AfterFrustrated)
	out.Nudge = f[1] == "1"
	out.Late = f[3] == "1"
	if due, _ := strconv.ParseInt(f[2], 10, 64); due > 0 {
		// The generation is the first delivery's receipt time, also on a
		// redelivery (a reminder a newer message superseded finds itself
		// moot when it falls due).
		gen, _ := strconv.ParseInt(f[4], 10, 64)
		out.Reminder = support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: gen, N: 1, Due: due}
	}
	return out, nil
}

// RecordAgentReply is the record step for an agent's reply; the script
// writes the review, when there is one and it is due, to the shard's
// delivery stream.
func (s *Store) RecordAgentReply(ctx context.Context, r support.AgentRecord) (support.AgentResult, error) {
	review := ""
	if r.Review != nil {
		var err error
		if review, err = newEnvelope(taskReview, r.Review.ID(), r.Review); err != nil {
			return support.AgentResult{}, err
		}
	}
	res, err := s.recordStep(ctx, recordAgentScript, r.Channel, r.Thread, r.TS, 4, false,
		r.Agent, r.At.UnixMilli(), r.TS, ms(r.Retention, s.retention), support.DedupeID(r.EventID, r.TS), review)
	if err != nil {
		return support.AgentResult{}, fmt.Errorf("record agent reply %s/%s: %w", r.Channel, r.TS, err)
	}
	dec, _ := res[1].(string)
	out := support.AgentResult{Duplicate: res[0] == "dup", Late: dec == "late", Review: dec == "review",
		Before: parseThread(r.Channel, r.Thread, pairs(res[2]))}
	out.Before.FirstReplyWait = -1
	if w, ok := res[3].(int64); ok && w >= 0 {
		out.Before.FirstReplyWait = time.Duration(w) * time.Millisecond
	}
	return out, nil
}

// recordStep runs a record script on the thread's keys, with a reply's
// thread mapping in the same round trip,
// and returns the script's reply, which must have n fields. Its keys are
// the thread's and the shard's delivery stream, and with due the shard's
// due set and task envelopes.
func (s *Store) recordStep(ctx context.Context, script *redis.Script, channel, thread, ts string, n int, due bool, args ...any) ([]any, error) {
	sh := s.shardOf(channel, thread)
	keys := []string{s.threadKey(channel, thread), s.streamKey(sh)}
	if due {
		keys = append(keys, s.dueKey(sh), s.taskKey(sh))
	}
	var cmd *redis.Cmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = script.Eval(ctx, p, keys, args...)
		s.mapReply(ctx, p, channel, ts, thread)
		return nil
	}); err != nil {
		return nil, err
	}
	res, err := cmd.Slice()
	if err == nil && len(res) != n {
		err = fmt.Errorf("the script replied %d fields, want %d", len(res), n)
	}
	return res, err
}

// mapReply queues, on p, the reply→thread mapping of a reply (nothing for
// a thread's parent message).
func (s *Store) mapReply(ctx context.Context, p redis.Pipeliner, channel, ts, thread string) {
	if ts == thread {
		return
	}
	key := s.replyKey(channel, ts)
	p.HSet(ctx, key, ts, thread)
	s.expire(ctx, p, key)
}

func dueMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func ms(d, fallback time.Duration) int64 {
	if d <= 0 {
		d = fallback
	}
	return d.Milliseconds()
}

var deletedScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'ct', 'f', 'ri', 'ws')
if h[1] ~= ARGV[1] or h[2] ~= '1' or not h[4] then return '' end
redis.call('HDEL', KEYS[1], 'ws', 'wc', 'ri')
redis.call('HSET', KEYS[1], 'f', '0')
return h[3] or ''`)

// MessageDeleted implements support.ThreadStore.
func (s *Store) MessageDeleted(ctx context.Context, channel, thread, ts string) (string, error) {
	v, err := deletedScript.Run(ctx, s.rdb, []string{s.threadKey(channel, thread)}, ts).Text()
	if err != nil {
		return "", fmt.Errorf("message deleted %s/%s: %w", channel, ts, err)
	}
	return support.PendingID(support.KindResponse, channel, thread, v), nil
}

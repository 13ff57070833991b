package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

// luaRead holds the record scripts' two functions: read, the thread's
// fields named in names with one HMGET, as a table by name (false when
// absent); and write (below).
const luaRead = `
local function read(th, names)
  local codes = {}
  for i, n in ipairs(names) do codes[i] = F[n] end
  local got = redis.call('HMGET', th, unpack(codes))
  local h = {}
  for i, n in ipairs(names) do h[n] = got[i] end
  return h
end
-- write sets the thread fields (by name) in one HSET, and renews the
-- thread's TTL when a tenth of it has passed since it was last set
-- (ttl_set), not on every message.
local function write(th, fields, ttl_set, at, retention)
  local renew = not ttl_set or tonumber(at) - tonumber(ttl_set) > tonumber(retention) / 10
  if renew then fields.ttl_set = at end
  local l = {}
  for n, v in pairs(fields) do table.insert(l, F[n]); table.insert(l, v) end
  redis.call('HSET', th, unpack(l))
  if renew then redis.call('PEXPIRE', th, retention) end
end
`

// customerArgs is the customer script's one argument, as JSON: the
// message, the three readings of it (by what the thread held before:
// support.Alone, AfterCalm, AfterFrustrated), the nudge each would
// deliver and the response reminder it arms. Times are Unix ms.
type customerArgs struct {
	User        string     `json:"user"`
	At          int64      `json:"at,string"`
	TS          string     `json:"ts"`
	RetentionMS int64      `json:"retention_ms,string"`
	Dedupe      string     `json:"dedupe"`
	CooldownMS  int64      `json:"cooldown_ms,string"`
	ReminderDue int64      `json:"reminder_due,string"` // 0: none
	Readings    [3]reading `json:"readings"`
	Nudges      [3]string  `json:"nudges"` // each reading's nudge envelope ("" where it is calm)
	ReminderID  string     `json:"reminder_id"`
	Reminder    string     `json:"reminder"` // its envelope
	Edit        bool       `json:"edit"`     // an edit of the message
	// QueueTTL: set the shard's queue keys' TTL (see Store.queueTTL).
	QueueTTL bool `json:"queue_ttl"`
}

type reading struct {
	Score      string `json:"score"`
	Frustrated bool   `json:"frustrated"`
	Cue        string `json:"cue"`
}

// decision is what the record step decided for a message, as the script
// returns it and keeps it in the thread for a redelivery (JSON, with short
// keys and only what is set: a hash value over 64 bytes would make Redis
// keep the whole thread in its larger encoding).
type decision struct {
	Variant     int    `json:"v"`
	Nudge       bool   `json:"n"`
	ReminderDue string `json:"due"` // Unix ms; absent: none
	Late        bool   `json:"late"`
	Gen         string `json:"gen"` // the first delivery's receipt time, Unix ms
	Review      bool   `json:"rv"`
}

// The customer script. KEYS: the thread's hash, the shard's stream, due set
// and task envelopes. ARGV[1]: customerArgs. It returns the kind ("dup" or
// "new"), the decision (JSON), the thread's fields when the message
// reopens a resolved thread, whether it did, whether this is the thread's
// first frustrated message, whether it follows an agent's reply in a
// thread that has been frustrated, and the thread's owner (its claimer,
// else its last agent; "" for none).
var recordCustomerScript = redis.NewScript(luaFields + luaOlder + luaRead + luaKeep + `
local a = cjson.decode(ARGV[1])
local th = KEYS[1]
local h = read(th, {'customer', 'agent_replied', 'resolved', 'frustrated', 'waiting_customer', 'customer_ts', 'agent_ts',
  'first_frustrated', 'nudge_until', 'nudges', 'customer_event', 'customer_decision', 'ttl_set', 'claimed_by', 'last_agent',
  'reminders_done'})
local owner = h.claimed_by or h.last_agent or ''
-- Dedupe: a redelivery of the thread's last customer message gets its
-- decision back and arms nothing again; a redelivery of an older one is
-- late (below).
if h.customer_event == a.dedupe then return {'dup', h.customer_decision or '{}', {}, 0, 0, 0, owner} end
local replied, resolved, frus = h.agent_replied == '1', h.resolved == '1', h.frustrated == '1'
local ct, gt = h.customer_ts, h.agent_ts
-- The thread's trajectory is this customer's own: another customer's
-- "+1, same here" is no second ask, and does not stop the customer who
-- waits on a frustrated message from writing again.
local v = 0
if h.customer and not replied and not resolved then
  if h.customer == a.user then
    if frus then v = 2 else v = 1 end
  elseif h.waiting_customer == a.user then
    v = 2
  end
end
if (ct and (older(a.ts, ct) or (a.ts == ct and not a.edit))) or (gt and older(a.ts, gt)) or (a.edit and a.ts ~= ct) then
  -- Late: a newer customer message, or an agent reply after this one, is
  -- already recorded (or this one is, and this is its late redelivery; or
  -- this is an edit of a message that is no longer the last). The thread
  -- stays as it is; nothing is armed.
  return {'new', cjson.encode({v = v, late = true}), {}, 0, 0, 0, owner}
end
local r = a.readings[v + 1]
local f = r.frustrated and '1' or '0'
local fields = {customer = a.user, customer_at = a.at, score = r.score, frustrated = f, cue = r.cue, customer_ts = a.ts}
local due = tonumber(a.reminder_due)
local newly, nudge = 0, false
if r.frustrated then
  -- A frustrated message (re)starts the wait and re-arms reminders.
  fields.waiting_since, fields.waiting_customer = a.at, a.user
  if not h.first_frustrated then
    fields.first_frustrated = a.at
    newly = 1
  end
  if tonumber(h.nudge_until or '0') <= tonumber(a.at) then
    fields.nudge_until = tostring(tonumber(a.at) + tonumber(a.cooldown_ms))
    fields.nudges = tostring(tonumber(h.nudges or '0') + 1)
    nudge = true
    -- The nudge to deliver, written by this step.
    redis.call('XADD', KEYS[2], '*', 'd', a.nudges[v + 1])
  end
  if due > 0 then
    -- The response reminder, in the shard's due set with its envelope.
    fields.reminder = a.at .. ':1'
    redis.call('ZADD', KEYS[3], due, a.reminder_id)
    redis.call('HSET', KEYS[4], a.reminder_id, a.reminder)
  end
  -- (only what is there: most frustrated messages find none of them)
  if replied or resolved or h.reminders_done then redis.call('HDEL', th, F.agent_replied, F.resolved, F.reminders_done) end
else
  if replied or resolved then redis.call('HDEL', th, F.agent_replied, F.resolved) end
  -- An edit that turns a complaint calm: the customer no longer waits on it.
  if a.edit and frus then redis.call('HDEL', th, F.waiting_since, F.waiting_customer) end
end
-- Once an hour per replica (Store.queueTTL): the shard's queue keys.
if a.queue_ttl then
  keep(KEYS[3], KEYS[4], a.retention_ms)
  redis.call('PEXPIRE', KEYS[2], a.retention_ms)
end
local dec = {v = v, gen = a.at}
if nudge then dec.n = true end
if r.frustrated and due > 0 then dec.due = a.reminder_due end
local d = cjson.encode(dec)
fields.customer_event, fields.customer_decision = a.dedupe, d
write(th, fields, h.ttl_set, a.at, a.retention_ms)
-- The thread after the message, only when the caller has a use for it: a
-- message that reopens a resolved thread (its check-in to cancel).
local after = {}
if resolved then after = redis.call('HGETALL', th) end
return {'new', d, after, resolved and 1 or 0, newly, (replied and h.first_frustrated) and 1 or 0, owner}`)

// agentArgs is the agent script's one argument, as JSON.
type agentArgs struct {
	Agent       string `json:"agent"`
	At          int64  `json:"at,string"`
	TS          string `json:"ts"`
	RetentionMS int64  `json:"retention_ms,string"`
	Dedupe      string `json:"dedupe"`
	Review      string `json:"review"` // the review's envelope ("" for none)
	QueueTTL    bool   `json:"queue_ttl"`
}

// The agent script. KEYS: the thread's hash and the shard's stream.
// ARGV[1]: agentArgs. It returns the kind, the decision (JSON), the
// thread's fields the desk uses as they were before the reply, and how
// long the first frustrated message waited for it (ms; -1: not the first
// reply after one).
var recordAgentScript = redis.NewScript(luaFields + luaOlder + luaRead + `
local a = cjson.decode(ARGV[1])
local th = KEYS[1]
local shown = {'customer_ts', 'agent_ts', 'frustrated', 'agent_replied', 'first_frustrated', 'first_reply', 'reminder',
  'reminders_done', 'last_agent', 'claimed_by'}
local h = read(th, {'customer_ts', 'agent_ts', 'frustrated', 'agent_replied', 'first_frustrated', 'first_reply', 'reminder',
  'reminders_done', 'last_agent', 'claimed_by', 'agent_event', 'agent_decision', 'ttl_set', 'waiting_since', 'waiting_customer'})
local before = {}
for _, n in ipairs(shown) do
  if h[n] then table.insert(before, F[n]); table.insert(before, h[n]) end
end
if h.agent_event == a.dedupe then return {'dup', h.agent_decision or '{}', before, -1} end
local ct, gt = h.customer_ts, h.agent_ts
local waited = -1
local late, review = false, false
local fields = {last_agent = a.agent}
if (ct and older(a.ts, ct)) or (gt and not older(gt, a.ts)) then
  -- Older than the customer's last message: it answered an earlier one
  -- (or a later agent reply is recorded, or this is its redelivery).
  late = true
else
  if a.review ~= '' and h.frustrated == '1' and h.agent_replied ~= '1' then
    -- The first reply to a frustrated customer: the review to deliver,
    -- written by this step.
    review = true
    redis.call('XADD', KEYS[2], '*', 'd', a.review)
  end
  fields.agent_replied, fields.agent_ts = '1', a.ts
  if h.first_frustrated and not h.first_reply then
    fields.first_reply = a.at
    waited = tonumber(a.at) - tonumber(h.first_frustrated)
  end
  if h.waiting_since or h.waiting_customer then redis.call('HDEL', th, F.waiting_since, F.waiting_customer) end
end
if a.queue_ttl then redis.call('PEXPIRE', KEYS[2], a.retention_ms) end
local dec = {gen = a.at}
if late then dec.late = true end
if review then dec.rv = true end
local d = cjson.encode(dec)
fields.agent_event, fields.agent_decision = a.dedupe, d
write(th, fields, h.ttl_set, a.at, a.retention_ms)
return {'new', d, before, waited}`)

// RecordCustomer is the record step for a customer message: one script,
// one round trip. The script
// writes the nudge it decides on to the shard's delivery stream and the
// reminder it arms to the shard's due set.
func (s *Store) RecordCustomer(ctx context.Context, r support.CustomerRecord) (support.CustomerResult, error) {
	a := customerArgs{User: r.User, At: r.At.UnixMilli(), TS: r.TS, RetentionMS: ms(r.Retention, s.retention), Dedupe: support.DedupeID(r.EventID, r.TS),
		CooldownMS: r.Cooldown.Milliseconds(), ReminderDue: dueMs(r.ReminderDue), Edit: r.Edit, QueueTTL: s.queueTTL(s.shardOf(r.Channel, r.Thread))}
	for i, v := range r.Verdicts {
		a.Readings[i] = reading{Score: strconv.FormatFloat(v.Score, 'f', 3, 64), Frustrated: v.Frustrated, Cue: v.Cue}
	}
	for i, n := range r.Nudges {
		if n != nil {
			var err error
			if a.Nudges[i], err = newEnvelope(taskNudge, n.ID(), n); err != nil {
				return support.CustomerResult{}, err
			}
		}
	}
	rem := support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: a.At, N: 1, Due: a.ReminderDue}
	a.ReminderID = rem.ID()
	if rem.Due > 0 {
		var err error
		if a.Reminder, err = newEnvelope(taskReminder, rem.ID(), rem); err != nil {
			return support.CustomerResult{}, err
		}
	}
	res, err := s.recordStep(ctx, recordCustomerScript, r.Channel, r.Thread, 7, true, a)
	if err != nil {
		return support.CustomerResult{}, fmt.Errorf("record customer message %s/%s: %w", r.Channel, r.TS, err)
	}
	out := support.CustomerResult{Duplicate: res[0] == "dup", Thread: parseThread(r.Channel, r.Thread, pairs(res[2]))}
	out.Thread.Reopened = res[3] == int64(1)
	out.Thread.NewlyFrustrated = res[4] == int64(1)
	out.AfterReply = res[5] == int64(1)
	out.Owner, _ = res[6].(string)
	var d decision
	if raw, _ := res[1].(string); json.Unmarshal([]byte(raw), &d) != nil {
		return out, fmt.Errorf("record customer message %s/%s: bad decision %q", r.Channel, r.TS, res[1])
	}
	out.Variant = min(max(d.Variant, support.Alone), support.AfterFrustrated)
	out.Nudge, out.Late = d.Nudge, d.Late
	if due, _ := strconv.ParseInt(d.ReminderDue, 10, 64); due > 0 {
		// The generation is the first delivery's receipt time, also on a
		// redelivery (a reminder a newer message superseded finds itself
		// moot when it falls due).
		gen, _ := strconv.ParseInt(d.Gen, 10, 64)
		out.Reminder = support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: gen, N: 1, Due: due}
	}
	return out, nil
}

// RecordAgentReply is the record step for an agent's reply; the script
// writes the review, when there is one and it is due, to the shard's
// delivery stream.
func (s *Store) RecordAgentReply(ctx context.Context, r support.AgentRecord) (support.AgentResult, error) {
	a := agentArgs{Agent: r.Agent, At: r.At.UnixMilli(), TS: r.TS, RetentionMS: ms(r.Retention, s.retention), Dedupe: support.DedupeID(r.EventID, r.TS),
		QueueTTL: s.queueTTL(s.shardOf(r.Channel, r.Thread))}
	if r.Review != nil {
		var err error
		if a.Review, err = newEnvelope(taskReview, r.Review.ID(), r.Review); err != nil {
			return support.AgentResult{}, err
		}
	}
	res, err := s.recordStep(ctx, recordAgentScript, r.Channel, r.Thread, 4, false, a)
	if err != nil {
		return support.AgentResult{}, fmt.Errorf("record agent reply %s/%s: %w", r.Channel, r.TS, err)
	}
	var d decision
	if raw, _ := res[1].(string); json.Unmarshal([]byte(raw), &d) != nil {
		return support.AgentResult{}, fmt.Errorf("record agent reply %s/%s: bad decision %q", r.Channel, r.TS, res[1])
	}
	out := support.AgentResult{Duplicate: res[0] == "dup", Late: d.Late, Review: d.Review,
		Before: parseThread(r.Channel, r.Thread, pairs(res[2]))}
	out.Before.FirstReplyWait = -1
	if w, ok := res[3].(int64); ok && w >= 0 {
		out.Before.FirstReplyWait = time.Duration(w) * time.Millisecond
	}
	return out, nil
}

// recordStep runs a record script on the thread's keys and returns the
// script's reply, which must have n fields: one round trip. Its keys are
// the thread's and the shard's delivery stream, and with due the shard's
// due set and task envelopes.
func (s *Store) recordStep(ctx context.Context, script *redis.Script, channel, thread string, n int, due bool, args any) ([]any, error) {
	arg, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	sh := s.shardOf(channel, thread)
	keys := []string{s.threadKey(channel, thread), s.streamKey(sh)}
	if due {
		keys = append(keys, s.dueKey(sh), s.taskKey(sh))
	}
	// EVALSHA, so that the script's text is not sent with every message;
	// a Redis that does not know it yet (a restart, a new node) answers
	// NOSCRIPT without running anything, and gets it once with EVAL.
	run := func(eval bool) (*redis.Cmd, error) {
		if eval {
			cmd := script.Eval(ctx, s.rdb, keys, string(arg))
			return cmd, cmd.Err()
		}
		cmd := script.EvalSha(ctx, s.rdb, keys, string(arg))
		return cmd, cmd.Err()
	}
	cmd, err := run(false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmd, err = run(true)
	}
	if err != nil {
		return nil, err
	}
	res, err := cmd.Slice()
	if err == nil && len(res) != n {
		err = fmt.Errorf("the script replied %d fields, want %d", len(res), n)
	}
	return res, err
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

var deletedScript = redis.NewScript(luaFields + `
local h = redis.call('HMGET', KEYS[1], F.customer_ts, F.frustrated, F.reminder, F.waiting_since)
if h[1] ~= ARGV[1] or h[2] ~= '1' or not h[4] then return '' end
redis.call('HDEL', KEYS[1], F.waiting_since, F.waiting_customer, F.reminder)
redis.call('HSET', KEYS[1], F.frustrated, '0')
return h[3] or ''`)

// MessageDeleted implements support.ThreadStore.
func (s *Store) MessageDeleted(ctx context.Context, channel, thread, ts string) (string, error) {
	v, err := deletedScript.Run(ctx, s.rdb, []string{s.threadKey(channel, thread)}, ts).Text()
	if err != nil {
		return "", fmt.Errorf("message deleted %s/%s: %w", channel, ts, err)
	}
	return support.PendingID(support.KindResponse, channel, thread, v), nil
}

package support

import (
	"errors"
	"fmt"
	"time"

	"empathybot/internal/coach"
)

// Verdict is what the coach made of a customer message, as the record
// step keeps it: a score, frustrated or not, and the primary cue's kind.
type Verdict struct {
	Score      float64
	Frustrated bool
	Cue        string
}

// Trajectories are the three readings of one customer message, by what the
// thread held before it: Alone (nothing unanswered), AfterCalm (an
// unanswered calm message), AfterFrustrated (an unanswered frustrated one).
// The record step picks one atomically with the thread's state, so reading
// the thread costs no extra round trip.
const (
	Alone = iota
	AfterCalm
	AfterFrustrated
)

// DedupeID is what the record step dedupes a message on: Slack's event ID,
// or, for an event that has none, the message's ts.
func DedupeID(eventID, ts string) string {
	if eventID == "" {
		return "ts:" + ts
	}
	return eventID
}

// CustomerRecord is one customer message for the record step: IDs, times
// and verdicts, never text.
type CustomerRecord struct {
	EventID             string
	Channel, Thread, TS string
	User                string
	At                  time.Time // when we received it
	Verdicts            [3]Verdict
	Cooldown            time.Duration // per-thread nudge cooldown
	ReminderDue         time.Time     // a frustrated message arms a response reminder due then (generation: At); zero: none
	// Nudges are the nudge each reading (by Verdicts' index) would deliver
	// (nil where that reading is calm): when the record step decides on a
	// nudge, it writes that reading's to the durable queue itself, in the
	// same atomic step, with the reminder it arms.
	Nudges [3]*NudgeTask
	// Edit: the customer edited this message (Slack's message_changed);
	// it is read again in place of what it said, if it is still the
	// thread's last customer message.
	Edit                 bool
	DedupeFor, Retention time.Duration
}

// CustomerResult is what the record step decided. On a redelivery
// (Duplicate) it is the first delivery's decision again; what it armed was
// written then, and is not written again.
type CustomerResult struct {
	Duplicate bool
	// Late: an agent already replied after this message, or a newer customer
	// message is recorded (Slack's ts order, not arrival order): the thread
	// is left as it is, and nothing is armed.
	Late    bool
	Variant int // Alone, AfterCalm or AfterFrustrated
	// AfterReply: the message follows an agent's reply in a thread that
	// has been frustrated (it may settle a frustrated moment's outcome).
	AfterReply bool
	// Owner is the thread's assignee when the message came ("" for none).
	Owner    string
	Nudge    bool     // a nudge is due: the cooldown was free and is now taken, and the nudge is queued
	Reminder Reminder // the response reminder armed and queued (Kind "" when none)
	// Thread is the thread after the message when it reopens a resolved
	// thread (its check-in to cancel); otherwise only Channel, TS,
	// Reopened and NewlyFrustrated are set: the record step sends back
	// only what the caller uses.
	Thread Thread
}

// AgentRecord is one agent reply for the record step.
type AgentRecord struct {
	EventID             string
	Channel, Thread, TS string
	Agent               string
	At                  time.Time
	DedupeFor           time.Duration
	Retention           time.Duration
	// Review is the review of this reply (nil: none worth sending): the
	// record step writes it to the durable queue when the reply is the
	// first to a frustrated customer.
	Review *ReviewTask
}

// AgentResult is what the record step decided for an agent reply.
type AgentResult struct {
	Duplicate bool
	Late      bool   // older than the customer's last message: it answers an earlier one
	Review    bool   // the first reply to a frustrated customer, with a review: it is queued
	Before    Thread // the thread as it was before the reply, with FirstReplyWait
}

// NudgeTask is a nudge waiting in the durable queue: IDs, a time and a
// coach.Basis (a score, a cue kind and phrases of our own), never text.
type NudgeTask struct {
	Channel string      `json:"c"`
	Thread  string      `json:"t"`
	TS      string      `json:"m"` // the customer message
	At      int64       `json:"a"` // Unix ms it was received
	Basis   coach.Basis `json:"b"`
}

// ID is the task's ID and idempotency key: one per customer message.
func (n NudgeTask) ID() string { return fmt.Sprintf("nudge:%s:%s:%s", n.Channel, n.Thread, n.TS) }

// ReviewTask is a review of an agent's reply waiting in the durable queue.
type ReviewTask struct {
	Channel    string `json:"c"`
	Thread     string `json:"t"`
	TS         string `json:"m"` // the agent's reply
	Agent      string `json:"u"`
	At         int64  `json:"a"`
	Kind       string `json:"k"`           // coach.FindingKind
	Quote      string `json:"q,omitempty"` // the agent's phrase the finding is about
	Technique  string `json:"tq"`
	Suggestion string `json:"s"`
}

// InThread reports whether the reply is in a thread (so the thread has
// replies and a private message shows in it).
func (r ReviewTask) InThread() bool { return r.TS != r.Thread }

// ID is the task's ID and idempotency key: one per agent reply.
func (r ReviewTask) ID() string { return fmt.Sprintf("review:%s:%s:%s", r.Channel, r.Thread, r.TS) }

// ErrUndeliverable marks a delivery the messaging side refused for good (a
// channel that is gone, blocks it rejects): retrying cannot help.
var ErrUndeliverable = errors.New("undeliverable")

// ErrUnknownOutcome marks a delivery that may or may not have reached Slack
// and cannot be looked up (an ephemeral message: Slack keeps no trace a bot
// can read). It is not sent again: a lost nudge is rare, a doubled one
// teaches agents to ignore the bot. It is counted as "unknown".
var ErrUnknownOutcome = errors.New("outcome unknown")

// ErrLookBeforeRetry marks a delivery that may have reached Slack and can be
// looked up (a posted message carries its delivery ID as metadata): the
// next attempt looks for it before sending anything.
var ErrLookBeforeRetry = errors.New("outcome unknown; look before retrying")

// ErrAlreadySent marks a delivery an earlier attempt made: found where it
// was posted.
var ErrAlreadySent = errors.New("already sent by an earlier attempt")

// RetryLater is an error that says when a retry may succeed (a Slack rate
// limit's Retry-After). The queue waits at least that long, with jitter.
type RetryLater struct {
	After time.Duration
	Err   error
}

func (e *RetryLater) Error() string { return fmt.Sprintf("retry after %v: %v", e.After, e.Err) }
func (e *RetryLater) Unwrap() error { return e.Err }

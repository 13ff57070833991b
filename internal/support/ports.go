package support

import (
	"context"
	"errors"
	"time"

	"empathybot/internal/coach"
)

// ThreadStore is the state the desk keeps, in five roles: the record step,
// the threads, the agents, the channels and the delivery keys. redisstore
// implements it, and supporttest in memory; one contract suite
// (supporttest.StoreContract) checks both. A caller that needs less
// declares its own smaller interface (slackio does).
type ThreadStore interface {
	Recorder
	Threads
	Agents
	Channels
	Deliveries
	Moments
	Ping(ctx context.Context) error
}

// Recorder is the record step of "decide, record, then ack".
type Recorder interface {
	// RecordCustomer and RecordAgentReply are one atomic step per message
	// (dedupe on the event, the thread by Slack's ts, the nudge cooldown,
	// the reminder armed), which also writes what it arms to the durable
	// queue: the nudge, the response reminder, the review.
	RecordCustomer(ctx context.Context, r CustomerRecord) (CustomerResult, error)
	RecordAgentReply(ctx context.Context, r AgentRecord) (AgentResult, error)
	// MessageDeleted records that message ts of the thread was deleted:
	// when it was the thread's last customer message and frustrated, the
	// thread no longer waits on it; it returns the pending response
	// reminder's ID to cancel ("" when none).
	MessageDeleted(ctx context.Context, channel, thread, ts string) (string, error)
	// FirstDelivery records an ID (an event, a vote) and reports whether it
	// is new.
	FirstDelivery(ctx context.Context, eventID string) (bool, error)
}

// Threads are the threads' state beside the record step.
type Threads interface {
	Claim(ctx context.Context, channel, ts, agent string) error
	// Resolve marks the thread resolved and records the check-in it arms
	// (generation: at) as pending; false when it already was resolved.
	Resolve(ctx context.Context, channel, ts, agent string, at time.Time) (Thread, bool, error)
	GetThread(ctx context.Context, channel, ts string) (Thread, error)
	SetPending(ctx context.Context, r Reminder) error
	RemindersDone(ctx context.Context, channel, ts string) error
	// Tracked reports whether ts is a thread the store keeps (a thread's
	// parent message); a reply is not one.
	Tracked(ctx context.Context, channel, ts string) (bool, error)
	ReleaseNudge(ctx context.Context, channel, ts string) error
}

// Agents is what is kept about agents: on call, snoozes, the nudges they
// were sent, their open items.
type Agents interface {
	SetOnCall(ctx context.Context, channel, agent string) error
	OnCall(ctx context.Context, channel string) (string, error)
	Snooze(ctx context.Context, agent string, d time.Duration) error
	Snoozed(ctx context.Context, agent string) (bool, error)
	RecentTips(ctx context.Context, agent string) ([]string, error)
	Nudged(ctx context.Context, agent string, n NudgeRecord) error
	RecentNudges(ctx context.Context, agent string, n int) ([]NudgeRecord, error)
	AddOpen(ctx context.Context, agent string, item OpenItem) error
	RemoveOpen(ctx context.Context, agent, taskID string) error
	OpenItems(ctx context.Context, agent string) ([]OpenItem, error)
	// AddLoad records a tense customer message in a thread agent owns
	// (kept LoadKeep); Loads returns agent's entries since a time, oldest
	// first; LoadAgents lists the agents with entries.
	AddLoad(ctx context.Context, agent string, e LoadEntry) error
	Loads(ctx context.Context, agent string, since time.Time) ([]LoadEntry, error)
	LoadAgents(ctx context.Context) ([]string, error)
	// Pause keeps new work away from agent for d (0 lifts it); Paused
	// reports whether it does now.
	Pause(ctx context.Context, agent string, d time.Duration) error
	Paused(ctx context.Context, agent string) (bool, error)
	// TakeBreather reports whether agent may get a breather now, and if so
	// holds the next one back for every.
	TakeBreather(ctx context.Context, agent string, every time.Duration) (bool, error)
}

// Channels is what is kept per channel: whether it is read, and its
// numbers.
type Channels interface {
	// SetWatching switches the reading of a channel on or off for every
	// replica (/empathy watch, unwatch); ChannelsOff lists those off.
	SetWatching(ctx context.Context, channel string, on bool) error
	ChannelsOff(ctx context.Context) ([]string, error)
	// Count adds one to each of the channel's counters fields for the day
	// of at.
	Count(ctx context.Context, channel string, at time.Time, fields ...string) error
	AddReplyWait(ctx context.Context, channel string, at time.Time, wait time.Duration) error
	Feedback(ctx context.Context, channel, cue, technique string, useful bool, at time.Time) error
	Stats(ctx context.Context, channel string, now time.Time, days int) (ChannelStats, error)
}

// Deliveries are the idempotency keys of deliveries: sent once, across
// retries and replicas.
type Deliveries interface {
	BeginDelivery(ctx context.Context, id string, lease time.Duration) (string, error)
	// MarkSending records that the holder of id's lease may call Slack
	// now; BeginDelivery tells the next attempt to check only after that.
	MarkSending(ctx context.Context, id string) error
	FinishDelivery(ctx context.Context, id, outcome string) error
	// Delivered reports whether delivery id was sent, or may have been (its
	// outcome unknown, or being sent): a button that names a reminder acts
	// only if that reminder was sent to whoever clicks.
	Delivered(ctx context.Context, id string) (bool, error)
}

// Moments keep each thread's frustrated moment until its outcome is known
// (see Moment), for the retention period. A moment is changed by compare
// and set: two replicas reading the same thread at once cannot both apply
// their change.
type Moments interface {
	// OpenMoment stores m as the thread's moment if it has none, and
	// reports whether it did.
	OpenMoment(ctx context.Context, channel, thread string, m Moment) (bool, error)
	// GetMoment returns the thread's moment (nil when none) and its version.
	GetMoment(ctx context.Context, channel, thread string) (*Moment, int64, error)
	// SetMoment replaces the thread's moment if it is still at version, and
	// reports whether it was.
	SetMoment(ctx context.Context, channel, thread string, m Moment, version int64) (bool, error)
}

// Scheduler is the durable queue (Redis Streams, in redisstore): reminders
// until they are due, nudges and reviews until they are delivered, on any
// replica. The record step writes the nudges, reviews and response
// reminders it decides on itself (ThreadStore); the desk schedules the
// rest (repeats, check-ins, personal reminders). Each task has an ID:
// scheduling the same reminder twice is one task.
type Scheduler interface {
	Schedule(ctx context.Context, r Reminder) error
	// Cancel removes the thread's reminder id if it is not yet due.
	Cancel(ctx context.Context, channel, thread, id string) error
}

// Notifier delivers what the desk decided to say, privately to one agent
// (slackio renders and sends it). Each call is one attempt at delivery d
// (see Delivery). An error means "not delivered"; a *RetryLater error says
// when to try again; ErrUnknownOutcome and ErrLookBeforeRetry say that it
// may have been delivered, and ErrAlreadySent that an earlier attempt's
// was found.
type Notifier interface {
	Nudge(ctx context.Context, d Delivery, to string, n Nudge) error
	// Triage posts a card about a frustrated customer nobody owns in the
	// agents' triage channel, with a Claim button.
	Triage(ctx context.Context, d Delivery, triageChannel string, n Nudge) error
	Review(ctx context.Context, d Delivery, to string, r ReviewTask) error
	Remind(ctx context.Context, d Delivery, to string, r Reminder, text string) error
	// Report sends a lead the team's report, with its chart, by DM.
	Report(ctx context.Context, d Delivery, to string, r Report) error
}

// Delivery is one attempt at something the desk delivers once (a nudge to
// one agent, a reminder to one agent, a review, a triage card), across
// retries and replicas.
type Delivery struct {
	// ID names the delivery; a posted message carries it as metadata, so a
	// later attempt can find it.
	ID string
	// Check: an earlier attempt may have reached Slack. Look for it before
	// sending anything; an ephemeral message cannot be looked up, so it is
	// not sent again.
	Check bool
	mark  func(context.Context) error
}

// Sending records that this attempt is about to make the call that shows
// something to someone: if this replica dies from here on, the next
// attempt looks before it sends (Check). A Delivery the desk did not make
// records nothing.
func (d Delivery) Sending(ctx context.Context) error {
	if d.mark == nil {
		return nil
	}
	return d.mark(ctx)
}

// Nudge is what an agent is told about a frustrated customer.
type Nudge struct {
	Channel, Thread string
	// InThread: the thread has replies, so a private message can be shown
	// in it; otherwise it goes beside the message, at channel level.
	InThread   bool
	Score      float64
	Suggestion coach.Suggestion
	// Available (triage cards): agents who could take it, not paused,
	// least-loaded first. A person still decides (Claim).
	Available []string
}

// Role is who a user is to the desk.
type Role int

// Roles. Only Agent is an agent: an unknown user has no agent's powers.
const (
	Customer Role = iota
	Agent
	// Unplaced: the directory cannot tell yet (a lookup is on its way). The
	// record step of a message by an unknown author fails (the envelope is
	// not acked, and Slack redelivers it once the author is known);
	// everywhere else Unplaced is not Agent.
	Unplaced
)

// ErrUnknownAuthor is the record step's answer for a message whose author
// the directory cannot place yet.
var ErrUnknownAuthor = errors.New("support: the author is not known yet")

// Directory tells agents from customers (slackio: EMPATHY_AGENTS, the agent
// group, the user's team). When it cannot tell, the user is not an agent.
type Directory interface {
	// Role says who user is, asking Slack when it must (for as long as ctx
	// allows): for commands, clicks and deliveries.
	Role(ctx context.Context, user, team string) Role
	// RoleNow says who user is from what is known now, without asking
	// Slack: the record step runs before an ack, which must not wait for
	// the Web API. When it cannot tell yet it says Unplaced, and looks the
	// user up behind so that Slack's redelivery finds the answer.
	RoleNow(user, team string) Role
}

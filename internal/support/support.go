// Package support is empathybot's application: the vocabulary of a support
// desk (threads, reminders, nudges, open items, stats) and the interfaces it
// needs from the outside (a thread store, a scheduler, a notifier, a
// directory of who is who). It knows no Slack and no Redis: slackio decodes
// and renders, redisstore stores and schedules, and both speak this
// package's types. Time is always a parameter.
package support

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned when a thread, task or key does not exist.
var ErrNotFound = errors.New("support: not found")

// ErrUnavailable wraps a store failure the caller may retry later (Redis
// away, a timeout); an envelope whose recording failed with it is not acked.
var ErrUnavailable = errors.New("support: store unavailable")

// Thread is the state of one support thread. It holds IDs, times and scores,
// never message text.
type Thread struct {
	Channel, TS     string
	ClaimedBy       string
	LastAgent       string
	LastCustomer    string
	LastCustomerAt  time.Time
	LastScore       float64
	Frustrated      bool   // the last customer message was frustrated
	EverFrustrated  bool   // a customer message of the thread was
	Cue             string // its primary cue kind
	AgentReplied    bool   // an agent replied after the last customer message
	Nudges          int
	Replies         bool // the thread has replies (derived from the ts of its last messages): an ephemeral shows in it, as Slack shows none in a reply-less thread
	Resolved        bool
	ResolvedAt      time.Time
	ResolvedBy      string
	RemindersDone   bool          // an agent marked this message's reminders Done / Not needed
	WaitingSince    time.Time     // the unanswered frustrated message the customer waits on (zero after a reply)
	PendingReminder string        // task ID of the scheduled response reminder
	PendingFollowup string        // task ID of the scheduled check-in
	Reopened        bool          // set by CustomerMessage: the thread was resolved until this message
	NewlyFrustrated bool          // set by CustomerMessage: the first frustrated message of the thread
	FirstReplyWait  time.Duration // set by AgentReply: the first agent reply after frustration came this long after it; -1 otherwise
}

// Assignee is who owns the thread: the claimer, else the last agent to reply.
func (t Thread) Assignee() string {
	if t.ClaimedBy != "" {
		return t.ClaimedBy
	}
	return t.LastAgent
}

// Reminder kinds.
const (
	KindResponse = "response" // a frustrated customer waits for a reply
	KindFollowup = "followup" // check in after a resolution
	KindPersonal = "personal" // /empathy remind
	// KindReaction is a 👀 or ✅ the record step could not apply at once
	// (its author not placed yet, or the message not a thread the store
	// knows): queued durably, applied by the queue's handler once Slack
	// has said who reacted and in which thread.
	KindReaction = "reaction"
)

// Reminder is one scheduled follow-up. It holds IDs and times only.
type Reminder struct {
	Kind    string `json:"k"`
	Channel string `json:"c"`
	Thread  string `json:"t,omitempty"`
	User    string `json:"u,omitempty"` // personal reminders: who asked
	Gen     int64  `json:"g"`           // Unix ms of the event that armed it
	N       int    `json:"n"`           // 1 for the first, 2 for the first repeat...
	Due     int64  `json:"d"`           // Unix ms
	// React is what a KindReaction applies (Thread is then the message
	// reacted to, which may be a reply).
	React Reaction `json:"x,omitempty"`
}

// ID is the reminder's task ID and idempotency key: the same reminder
// scheduled twice, by any replica, is one task and one delivery.
func (r Reminder) ID() string {
	switch r.Kind {
	case KindPersonal:
		return fmt.Sprintf("%s:%s:%s:%d", r.Kind, r.User, r.Channel, r.Gen)
	case KindReaction:
		return fmt.Sprintf("%s:%d:%s:%s:%s:%d", r.Kind, r.React, r.User, r.Channel, r.Thread, r.Gen)
	}
	return fmt.Sprintf("%s:%s:%s:%d:%d", r.Kind, r.Channel, r.Thread, r.Gen, r.N)
}

// PendingID rebuilds the ID of a thread's pending reminder of kind from
// what a store keeps of it ("gen:n"); "" when there is none.
func PendingID(kind, channel, thread, v string) string {
	g, n, ok := strings.Cut(v, ":")
	if !ok {
		return ""
	}
	gen, err1 := strconv.ParseInt(g, 10, 64)
	num, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil {
		return ""
	}
	return Reminder{Kind: kind, Channel: channel, Thread: thread, Gen: gen, N: num}.ID()
}

// DueAt is when the reminder is due.
func (r Reminder) DueAt() time.Time { return time.UnixMilli(r.Due) }

// NudgeRecord is one nudge an agent received: IDs, the cue kind and the tip,
// never text.
type NudgeRecord struct {
	Channel, Thread, Cue, Tip string
	At                        time.Time
}

// Stat fields counted per channel and day.
const (
	StatFrustrated    = "frustrated"     // threads that became frustrated
	StatNudges        = "nudges"         // nudges delivered
	StatReminders     = "reminders"      // response reminders delivered
	StatFollowupsSent = "followups_sent" // check-in nudges delivered
	StatFollowupsDone = "followups_done" // check-ins an agent marked Done
	StatResolved      = "resolved"       // threads marked resolved
	// StatUnscored counts customer messages the coach could not read (a
	// language it does not score): a German complaint is not silently
	// calm, it is counted where agents and leads look.
	StatUnscored = "unscored"
)

// ChannelStats is a channel's numbers over a period.
type ChannelStats struct {
	Channel          string
	Days             int
	Counts           map[string]int   // the Stat* fields
	PerDay           []map[string]int // the same, each day apart, the newest first
	Useful, NotUsed  int              // 👍 and 👎
	ByCue, ByTech    map[string][2]int
	FirstReplies     int           // frustrated threads with a first agent reply
	MedianFirstReply time.Duration // median wait for it
}

// OpenItem is a reminder or check-in waiting for an agent, for App Home.
type OpenItem struct {
	Kind, Channel, Thread, TaskID string
	Due                           time.Time
}

// Delivery states returned by BeginDelivery.
const (
	DeliveryOK   = "ok"   // the caller holds the lease and should deliver
	DeliveryDone = "done" // already delivered: do nothing
	DeliveryBusy = "busy" // another worker holds the lease: try later
	// DeliveryCheck: the caller holds the lease, but an earlier attempt may
	// have reached Slack (its outcome was unknown, or its replica died
	// while it held the lease): look before sending again.
	DeliveryCheck = "check"
)

// Delivery outcomes recorded by FinishDelivery.
const (
	DeliverySent    = "sent"    // delivered: every later attempt is a duplicate
	DeliveryFailed  = "failed"  // not delivered, and Slack never saw it: a retry may send
	DeliveryUnknown = "unknown" // it may have reached Slack: the next attempt checks first
)

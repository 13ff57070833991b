package supporttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"empathybot/internal/support"
)

// Clock is a manual clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Task is one task in the Queue.
type Task struct {
	ID       string
	Due      time.Time
	Reminder *support.Reminder
	Nudge    *support.NudgeTask
	Review   *support.ReviewTask
}

// Queue is a support.Scheduler whose tasks fall due by a manual clock:
// Run delivers the due ones through a desk, as the durable queue would.
type Queue struct {
	Clock *Clock

	mu        sync.Mutex
	tasks     map[string]Task
	done      map[string]bool // finished task IDs (kept, like asynq's retention)
	Cancelled []string
	// Down makes every call fail (Redis away).
	Down bool
}

// NewQueue returns an empty queue on clock.
func NewQueue(clock *Clock) *Queue {
	return &Queue{Clock: clock, tasks: map[string]Task{}, done: map[string]bool{}}
}

var _ support.Scheduler = (*Queue)(nil)

func (q *Queue) add(t Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Down {
		return support.ErrUnavailable
	}
	if _, ok := q.tasks[t.ID]; ok || q.done[t.ID] {
		return nil // the same task twice is one task
	}
	q.tasks[t.ID] = t
	return nil
}

// put is the record step's write (Memory.Outbox): part of the store's
// atomic step, so it never fails.
func (q *Queue) put(t Task) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.tasks[t.ID]; ok || q.done[t.ID] {
		return
	}
	q.tasks[t.ID] = t
}

// Schedule implements support.Scheduler.
func (q *Queue) Schedule(_ context.Context, r support.Reminder) error {
	return q.add(Task{ID: r.ID(), Due: r.DueAt(), Reminder: &r})
}

// Cancel implements support.Scheduler.
func (q *Queue) Cancel(_ context.Context, _, _, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.tasks, id)
	q.Cancelled = append(q.Cancelled, id)
	return nil
}

// Pending lists the tasks not yet run, soonest first.
func (q *Queue) Pending() []Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Task
	for _, t := range q.tasks {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Task) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Outcome is what running one task came to.
type Outcome struct {
	Task    Task
	Outcome string
	Err     error
}

// Run delivers every task due by the clock through d, soonest first (and
// those that fall due as a result, such as a repeat due now). A task that
// fails is retried a second later, as the queue would.
func (q *Queue) Run(ctx context.Context, d *support.Desk) []Outcome {
	var out []Outcome
	for {
		var next *Task
		for _, t := range q.Pending() {
			if !t.Due.After(q.Clock.Now()) {
				next = &t
				break
			}
		}
		if next == nil {
			return out
		}
		var o Outcome
		o.Task = *next
		switch {
		case next.Reminder != nil:
			o.Outcome, o.Err = d.DeliverReminder(ctx, *next.Reminder)
		case next.Nudge != nil:
			o.Outcome, o.Err = d.DeliverNudge(ctx, *next.Nudge)
		case next.Review != nil:
			o.Outcome, o.Err = d.DeliverReview(ctx, *next.Review)
		}
		out = append(out, o)
		q.mu.Lock()
		if o.Err != nil {
			t := q.tasks[next.ID]
			t.Due = q.Clock.Now().Add(time.Second)
			q.tasks[next.ID] = t
			q.mu.Unlock()
			return out // a failure waits for the clock
		}
		delete(q.tasks, next.ID)
		q.done[next.ID] = true
		q.mu.Unlock()
	}
}

// Sent is one message the Notifier delivered.
type Sent struct {
	Kind    string // "nudge", "review", or the reminder's kind
	To      string
	Channel string
	Thread  string
	Text    string // reminders: the text; nudges: the tip's ID
	At      time.Time
}

// Notifier records what the desk sends; Fail, when set, is returned instead.
type Notifier struct {
	Clock *Clock
	mu    sync.Mutex
	sent  []Sent
	Fail  error
}

var _ support.Notifier = (*Notifier)(nil)

func (n *Notifier) record(s Sent) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.Fail != nil {
		return n.Fail
	}
	s.At = n.Clock.Now()
	n.sent = append(n.sent, s)
	return nil
}

// Nudge implements support.Notifier.
func (n *Notifier) Nudge(_ context.Context, _ support.Delivery, to string, x support.Nudge) error {
	return n.record(Sent{Kind: "nudge", To: to, Channel: x.Channel, Thread: x.Thread, Text: x.Suggestion.Tip.ID})
}

// Triage implements support.Notifier: recorded as kind "triage", To the
// triage channel.
func (n *Notifier) Triage(_ context.Context, _ support.Delivery, channel string, x support.Nudge) error {
	return n.record(Sent{Kind: "triage", To: channel, Channel: x.Channel, Thread: x.Thread, Text: string(x.Suggestion.Cue.Kind)})
}

// Review implements support.Notifier.
func (n *Notifier) Review(_ context.Context, _ support.Delivery, to string, r support.ReviewTask) error {
	return n.record(Sent{Kind: "review", To: to, Channel: r.Channel, Thread: r.Thread, Text: r.Kind})
}

// Report implements support.Notifier: recorded as kind "report", its text
// the moments of the period and the nudged arm's de-escalated count.
func (n *Notifier) Report(_ context.Context, _ support.Delivery, to string, r support.Report) error {
	moments := 0
	for _, d := range r.Days {
		moments += d.Frustrated
	}
	return n.record(Sent{Kind: "report", To: to, Text: fmt.Sprintf("moments=%d deesc=%d", moments, r.Lift.Nudged.Deescalated)})
}

// Remind implements support.Notifier.
func (n *Notifier) Remind(_ context.Context, _ support.Delivery, to string, r support.Reminder, text string) error {
	return n.record(Sent{Kind: r.Kind, To: to, Channel: r.Channel, Thread: r.Thread, Text: text})
}

// Sent lists what was delivered, in order.
func (n *Notifier) Sent() []Sent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sent)
}

// Directory is a fixed directory: the users listed are agents, everyone
// else a customer.
type Directory map[string]bool

// Role implements support.Directory.
func (d Directory) Role(_ context.Context, user, _ string) support.Role {
	if d[user] {
		return support.Agent
	}
	return support.Customer
}

// RoleNow implements support.Directory: a fixed directory always knows.
func (d Directory) RoleNow(user, team string) support.Role {
	return d.Role(context.Background(), user, team)
}

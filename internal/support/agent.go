package support

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// What agents do directly: commands, buttons and the App Home. Each method
// checks who asks; a customer or an unknown user gets ErrNotAgent.

// MaxSnooze bounds a snooze so nobody silences the coach by accident forever.
const MaxSnooze = 7 * 24 * time.Hour

// MaxRemind bounds a personal reminder.
const MaxRemind = 30 * 24 * time.Hour

// ErrBadRequest is a request the desk refuses as malformed (a button value
// naming another thread, a duration out of range).
var ErrBadRequest = errors.New("support: bad request")

func (d *Desk) agent(ctx context.Context, user, team string) error {
	if d.dir.Role(ctx, user, team) != Agent {
		return ErrNotAgent
	}
	return nil
}

// SetOnCall makes who the channel's on-call agent ("" clears it). Both the
// one who asks and the one named must be agents: a customer is never on
// call.
//
// who may name several agents, comma-separated: a frustrated customer
// nobody owns then goes to the least-loaded of them who is not paused.
func (d *Desk) SetOnCall(ctx context.Context, by, team, channel, who string) error {
	if err := d.agent(ctx, by, team); err != nil {
		return err
	}
	list := OnCallList(who)
	if len(list) > 10 {
		return fmt.Errorf("%w: at most 10 agents on call", ErrBadRequest)
	}
	for _, a := range list {
		if d.dir.Role(ctx, a, "") != Agent {
			return fmt.Errorf("%w: %s is not an agent", ErrNotAgent, a)
		}
	}
	return d.store.SetOnCall(ctx, channel, strings.Join(list, ","))
}

// Snooze pauses agent's nudges for d (at most MaxSnooze; 0 lifts it) and
// says for how long.
func (d *Desk) Snooze(ctx context.Context, agent, team string, dur time.Duration) (time.Duration, error) {
	if err := d.agent(ctx, agent, team); err != nil {
		return 0, err
	}
	dur = min(max(dur, 0), MaxSnooze)
	return dur, d.store.Snooze(ctx, agent, dur)
}

// RemindMe schedules a personal reminder for agent in channel after dur.
func (d *Desk) RemindMe(ctx context.Context, agent, team, channel string, dur time.Duration) (Reminder, error) {
	if err := d.agent(ctx, agent, team); err != nil {
		return Reminder{}, err
	}
	if dur < time.Second || dur > MaxRemind {
		return Reminder{}, fmt.Errorf("%w: a reminder between 1s and %v", ErrBadRequest, MaxRemind)
	}
	now := d.Now()
	r := Reminder{Kind: KindPersonal, Channel: channel, User: agent, Gen: now.UnixMilli(), N: 1, Due: now.Add(dur).UnixMilli()}
	if err := d.queue.Schedule(ctx, r); err != nil {
		return Reminder{}, err
	}
	_ = d.store.AddOpen(ctx, agent, OpenItem{Kind: r.Kind, Channel: r.Channel, TaskID: r.ID(), Due: r.DueAt()})
	return r, nil
}

// Vote records a 👍 or 👎 on the last nudge agent received about the
// thread, once per agent and nudge; counted is false for a repeated vote.
// The cue and the technique are read from the nudge's record, never from
// the button: a vote on a nudge the agent was not sent is refused
// (ErrBadRequest).
func (d *Desk) Vote(ctx context.Context, agent, team, channel, thread string, useful bool) (counted bool, cue string, err error) {
	if err := d.agent(ctx, agent, team); err != nil {
		return false, "", err
	}
	recent, err := d.store.RecentNudges(ctx, agent, 50)
	if err != nil {
		return false, "", err
	}
	var rec *NudgeRecord
	for i := range recent {
		if recent[i].Channel == channel && recent[i].Thread == thread {
			rec = &recent[i]
			break
		}
	}
	if rec == nil {
		return false, "", fmt.Errorf("%w: no nudge about %s/%s was sent to %s", ErrBadRequest, channel, thread, agent)
	}
	tip, ok := d.coach.TipByID(rec.Tip)
	if !ok {
		return false, "", fmt.Errorf("%w: the nudge's tip %q is no longer in the catalogue", ErrBadRequest, rec.Tip)
	}
	first, err := d.store.FirstDelivery(ctx, fmt.Sprintf("vote:%s:%s|%s|%d", agent, channel, thread, rec.At.UnixMilli()))
	if err != nil || !first {
		return false, rec.Cue, err
	}
	return true, rec.Cue, d.store.Feedback(ctx, channel, rec.Cue, tip.Technique, useful, d.Now())
}

// TaskOf reports whether taskID is a reminder of kind for channel's thread
// (Reminder.ID: kind:channel:thread:gen:n) or, for a personal reminder,
// agent's own in channel (kind:user:channel:gen).
func TaskOf(taskID, kind, channel, thread, agent string) bool {
	p := strings.Split(taskID, ":")
	switch kind {
	case KindResponse, KindFollowup:
		return len(p) == 5 && p[0] == kind && p[1] == channel && p[2] == thread && channel != "" && thread != ""
	case KindPersonal:
		return len(p) == 4 && p[0] == kind && p[1] == agent && p[2] == channel && channel != ""
	}
	return false
}

// ReminderHandled is an agent's Done or Not needed on a reminder: the
// thread's remaining reminders stop (a response reminder), the task is
// cancelled and leaves the agent's open items, and a check-in Done counts.
// The task must belong to the thread the button names.
func (d *Desk) ReminderHandled(ctx context.Context, agent, team, kind, channel, thread, taskID string, done bool) error {
	if err := d.agent(ctx, agent, team); err != nil {
		return err
	}
	if !TaskOf(taskID, kind, channel, thread, agent) {
		return fmt.Errorf("%w: task %q is not this thread's", ErrBadRequest, taskID)
	}
	// The reminder must exist and have been sent to whoever clicks: a made-up
	// task ID in a forged button silences nobody's reminders.
	if sent, err := d.store.Delivered(ctx, taskID+"|"+agent); err != nil {
		return err
	} else if !sent {
		return fmt.Errorf("%w: reminder %q was not sent to %s", ErrBadRequest, taskID, agent)
	}
	if kind == KindResponse {
		if err := d.store.RemindersDone(ctx, channel, thread); err != nil {
			return err
		}
	}
	_ = d.queue.Cancel(ctx, channel, thread, taskID)
	_ = d.store.RemoveOpen(ctx, agent, taskID)
	if done && kind == KindFollowup {
		_ = d.store.Count(ctx, channel, d.Now(), StatFollowupsDone)
	}
	return nil
}

// OpenItems lists agent's open reminders and check-ins that are still
// true (an agent replied, the thread was reopened: gone), soonest first,
// at most limit; the stale ones are dropped from the list.
func (d *Desk) OpenItems(ctx context.Context, agent string, limit int) ([]OpenItem, error) {
	items, err := d.store.OpenItems(ctx, agent)
	if err != nil {
		return nil, err
	}
	var out []OpenItem
	for _, it := range items {
		if !d.stillOpen(ctx, it) {
			_ = d.store.RemoveOpen(ctx, agent, it.TaskID)
			continue
		}
		out = append(out, it)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (d *Desk) stillOpen(ctx context.Context, it OpenItem) bool {
	if it.Kind == KindPersonal || it.Thread == "" {
		return true
	}
	th, err := d.store.GetThread(ctx, it.Channel, it.Thread)
	if err != nil {
		return !errors.Is(err, ErrNotFound)
	}
	if it.Kind == KindFollowup {
		return th.Resolved && th.PendingFollowup == it.TaskID
	}
	return !th.WaitingSince.IsZero() && !th.AgentReplied && !th.Resolved && !th.RemindersDone
}

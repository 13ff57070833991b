package slackio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack/slackevents"

	"empathybot/internal/support"
)

// recordBudget is how long the record step may take before the envelope is
// left unacked (Slack redelivers it; the dedupe makes that safe).
const recordBudget = time.Second

// A recorded event is what its record step did: whether the envelope may
// be acked, the IDs of the tasks it handed to the queue, and what may follow
// the ack (nil: nothing).
type recorded struct {
	ok    bool
	tasks []string
	after func(context.Context)
}

// An event is what the record step reads of an Events API envelope: one
// message (new, or as edited), one deletion, one reaction, or a visit to
// App Home.
type event struct {
	id    string
	retry int

	message  *slackevents.MessageEvent
	edit     bool // message is an edit of an earlier one (message_changed)
	deleted  *deletion
	reaction *slackevents.ReactionAddedEvent
	home     string // the user who opened App Home
}

type deletion struct{ channel, thread, ts string }

// record is the record step of "decide, record, then ack" for one event,
// bounded by recordBudget: past it, the envelope is left unacked and Slack
// redelivers it (the dedupe makes that safe).
func (b *Bot) record(ctx context.Context, e event) recorded {
	ctx, cancel := context.WithTimeout(ctx, recordBudget)
	defer cancel()
	switch {
	case e.message != nil:
		return b.recordMessage(ctx, e)
	case e.deleted != nil:
		return b.recordDeletion(ctx, e)
	case e.reaction != nil:
		return b.recordReaction(ctx, e.reaction)
	case e.home != "":
		// Nothing to record: the view is rebuilt from the store after the ack.
		user := e.home
		return recorded{ok: true, after: func(ctx context.Context) { b.publishHome(ctx, user) }}
	}
	return recorded{ok: true}
}

// recordMessage decodes a message, has the desk decide and record it, and
// reports whether the envelope may be acked. The desk's After work follows
// the ack.
func (b *Bot) recordMessage(ctx context.Context, e event) recorded {
	m := e.message
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	// The event's attributes go with each line logged, not on a logger made
	// for every message (slog's With formats them at once, at any level).
	at := func(kv ...any) []any {
		return append([]any{"event", e.id, "channel", m.Channel, "thread", thread, "user", m.User, "retry", e.retry}, kv...)
	}
	if m.UserTeam != "" {
		b.dir.remember(m.User, m.UserTeam) // reactions carry no team: this is how we will know
	}
	msg := support.Message{EventID: e.id, Channel: m.Channel, Thread: thread, TS: m.TimeStamp, User: m.User, Team: m.UserTeam, Edit: e.edit}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = richText(m.Blocks) // a message sent with blocks only
	}
	out, err := b.desk.Message(ctx, msg, text)
	if errors.Is(err, support.ErrUnknownAuthor) {
		b.metrics.RecordFailures.Inc()
		b.log.Info("author not known yet (users.info on its way); not acked, Slack will redeliver it", at()...)
		return recorded{}
	}
	if err != nil {
		b.metrics.RecordFailures.Inc()
		b.log.Warn("message not recorded; not acked, Slack will redeliver it", at("error", err)...)
		return recorded{}
	}
	debug := b.log.Enabled(ctx, slog.LevelDebug)
	switch out.Role {
	case support.Customer:
		a := out.Assessment
		if out.Customer.Duplicate {
			if debug {
				b.log.Debug("redelivered message; its decision handed over again", at()...)
			}
			break
		}
		if a.Unscored() {
			b.metrics.Unscored.WithLabelValues(a.Language).Inc()
		}
		cue := ""
		if c, ok := a.Primary(); ok {
			cue = string(c.Kind)
		}
		b.metrics.Assessments.WithLabelValues(strconv.FormatBool(a.Frustrated), knownCue(cue)).Inc()
		if out.Customer.Reminder.Kind != "" {
			b.metrics.RemindersSched.WithLabelValues(support.KindResponse).Inc()
		}
		if debug {
			b.log.Debug("customer message recorded", at("score", fmt.Sprintf("%.2f", a.Score), "frustrated", a.Frustrated, "cue", cue,
				"nudge", out.Customer.Nudge, "late", out.Customer.Late)...)
		}
	case support.Agent:
		if debug {
			b.log.Debug("agent reply recorded", at("review", out.Review, "late", out.Agent.Late)...)
		}
	}
	return recorded{ok: true, tasks: out.Tasks, after: func(ctx context.Context) { b.desk.After(ctx, out) }}
}

// recordDeletion: a frustrated customer message the thread waits on no
// longer raises its reminders.
func (b *Bot) recordDeletion(ctx context.Context, e event) recorded {
	d := e.deleted
	if err := b.desk.Deleted(ctx, d.channel, d.thread, d.ts); err != nil {
		b.metrics.RecordFailures.Inc()
		b.log.Warn("deletion not recorded; not acked, Slack will redeliver it", "event", e.id, "channel", d.channel, "error", err)
		return recorded{}
	}
	return recorded{ok: true}
}

// recordReaction: 👀 claims the thread, ✅ resolves it (Desk.React: at
// once, or queued when Slack must first say who reacted or in which
// thread; the ack never waits for the Web API).
func (b *Bot) recordReaction(ctx context.Context, r *slackevents.ReactionAddedEvent) recorded {
	act := support.ReactResolve
	if r.Reaction == "eyes" {
		act = support.ReactClaim
	}
	after, task, err := b.desk.React(ctx, r.Item.Channel, r.Item.Timestamp, r.User, act)
	switch {
	case errors.Is(err, support.ErrNotAgent):
		return recorded{ok: true} // a customer's reaction claims and resolves nothing
	case err != nil:
		b.log.Warn("reaction not recorded; not acked, Slack will redeliver it", "channel", r.Item.Channel, "user", r.User, "reaction", r.Reaction, "error", err)
		return recorded{}
	case task != "":
		return recorded{ok: true, tasks: []string{task}}
	}
	return recorded{ok: true, after: after}
}

// applyReaction is the queue's handler for a queued reaction: it finds the
// thread of the message (ts itself when the store tracks it, else the
// thread Slack names) and applies the reaction, the directory allowed to
// ask Slack who reacted. An error leaves it to the queue's retry.
func (b *Bot) applyReaction(ctx context.Context, r support.Reminder) (string, error) {
	thread := r.Thread
	tracked, err := b.store.Tracked(ctx, r.Channel, r.Thread)
	if err != nil {
		return "", err
	}
	if !tracked {
		if thread, err = b.web.threadOf(ctx, r.Channel, r.Thread); err != nil {
			return "", err
		}
	}
	after, err := b.desk.ApplyReaction(ctx, r.Channel, thread, r.User, r.React)
	switch {
	case errors.Is(err, support.ErrNotAgent):
		return support.Moot, nil // a customer's: claims and resolves nothing
	case err != nil:
		return "", err
	}
	if after != nil {
		after(ctx)
	}
	return support.Sent, nil
}

// DeliverNudge, DeliverReview and DeliverReminder are the durable queue's
// handlers: the desk decides, the bot counts.
func (b *Bot) DeliverNudge(ctx context.Context, t support.NudgeTask) error {
	outcome, err := b.desk.DeliverNudge(ctx, t)
	b.delivered("nudge", t.ID(), outcome, err)
	if outcome == support.Sent || outcome == support.Triaged {
		b.metrics.QueueLatency.WithLabelValues("nudge").Observe(b.Now().Sub(time.UnixMilli(t.At)).Seconds())
	}
	switch {
	case err != nil:
		b.log.Warn("nudge not delivered; the queue retries it", "channel", t.Channel, "thread", t.Thread, "error", err)
	case outcome == support.Sent:
		b.metrics.Nudges.WithLabelValues(knownCue(string(t.Basis.Kind))).Inc()
		b.log.Info("nudged", "channel", t.Channel, "thread", t.Thread)
	default:
		b.log.Info("nudge not sent", "channel", t.Channel, "thread", t.Thread, "outcome", outcome)
	}
	return err
}

// DeliverReview: see DeliverNudge.
func (b *Bot) DeliverReview(ctx context.Context, t support.ReviewTask) error {
	outcome, err := b.desk.DeliverReview(ctx, t)
	b.delivered("review", t.ID(), outcome, err)
	if outcome == support.Sent {
		b.metrics.QueueLatency.WithLabelValues("review").Observe(b.Now().Sub(time.UnixMilli(t.At)).Seconds())
	}
	if outcome == support.Sent {
		b.metrics.Reviews.WithLabelValues(t.Kind).Inc()
		b.log.Info("reply reviewed", "agent", t.Agent, "finding", t.Kind)
	}
	return err
}

// DeliverReminder: see DeliverNudge.
func (b *Bot) DeliverReminder(ctx context.Context, r support.Reminder) error {
	if r.Kind == support.KindReaction {
		outcome, err := b.applyReaction(ctx, r)
		b.delivered(r.Kind, r.ID(), outcome, err)
		return err
	}
	outcome, err := b.desk.DeliverReminder(ctx, r)
	switch {
	case err != nil:
		b.metrics.RemindersFired.WithLabelValues(r.Kind, "failed").Inc()
	case outcome == support.Sent:
		b.metrics.RemindersFired.WithLabelValues(r.Kind, "sent").Inc()
		b.metrics.ReminderLate.Observe(b.Now().Sub(r.DueAt()).Seconds())
		b.metrics.QueueLatency.WithLabelValues(r.Kind).Observe(b.Now().Sub(r.DueAt()).Seconds())
		b.log.Info("reminder delivered", "reminder", r.ID(), "n", r.N)
	case outcome == support.Moot:
		b.metrics.RemindersFired.WithLabelValues(r.Kind, "moot").Inc()
	}
	return err
}

func (b *Bot) delivered(kind, id, outcome string, err error) {
	if err != nil {
		outcome = "failed"
	} else if b.AfterEvent != nil {
		b.settle(id)
	}
	b.metrics.Deliveries.WithLabelValues(kind, outcome).Inc()
}

// settled returns the channel closed once task id has been delivered (or
// found moot) by this process; only kept while AfterEvent is set.
func (b *Bot) settled(id string) chan struct{} {
	b.settleMu.Lock()
	defer b.settleMu.Unlock()
	if b.settles == nil {
		b.settles = map[string]chan struct{}{}
	}
	c, ok := b.settles[id]
	if !ok {
		c = make(chan struct{})
		b.settles[id] = c
	}
	return c
}

func (b *Bot) settle(id string) {
	c := b.settled(id)
	b.settleMu.Lock()
	defer b.settleMu.Unlock()
	select {
	case <-c:
	default:
		close(c)
	}
}

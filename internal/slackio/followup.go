package slackio

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"empathybot/internal/coach"
)

type logger interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
}

// afterCustomerMessage keeps the follow-ups of a thread in step with a
// customer message: it reopens a resolved thread (cancelling its check-in),
// counts a newly frustrated thread, and arms the response reminder.
func (b *Bot) afterCustomerMessage(ctx context.Context, log logger, th support.Thread) {
	if th.NewlyFrustrated {
		_ = b.store.Count(ctx, th.Channel, support.StatFrustrated, th.LastCustomerAt)
	}
	if b.queue == nil {
		return
	}
	if th.Reopened && th.PendingFollowup != "" {
		log.Info("customer reopened a resolved thread; check-in cancelled")
		if err := b.queue.Cancel(th.PendingFollowup); err != nil {
			log.Warn("check-in not cancelled (it will not fire: the thread is open)", "error", err)
		}
	}
	due, ok := b.cfg.Policy.ArmResponse(th.State())
	if !ok {
		return
	}
	r := support.Reminder{Kind: support.KindResponse, Channel: th.Channel, Thread: th.TS, Gen: due.Gen, N: due.N, Due: due.At.UnixMilli()}
	if th.PendingReminder != "" && th.PendingReminder != r.ID() {
		_ = b.queue.Cancel(th.PendingReminder) // superseded: it would find a newer generation anyway
	}
	if err := b.schedule(ctx, r); err != nil {
		log.Error("response reminder not scheduled", "error", err)
		return
	}
	_ = b.store.SetPending(ctx, r)
}

// afterAgentReply records the first-reply time and cancels the response reminder.
func (b *Bot) afterAgentReply(ctx context.Context, log logger, before support.Thread) {
	if before.FirstReplyWait >= 0 {
		_ = b.store.AddReplyWait(ctx, before.Channel, b.Now(), before.FirstReplyWait)
	}
	if b.queue != nil && before.PendingReminder != "" && !before.AgentReplied {
		if err := b.queue.Cancel(before.PendingReminder); err != nil {
			log.Warn("response reminder not cancelled (it will not fire: an agent replied)", "error", err)
		}
	}
}

func (b *Bot) handleResolveReaction(ctx context.Context, r *slackevents.ReactionAddedEvent) {
	if !b.isAgent(ctx, r.User, "") {
		return // a customer's ✅ is not a resolution
	}
	thread, _ := b.store.ThreadOf(ctx, r.Item.Channel, r.Item.Timestamp)
	if _, err := b.resolve(ctx, r.Item.Channel, thread, r.User); err != nil {
		b.log.Warn("resolution not recorded", "channel", r.Item.Channel, "thread", thread, "error", err)
	}
}

// resolve marks a thread resolved and schedules its check-in; a thread that
// is already resolved is left alone (changed false).
func (b *Bot) resolve(ctx context.Context, channel, thread, agent string) (bool, error) {
	now := b.Now()
	th, changed, err := b.store.Resolve(ctx, channel, thread, agent, now)
	if err != nil || !changed {
		return changed, err
	}
	_ = b.store.Count(ctx, channel, support.StatResolved, now)
	log := b.log.With("channel", channel, "thread", thread, "agent", agent)
	log.Info("thread resolved")
	if b.queue == nil {
		return true, nil
	}
	if th.PendingReminder != "" {
		_ = b.queue.Cancel(th.PendingReminder)
	}
	if b.cfg.Policy.FollowupAfter <= 0 {
		return true, nil
	}
	due := b.cfg.Policy.ArmFollowup(th.ResolvedAt)
	r := support.Reminder{Kind: support.KindFollowup, Channel: channel, Thread: thread, Gen: due.Gen, N: 1, Due: due.At.UnixMilli()}
	if err := b.schedule(ctx, r); err != nil {
		return true, fmt.Errorf("check-in not scheduled: %w", err)
	}
	_ = b.store.SetPending(ctx, r)
	_ = b.store.AddOpen(ctx, agent, support.OpenItem{Kind: r.Kind, Channel: channel, Thread: thread, TaskID: r.ID(), Due: due.At})
	return true, nil
}

// deliveryLease is how long one worker may hold a reminder's delivery before
// another may try; longer than any Slack retry sequence.
const deliveryLease = 2 * time.Minute

var errBusy = errors.New("another replica is delivering this reminder")

// DeliverReminder is the queue's handler: it decides whether reminder r is
// still worth sending, sends it, and schedules its repeat. Each message is
// sent at most once per reminder and recipient (an idempotency key in Redis),
// however often the queue delivers the task; an error asks for a retry.
func (b *Bot) DeliverReminder(ctx context.Context, r support.Reminder) error {
	err := b.deliverReminder(ctx, r)
	if err != nil {
		b.fired(r.Kind, "failed")
	}
	return err
}

func (b *Bot) fired(kind, outcome string) {
	b.metrics.RemindersFired.WithLabelValues(kind, outcome).Inc()
}

func (b *Bot) deliverReminder(ctx context.Context, r support.Reminder) error {
	log := b.log.With("reminder", r.ID(), "kind", r.Kind, "channel", r.Channel, "thread", r.Thread)
	now := b.Now()
	switch r.Kind {
	case support.KindPersonal:
		text := fmt.Sprintf(":alarm_clock: You asked me to remind you to follow up in <#%s>.", r.Channel)
		return b.sendOnce(ctx, log, r, r.User, "", text)
	case support.KindFollowup, support.KindResponse:
	default:
		log.Warn("unknown reminder kind; dropped")
		return nil
	}
	th, err := b.store.GetThread(ctx, r.Channel, r.Thread)
	if errors.Is(err, support.ErrNotFound) {
		return nil // expired with the retention period: nothing left to follow up
	}
	if err != nil {
		return err
	}
	due := support.Due{Gen: r.Gen, N: r.N}
	if r.Kind == support.KindFollowup {
		if !b.cfg.Policy.FireFollowup(th.State(), due) {
			log.Info("check-in no longer needed")
			b.fired(r.Kind, "moot")
			return nil
		}
		customer := "the customer"
		if th.LastCustomer != "" {
			customer = "<@" + th.LastCustomer + ">"
		}
		to := th.ResolvedBy
		if to == "" {
			to = th.Assignee()
		}
		if to == "" {
			return nil
		}
		return b.sendOnce(ctx, log, r, to, r.Thread, coach.FollowupText(customer))
	}
	send, next, repeat := b.cfg.Policy.FireResponse(th.State(), due, now)
	if !send {
		log.Info("response reminder no longer needed")
		b.fired(r.Kind, "moot")
		return nil
	}
	if repeat {
		// Scheduled before sending: scheduling is idempotent, sending is not.
		nr := support.Reminder{Kind: r.Kind, Channel: r.Channel, Thread: r.Thread, Gen: next.Gen, N: next.N, Due: next.At.UnixMilli()}
		if err := b.schedule(ctx, nr); err != nil {
			return err
		}
		_ = b.store.SetPending(ctx, nr)
	}
	targets := b.reminderTargets(ctx, r.Channel, th)
	if len(targets) == 0 {
		log.Warn("nobody to remind: set EMPATHY_AGENTS or an on-call agent")
		return nil
	}
	text := coach.ReminderText(r.N, now.Sub(th.WaitingSince))
	var firstErr error
	for _, to := range targets {
		if err := b.sendOnce(ctx, log, r, to, r.Thread, text); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// reminderTargets: the assignee, else the channel's on-call agent, else the
// configured agents (at most 10).
func (b *Bot) reminderTargets(ctx context.Context, channel string, th support.Thread) []string {
	if a := th.Assignee(); a != "" {
		return []string{a}
	}
	if oc, _ := b.store.OnCall(ctx, channel); oc != "" {
		return []string{oc}
	}
	if len(b.cfg.Agents) > 10 {
		return b.cfg.Agents[:10]
	}
	return b.cfg.Agents
}

// sendOnce delivers one reminder message to one agent, exactly once across
// retries and replicas.
func (b *Bot) sendOnce(ctx context.Context, log logger, r support.Reminder, to, thread, text string) error {
	key := r.ID() + "|" + to
	state, err := b.store.BeginDelivery(ctx, key, deliveryLease)
	if err != nil {
		return err
	}
	switch state {
	case support.DeliveryDone:
		return nil
	case support.DeliveryBusy:
		return errBusy
	}
	blocks := []slack.Block{slack.NewSectionBlock(md(text), nil, nil), reminderButtons(r.Kind, r.Channel, thread, r.ID())}
	// Reminders arrive later than the moment they are about, so they go by DM
	// (an ephemeral message is lost if the agent is not looking).
	if err := b.deliver(ctx, r.Channel, thread, to, text, blocks, true); err != nil {
		_ = b.store.FinishDelivery(context.WithoutCancel(ctx), key, false)
		return err
	}
	if err := b.store.FinishDelivery(context.WithoutCancel(ctx), key, true); err != nil {
		log.Warn("delivery not recorded as done; a retry may repeat it", "error", err)
	}
	stat := map[string]string{support.KindResponse: support.StatReminders, support.KindFollowup: support.StatFollowupsSent}[r.Kind]
	if stat != "" {
		_ = b.store.Count(ctx, r.Channel, stat, b.Now())
	}
	if r.Kind == support.KindResponse {
		_ = b.store.AddOpen(ctx, to, support.OpenItem{Kind: r.Kind, Channel: r.Channel, Thread: thread, TaskID: r.ID(), Due: r.DueAt()})
	}
	log.Info("reminder delivered", "agent", to, "n", r.N)
	b.fired(r.Kind, "sent")
	b.metrics.ReminderLate.Observe(b.Now().Sub(r.DueAt()).Seconds())
	return nil
}

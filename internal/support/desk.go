package support

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"empathybot/internal/coach"
)

// Config is the desk's policy.
type Config struct {
	Cooldown time.Duration // per-thread nudge cooldown (default 10 min)
	Policy   Policy        // response reminders and check-ins
	// NudgeUseful is how long a nudge stays worth sending; an older one is
	// dropped and counted (default 15 min).
	NudgeUseful time.Duration
	// Agents are reminded when a thread has no assignee and no on-call agent
	// (at most ten of them).
	Agents []string
	// Triage is the agents' private channel where a frustrated customer
	// nobody owns gets a card with a Claim button ("": no card; the
	// reminder goes to the agents later).
	Triage    string
	DedupeFor time.Duration // how long an event ID is remembered (0: the store's default)
	Retention time.Duration // thread state's TTL (0: the store's default)
	// Holdout keeps a fraction of frustrated moments from nudges, to
	// measure what nudges change (EMPATHY_HOLDOUT; 0: none).
	Holdout Holdout
	// FixedTips: a nudge's technique is the catalogue's first for its cue
	// kind (EMPATHY_TIPS=fixed), not the learner's choice.
	FixedTips bool
	// Leads get the team's report every ReportEvery (EMPATHY_LEADS,
	// EMPATHY_REPORT_EVERY), over Channels (EMPATHY_CHANNELS).
	Leads       []string
	ReportEvery time.Duration
	Channels    []string
	// BreatherAt is the tense load past which an agent gets a breather DM
	// (EMPATHY_BREATHER_AT; 0: never).
	BreatherAt float64
}

// Desk is the application: every decision about a support thread, with one
// method per thing that happens. It holds no state of its own beyond a
// minute's cache of what the learner read.
type Desk struct {
	coach  *coach.Coach
	store  ThreadStore
	queue  Scheduler
	notify Notifier
	dir    Directory
	cfg    Config
	log    *slog.Logger
	learn  *learnCache
	// breathers: which agents' breathers are held back, for a few minutes.
	breathers *breatherHolds
	// Now is the clock.
	Now func() time.Time
}

// NewDesk builds a desk.
func NewDesk(log *slog.Logger, c *coach.Coach, store ThreadStore, queue Scheduler, notify Notifier, dir Directory, cfg Config) *Desk {
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = 10 * time.Minute
	}
	if cfg.NudgeUseful <= 0 {
		cfg.NudgeUseful = 15 * time.Minute
	}
	return &Desk{coach: c, store: store, queue: queue, notify: notify, dir: dir, cfg: cfg, log: log, learn: newLearnCache(), breathers: &breatherHolds{}, Now: time.Now}
}

// Config returns the desk's configuration, defaults filled in.
func (d *Desk) Config() Config { return d.cfg }

// Message is one person's message in a watched channel, decoded.
type Message struct {
	EventID string
	Channel string
	Thread  string // the thread's parent ts (the message's own ts when it starts one)
	TS      string
	User    string
	Team    string // the user's team when the event says; "" when it does not
	// Edit: the message was edited (message_changed): a customer's is read
	// again in place of what it said; an agent's changes nothing.
	Edit bool
}

// Outcome is what the desk made of a message, for the caller's logs and
// metrics and for After.
type Outcome struct {
	Role       Role
	Assessment coach.Assessment // customers only
	Customer   CustomerResult
	Agent      AgentResult
	Review     bool     // a review was queued
	Tasks      []string // IDs of the tasks handed to the queue for delivery now
	// Acknowledged: an agent's reply acknowledges the feeling (the reply
	// review found no missing acknowledgement).
	Acknowledged bool
	at           time.Time // when the message was received
	ts           string    // its Slack ts
	edit         bool      // an edit of it
}

// Message is the record step for a message: the desk decides and records
// what it means, and hands any delivery to the durable queue. Only when it
// returns nil may the envelope be acked; on an error nothing is lost, since
// Slack redelivers and the record step's dedupe makes that safe.
func (d *Desk) Message(ctx context.Context, m Message, text string) (Outcome, error) {
	role := d.dir.RoleNow(m.User, m.Team)
	if role == Unplaced {
		return Outcome{}, ErrUnknownAuthor
	}
	if role == Agent {
		if m.Edit {
			return Outcome{Role: Agent, Agent: AgentResult{Late: true}}, nil
		}
		return d.agentReply(ctx, m, text)
	}
	return d.customerMessage(ctx, m, text)
}

// Deleted is the record step for a deleted message (message_deleted): when
// it was the thread's last customer message and a frustrated one, the
// customer no longer waits on it, and its response reminder is cancelled.
func (d *Desk) Deleted(ctx context.Context, channel, thread, ts string) error {
	pending, err := d.store.MessageDeleted(ctx, channel, thread, ts)
	if err != nil {
		return err
	}
	if pending != "" {
		_ = d.queue.Cancel(ctx, channel, thread, pending) // moot anyway: the thread no longer waits
	}
	return nil
}

// VerdictOf is what the record step keeps of an assessment.
func VerdictOf(a coach.Assessment) Verdict {
	v := Verdict{Score: a.Score, Frustrated: a.Frustrated}
	if c, ok := a.Primary(); ok {
		v.Cue = string(c.Kind)
	}
	return v
}

func (d *Desk) customerMessage(ctx context.Context, m Message, text string) (Outcome, error) {
	// One assessment, read three ways: the record step picks the reading
	// that fits what the thread holds.
	alone := d.coach.Assess(text)
	as := [3]coach.Assessment{
		Alone:           alone,
		AfterCalm:       d.coach.InThread(alone, coach.Earlier{Unanswered: 1}),
		AfterFrustrated: d.coach.InThread(alone, coach.Earlier{Unanswered: 1, Frustrated: true}),
	}
	rec := CustomerRecord{EventID: m.EventID, Channel: m.Channel, Thread: m.Thread, TS: m.TS, User: m.User, At: d.Now(),
		Cooldown: d.cfg.Cooldown, DedupeFor: d.cfg.DedupeFor, Retention: d.cfg.Retention, Edit: m.Edit}
	if due, ok := d.cfg.Policy.ArmResponse(ThreadState{Frustrated: true, LastCustomerAt: rec.At}); ok {
		rec.ReminderDue = due.At // armed only if the record step finds the message frustrated and in order
	}
	for i, a := range as {
		rec.Verdicts[i] = VerdictOf(a)
		if a.Frustrated {
			// The nudge this reading would deliver: the record step queues
			// the one it decides on, in the same atomic step.
			rec.Nudges[i] = &NudgeTask{Channel: m.Channel, Thread: m.Thread, TS: m.TS, At: rec.At.UnixMilli(), Basis: d.coach.Basis(a)}
		}
	}
	res, err := d.store.RecordCustomer(ctx, rec)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Role: Customer, Assessment: as[res.Variant], Customer: res, at: rec.At, ts: m.TS, edit: m.Edit}
	if res.Nudge {
		out.Tasks = append(out.Tasks, NudgeTask{Channel: m.Channel, Thread: m.Thread, TS: m.TS}.ID())
	}
	return out, nil
}

func (d *Desk) agentReply(ctx context.Context, m Message, text string) (Outcome, error) {
	at := d.Now()
	rec := AgentRecord{EventID: m.EventID, Channel: m.Channel, Thread: m.Thread, TS: m.TS, Agent: m.User,
		At: at, DedupeFor: d.cfg.DedupeFor, Retention: d.cfg.Retention}
	// The review is read before the record step, which queues it only if
	// the reply is the first to a frustrated customer. The customer's
	// message is not read again (the bot keeps no text): the review asks
	// for an acknowledgement of a frustrated customer.
	findings := d.coach.Review(text, coach.Assessment{Frustrated: true})
	if len(findings) > 0 {
		f := findings[0]
		rec.Review = &ReviewTask{Channel: m.Channel, Thread: m.Thread, TS: m.TS, Agent: m.User, At: at.UnixMilli(),
			Kind: string(f.Kind), Quote: f.Evidence, Technique: f.Technique, Suggestion: f.Suggestion}
	}
	res, err := d.store.RecordAgentReply(ctx, rec)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Role: Agent, Agent: res, Acknowledged: coach.Acknowledges(findings), at: at}
	if res.Review && rec.Review != nil {
		out.Review = true
		out.Tasks = append(out.Tasks, rec.Review.ID())
	}
	return out, nil
}

// After does what may follow the ack without a guarantee (a crash loses
// it, and nothing depends on it): counting, and cancelling tasks that
// would find themselves moot anyway.
func (d *Desk) After(ctx context.Context, o Outcome) {
	now := d.Now()
	switch o.Role {
	case Customer:
		th := o.Customer.Thread
		if o.Customer.Duplicate || o.Customer.Late {
			return
		}
		if th.NewlyFrustrated {
			_ = d.store.Count(ctx, th.Channel, now, StatFrustrated)
		}
		if o.Assessment.Unscored() {
			_ = d.store.Count(ctx, th.Channel, now, StatUnscored)
		}
		if th.Reopened && th.PendingFollowup != "" {
			_ = d.queue.Cancel(ctx, th.Channel, th.TS, th.PendingFollowup)
		}
		if !o.edit {
			d.momentOnCustomer(ctx, th.Channel, th.TS, o.ts, o.at, VerdictOf(o.Assessment), o.Customer.AfterReply, th.NewlyFrustrated)
			d.loadOnCustomer(ctx, th.Channel, th.TS, o.Customer.Owner, o.at, o.Assessment)
		}
	case Agent:
		b := o.Agent.Before
		if o.Agent.Duplicate || o.Agent.Late {
			return
		}
		if b.FirstReplyWait >= 0 {
			_ = d.store.AddReplyWait(ctx, b.Channel, now, b.FirstReplyWait)
		}
		if b.PendingReminder != "" && !b.AgentReplied {
			_ = d.queue.Cancel(ctx, b.Channel, b.TS, b.PendingReminder)
		}
		if b.EverFrustrated && !b.AgentReplied {
			d.momentOnReply(ctx, b.Channel, b.TS, o.at, o.Acknowledged)
		}
	}
}

// Delivery outcomes, for metrics.
const (
	Sent       = "sent"
	Stale      = "stale"      // too old to be useful: dropped
	Moot       = "moot"       // no longer true (answered, resolved, gone)
	Unassigned = "unassigned" // nobody to tell
	Snoozed    = "snoozed"
	Duplicate  = "duplicate" // already delivered
	Refused    = "refused"   // refused for good (ErrUndeliverable): dropped
	Unknown    = "unknown"   // may have reached Slack and cannot be looked up: not sent again (ErrUnknownOutcome)
	Triaged    = "triaged"   // nobody owns the thread: a card went to the triage channel
	HeldOut    = "held_out"  // the thread is in the holdout: no nudge
	Settled    = "settled"   // a frustrated moment's outcome was settled by its check
)

// ErrBusy means another replica is delivering the same task right now.
var ErrBusy = errors.New("support: another replica is delivering this")

// Handover is how long a delivery's replica must be silent before another
// replica takes it over: the durable queue's default idle time before it
// hands a task over (a live replica's heartbeat keeps its tasks), and the
// lease one attempt holds on a delivery's idempotency key. So a replica
// that died before calling Slack holds the delivery up for seconds, not
// minutes; one that died while calling Slack left the delivery "sending",
// and the next attempt looks before it sends.
const Handover = 6 * time.Second

// DeliverNudge is the queue's handler for a nudge: it decides whether the
// nudge is still true and useful, to whom it goes, and sends it once. An
// error asks the queue to retry.
func (d *Desk) DeliverNudge(ctx context.Context, t NudgeTask) (string, error) {
	now := d.Now()
	if now.Sub(time.UnixMilli(t.At)) > d.cfg.NudgeUseful {
		return Stale, nil
	}
	th, err := d.store.GetThread(ctx, t.Channel, t.Thread)
	if errors.Is(err, ErrNotFound) {
		return Moot, nil
	}
	if err != nil {
		return "", err
	}
	if th.Resolved || th.AgentReplied {
		return Moot, nil
	}
	// The assignee was an agent when they claimed or replied; the on-call
	// agent is checked again (a customer is never on call).
	// The on-call agents are checked again (a customer is never on call),
	// and a paused one is passed over: of those left, the least-loaded.
	to := th.Assignee()
	if to == "" {
		oc, err := d.store.OnCall(ctx, t.Channel)
		if err != nil {
			return "", err
		}
		if avail := d.available(ctx, OnCallList(oc)); len(avail) > 0 {
			to = avail[0]
		}
	}
	if to == "" && d.cfg.Triage != "" {
		outcome, err := d.once(ctx, t.ID()+"|triage", func(ctx context.Context, del Delivery) error {
			s := d.coach.SuggestFor(t.Basis, nil)
			return d.notify.Triage(ctx, del, d.cfg.Triage, Nudge{Channel: t.Channel, Thread: t.Thread, InThread: th.Replies, Score: t.Basis.Score, Suggestion: s,
				Available: d.available(ctx, d.cfg.Agents)})
		})
		if outcome == Sent {
			outcome = Triaged
		}
		return outcome, err
	}
	if to == "" {
		_ = d.store.ReleaseNudge(ctx, t.Channel, t.Thread)
		return Unassigned, nil
	}
	if snoozed, err := d.store.Snoozed(ctx, to); err != nil {
		return "", err
	} else if snoozed {
		_ = d.store.ReleaseNudge(ctx, t.Channel, t.Thread)
		return Snoozed, nil
	}
	// The holdout: a held-out thread's owner gets no nudge (the triage card
	// above, reminders and check-ins are the same in both arms), and keeps
	// the cooldown, as a nudged thread does: nothing tells the arms apart.
	arm, moment, version := d.armOf(ctx, t)
	if arm == ArmHoldout {
		return HeldOut, nil
	}
	outcome, err := d.once(ctx, t.ID()+"|"+to, func(ctx context.Context, del Delivery) error {
		recent, _ := d.store.RecentTips(ctx, to)
		technique, prob := d.chooseTechnique(ctx, t.Basis)
		s := d.coach.SuggestWith(t.Basis, technique, recent)
		if err := d.notify.Nudge(ctx, del, to, Nudge{Channel: t.Channel, Thread: t.Thread, InThread: th.Replies, Score: t.Basis.Score, Suggestion: s}); err != nil {
			return err
		}
		if technique == "" {
			technique = s.Tip.Technique
		}
		d.noteTechnique(ctx, t, technique, prob, moment, version)
		at := d.Now()
		_ = d.store.Nudged(ctx, to, NudgeRecord{Channel: t.Channel, Thread: t.Thread, Cue: string(s.Cue.Kind), Tip: s.Tip.ID, At: at})
		_ = d.store.Count(ctx, t.Channel, at, StatNudges)
		return nil
	})
	if outcome == Refused {
		// Give the cooldown back: the next frustrated message may nudge.
		_ = d.store.ReleaseNudge(context.WithoutCancel(ctx), t.Channel, t.Thread)
	}
	return outcome, err
}

// DeliverReview is the queue's handler for a review of an agent's reply.
func (d *Desk) DeliverReview(ctx context.Context, t ReviewTask) (string, error) {
	if d.Now().Sub(time.UnixMilli(t.At)) > d.cfg.NudgeUseful {
		return Stale, nil
	}
	if snoozed, err := d.store.Snoozed(ctx, t.Agent); err != nil {
		return "", err
	} else if snoozed {
		return Snoozed, nil
	}
	return d.once(ctx, t.ID(), func(ctx context.Context, del Delivery) error { return d.notify.Review(ctx, del, t.Agent, t) })
}

// once runs send under the idempotency key: across retries and replicas,
// at most one send succeeds. Every attempt ends sent, refused or unknown:
// an attempt that may have reached Slack is never blindly repeated. send
// gets the attempt (its key, and whether an earlier attempt may have
// reached Slack), so that the Notifier looks before it sends again.
func (d *Desk) once(ctx context.Context, key string, send func(context.Context, Delivery) error) (string, error) {
	state, err := d.store.BeginDelivery(ctx, key, Handover)
	if err != nil {
		return "", err
	}
	switch state {
	case DeliveryDone:
		return Duplicate, nil
	case DeliveryBusy:
		return "", ErrBusy
	}
	err = send(ctx, Delivery{ID: key, Check: state == DeliveryCheck, mark: func(ctx context.Context) error { return d.store.MarkSending(ctx, key) }})
	finish := func(outcome string) {
		if err := d.store.FinishDelivery(context.WithoutCancel(ctx), key, outcome); err != nil {
			d.log.Warn("delivery outcome not recorded", "task", key, "outcome", outcome, "error", err)
		}
	}
	switch {
	case err == nil:
		finish(DeliverySent)
		return Sent, nil
	case errors.Is(err, ErrAlreadySent):
		finish(DeliverySent)
		return Duplicate, nil
	case errors.Is(err, ErrUnknownOutcome):
		finish(DeliveryUnknown)
		d.log.Warn("delivery outcome unknown; not sent again", "task", key, "error", err)
		return Unknown, nil
	case errors.Is(err, ErrLookBeforeRetry):
		finish(DeliveryUnknown)
		return "", err
	case errors.Is(err, ErrUndeliverable):
		finish(DeliveryFailed)
		d.log.Warn("delivery refused for good; dropped", "task", key, "error", err)
		return Refused, nil
	}
	finish(DeliveryFailed)
	return "", err
}

// DeliverReminder is the queue's handler for a reminder or check-in: it
// decides whether it is still true, sends it once to each recipient, and
// schedules its repeat.
func (d *Desk) DeliverReminder(ctx context.Context, r Reminder) (string, error) {
	now := d.Now()
	switch r.Kind {
	case KindPersonal:
		text := fmt.Sprintf(":alarm_clock: You asked me to remind you to follow up in <#%s>.", r.Channel)
		return d.remindOnce(ctx, r, r.User, text)
	case KindOutcome:
		return d.checkMoment(ctx, r)
	case KindReport:
		return d.deliverReport(ctx, r)
	case KindBreather:
		l, err := d.AgentLoad(ctx, r.User)
		if err != nil {
			return "", err
		}
		return d.remindOnce(ctx, r, r.User, breatherText(l))
	case KindFollowup, KindResponse:
	default:
		return Moot, nil
	}
	th, err := d.store.GetThread(ctx, r.Channel, r.Thread)
	if errors.Is(err, ErrNotFound) {
		return Moot, nil // expired with the retention period: nothing left to follow up
	}
	if err != nil {
		return "", err
	}
	due := Due{Gen: r.Gen, N: r.N}
	if r.Kind == KindFollowup {
		if !d.cfg.Policy.FireFollowup(th.State(), due) {
			return Moot, nil
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
			return Unassigned, nil
		}
		return d.remindOnce(ctx, r, to, coach.FollowupText(customer))
	}
	send, next, repeat := d.cfg.Policy.FireResponse(th.State(), due, now)
	if !send {
		return Moot, nil
	}
	if repeat {
		// Scheduled before sending: scheduling is idempotent, sending is not.
		nr := Reminder{Kind: r.Kind, Channel: r.Channel, Thread: r.Thread, Gen: next.Gen, N: next.N, Due: next.At.UnixMilli()}
		if err := d.queue.Schedule(ctx, nr); err != nil {
			return "", err
		}
		_ = d.store.SetPending(ctx, nr)
	}
	targets, err := d.reminderTargets(ctx, r.Channel, th)
	if err != nil {
		return "", err
	}
	if len(targets) == 0 {
		d.log.Warn("nobody to remind: set EMPATHY_AGENTS or an on-call agent", "channel", r.Channel)
		return Unassigned, nil
	}
	text := coach.ReminderText(r.N, now.Sub(th.WaitingSince))
	outcome := Duplicate
	var firstErr error
	for _, to := range targets {
		o, err := d.remindOnce(ctx, r, to, text)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if o == Sent {
			outcome = Sent
		}
	}
	return outcome, firstErr
}

// reminderTargets: the assignee, else the channel's on-call agent, else the
// configured agents (at most 10).
func (d *Desk) reminderTargets(ctx context.Context, channel string, th Thread) ([]string, error) {
	if a := th.Assignee(); a != "" {
		return []string{a}, nil
	}
	// A thread nobody owns: the least-loaded on-call agent who is not
	// paused, else the configured agents who are not.
	oc, err := d.store.OnCall(ctx, channel)
	if err != nil {
		return nil, err
	}
	if avail := d.available(ctx, OnCallList(oc)); len(avail) > 0 {
		return avail[:1], nil
	}
	avail := d.available(ctx, d.cfg.Agents)
	if len(avail) == 0 {
		// Everyone is paused: a customer still waits, so the reminder goes
		// to the configured agents all the same.
		avail = d.cfg.Agents
	}
	return avail[:min(len(avail), 10)], nil
}

var reminderStat = map[string]string{KindResponse: StatReminders, KindFollowup: StatFollowupsSent}

// remindOnce sends one reminder to one agent, exactly once across retries
// and replicas, and lists it among the agent's open items.
func (d *Desk) remindOnce(ctx context.Context, r Reminder, to, text string) (string, error) {
	return d.once(ctx, r.ID()+"|"+to, func(ctx context.Context, del Delivery) error {
		if err := d.notify.Remind(ctx, del, to, r, text); err != nil {
			return err
		}
		if stat := reminderStat[r.Kind]; stat != "" {
			_ = d.store.Count(ctx, r.Channel, d.Now(), stat)
		}
		if r.Kind == KindFollowup {
			d.momentStamp(ctx, r.Channel, r.Thread, func(m *Moment) *int64 { return &m.CheckinAt }, d.Now())
		}
		if r.Kind == KindResponse {
			_ = d.store.AddOpen(ctx, to, OpenItem{Kind: r.Kind, Channel: r.Channel, Thread: r.Thread, TaskID: r.ID(), Due: r.DueAt()})
		}
		return nil
	})
}

// Claim makes agent the thread's assignee (👀 or the Claim button). A
// customer cannot claim.
func (d *Desk) Claim(ctx context.Context, channel, thread, user, team string) error {
	if d.dir.Role(ctx, user, team) != Agent {
		return ErrNotAgent
	}
	return d.store.Claim(ctx, channel, thread, user)
}

// A Reaction is what an agent's reaction on a thread does.
type Reaction int

// Reactions.
const (
	ReactClaim   Reaction = iota // 👀
	ReactResolve                 // ✅
)

// React is the record step for a 👀 or ✅ on message ts, which runs before
// the ack and asks only the store. A customer's claims and resolves
// nothing (ErrNotAgent). An agent's on a thread the store tracks is
// applied at once (after is Resolve's). One that needs Slack first, the
// reactor not placed yet (users.info) or ts not a thread the store tracks
// (a reply: the event names only the message), is queued durably as a
// KindReaction task, due now, whose ID is task; the queue's handler finds
// the thread and applies it with ApplyReaction.
func (d *Desk) React(ctx context.Context, channel, ts, user string, r Reaction) (after func(context.Context), task string, err error) {
	switch d.dir.RoleNow(user, "") {
	case Agent:
		tracked, err := d.store.Tracked(ctx, channel, ts)
		if err != nil {
			return nil, "", err
		}
		if tracked {
			after, err := d.react(ctx, channel, ts, user, r)
			return after, "", err
		}
	case Unplaced:
	default:
		return nil, "", ErrNotAgent
	}
	now := d.Now().UnixMilli()
	rem := Reminder{Kind: KindReaction, Channel: channel, Thread: ts, User: user, Gen: now, N: 1, Due: now, React: r}
	return nil, rem.ID(), d.queue.Schedule(ctx, rem)
}

// ApplyReaction applies a queued reaction on thread: the directory may ask
// Slack who reacted (Role); ErrNotAgent for a customer. after is Resolve's.
func (d *Desk) ApplyReaction(ctx context.Context, channel, thread, user string, r Reaction) (after func(context.Context), err error) {
	if d.dir.Role(ctx, user, "") != Agent {
		return nil, ErrNotAgent
	}
	return d.react(ctx, channel, thread, user, r)
}

func (d *Desk) react(ctx context.Context, channel, thread, user string, r Reaction) (after func(context.Context), err error) {
	if r == ReactClaim {
		return nil, d.store.Claim(ctx, channel, thread, user)
	}
	_, after, err = d.resolve(ctx, channel, thread, user)
	return after, err
}

// ErrNotAgent is returned when a customer (or an unknown user) tries what
// only agents may.
var ErrNotAgent = errors.New("support: only agents may do this")

// Resolve marks a thread resolved by agent (✅ or the Resolved button) and
// schedules its check-in (the store records it as the thread's pending
// check-in in the same step): two round trips, safe before an ack. changed
// is false when it already was resolved. after does what needs no
// guarantee (counting, cancelling the now moot reminder, listing the
// check-in in App Home); call it once the envelope is acked.
func (d *Desk) Resolve(ctx context.Context, channel, thread, user, team string) (changed bool, after func(context.Context), err error) {
	if d.dir.Role(ctx, user, team) != Agent {
		return false, nil, ErrNotAgent
	}
	return d.resolve(ctx, channel, thread, user)
}

func (d *Desk) resolve(ctx context.Context, channel, thread, user string) (changed bool, after func(context.Context), err error) {
	now := d.Now()
	th, changed, err := d.store.Resolve(ctx, channel, thread, user, now)
	if err != nil {
		return false, nil, err
	}
	// Scheduled again on a second ✅ too: if the first one's scheduling
	// failed, this is its retry; if not, the queue keeps one.
	var r Reminder
	if d.cfg.Policy.FollowupAfter > 0 && th.Resolved && (changed || th.ResolvedBy == user) {
		due := d.cfg.Policy.ArmFollowup(th.ResolvedAt)
		r = Reminder{Kind: KindFollowup, Channel: channel, Thread: thread, Gen: due.Gen, N: 1, Due: due.At.UnixMilli()}
		if err := d.queue.Schedule(ctx, r); err != nil {
			return changed, nil, fmt.Errorf("check-in not scheduled: %w", err)
		}
	}
	after = func(ctx context.Context) {
		if changed {
			d.momentStamp(ctx, channel, thread, func(m *Moment) *int64 { return &m.ResolvedAt }, now)
			_ = d.store.Count(ctx, channel, now, StatResolved)
			if th.PendingReminder != "" {
				_ = d.queue.Cancel(ctx, th.Channel, th.TS, th.PendingReminder)
			}
		}
		if r.Kind != "" {
			_ = d.store.AddOpen(ctx, user, OpenItem{Kind: r.Kind, Channel: channel, Thread: thread, TaskID: r.ID(), Due: r.DueAt()})
		}
	}
	return changed, after, nil
}

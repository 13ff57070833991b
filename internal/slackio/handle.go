package slackio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"empathybot/internal/coach"
	"empathybot/internal/support"
)

// recordBudget is how long the record step may take before the envelope is
// left unacked (Slack redelivers it; the dedupe makes that safe).
const recordBudget = time.Second

// recordMessage is the record step for one message event: it decodes the
// message, has the desk decide and record it, and reports whether the
// envelope may be acked. The desk's After work runs later, after the ack.
func (b *Bot) recordMessage(ctx context.Context, eventID string, retry int, m *slackevents.MessageEvent, edit bool) (after func(context.Context), tasks []string, ok bool) {
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	log := b.log.With("event", eventID, "channel", m.Channel, "thread", thread, "user", m.User, "retry", retry)
	rctx, cancel := context.WithTimeout(onAckPath(ctx), recordBudget)
	defer cancel()
	if m.UserTeam != "" {
		b.rememberTeam(m.User, m.UserTeam) // reactions carry no team: this is how we will know
	}
	msg := support.Message{EventID: eventID, Channel: m.Channel, Thread: thread, TS: m.TimeStamp, User: m.User, Team: m.UserTeam, Edit: edit}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = richText(m.Blocks) // a message sent with blocks only
	}
	out, err := b.desk.Message(rctx, msg, text)
	if errors.Is(err, support.ErrUnknownAuthor) {
		b.metrics.RecordFailures.Inc()
		log.Info("author not known yet (users.info on its way); not acked, Slack will redeliver it")
		return nil, nil, false
	}
	if err != nil {
		b.metrics.RecordFailures.Inc()
		log.Warn("message not recorded; not acked, Slack will redeliver it", "error", err)
		return nil, nil, false
	}
	switch out.Role {
	case support.Customer:
		a := out.Assessment
		if out.Customer.Duplicate {
			log.Debug("redelivered message; its decision handed over again")
			break
		}
		if a.Unscored() {
			b.metrics.Unscored.WithLabelValues(a.Language).Inc()
		}
		cue := ""
		if c, ok := a.Primary(); ok {
			cue = string(c.Kind)
		}
		b.metrics.Assessments.WithLabelValues(fmt.Sprint(a.Frustrated), knownCue(cue)).Inc()
		if out.Customer.Reminder.Kind != "" {
			b.metrics.RemindersSched.WithLabelValues(support.KindResponse).Inc()
		}
		log.Debug("customer message recorded", "score", fmt.Sprintf("%.2f", a.Score), "frustrated", a.Frustrated, "cue", cue,
			"nudge", out.Customer.Nudge, "late", out.Customer.Late)
	case support.Agent:
		log.Debug("agent reply recorded", "review", out.Review, "late", out.Agent.Late)
	}
	return func(ctx context.Context) { b.desk.After(ctx, out) }, out.Tasks, true
}

// recordDeletion is the record step for a deleted message: a frustrated
// customer message the thread waits on no longer raises its reminders.
func (b *Bot) recordDeletion(ctx context.Context, eventID, channel, thread, ts string) (after func(context.Context), ok bool) {
	rctx, cancel := context.WithTimeout(onAckPath(ctx), recordBudget)
	defer cancel()
	if err := b.desk.Deleted(rctx, channel, thread, ts); err != nil {
		b.metrics.RecordFailures.Inc()
		b.log.Warn("deletion not recorded; not acked, Slack will redeliver it", "event", eventID, "channel", channel, "error", err)
		return nil, false
	}
	return nil, true
}

// recordReaction is the record step for 👀 (claim) and ✅ (resolve); it
// returns what may follow the ack, and whether the envelope may be acked.
func (b *Bot) recordReaction(ctx context.Context, r *slackevents.ReactionAddedEvent) (after func(context.Context), ok bool) {
	rctx, cancel := context.WithTimeout(onAckPath(ctx), recordBudget)
	defer cancel()
	log := b.log.With("channel", r.Item.Channel, "user", r.User, "reaction", r.Reaction)
	// The reaction may be on a reply: find its thread.
	thread, err := b.store.ThreadOf(rctx, r.Item.Channel, r.Item.Timestamp)
	if err != nil {
		log.Warn("reaction not recorded; not acked", "error", err)
		return nil, false
	}
	if b.Role(rctx, r.User, "") == support.Unplaced {
		// A reaction carries no team, and users.info has not answered yet
		// (the reactor's first after a restart): acked now, applied once
		// Slack says who it is, so an agent's first 👀 still claims.
		log.Debug("reactor not known yet; the reaction applies once users.info answers")
		return func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
			defer cancel()
			after, err := b.applyReaction(ctx, r, thread)
			if err != nil && !errors.Is(err, support.ErrNotAgent) {
				log.Warn("reaction not applied", "error", err)
			}
			if after != nil {
				after(ctx)
			}
		}, true
	}
	after, err = b.applyReaction(rctx, r, thread)
	switch {
	case errors.Is(err, support.ErrNotAgent):
		log.Debug("a customer's reaction claims and resolves nothing")
		return nil, true
	case err != nil:
		log.Warn("reaction not recorded; not acked", "error", err)
		return nil, false
	}
	return after, true
}

// applyReaction has the desk claim (👀) or resolve (✅) the thread.
func (b *Bot) applyReaction(ctx context.Context, r *slackevents.ReactionAddedEvent, thread string) (after func(context.Context), err error) {
	switch r.Reaction {
	case "eyes":
		err = b.desk.Claim(ctx, r.Item.Channel, thread, r.User, "")
	default:
		_, after, err = b.desk.Resolve(ctx, r.Item.Channel, thread, r.User, "")
	}
	return after, err
}

// Role tells agents from customers (support.Directory): EMPATHY_AGENTS and
// the agent group when set; otherwise the members of our own team (and of
// EMPATHY_AGENT_TEAMS) are agents, except its guests, and Slack Connect
// users are customers. Whoever it cannot place is never an agent: on the
// record step, a user whose lookup has not landed is support.Unplaced.
func (b *Bot) Role(ctx context.Context, user, team string) support.Role {
	if user == "" {
		return support.Customer
	}
	if len(b.agents) > 0 || b.cfg.AgentGroup != "" {
		if b.agents[user] || b.cfg.AgentGroup != "" && b.groupMember(ctx, user) {
			return support.Agent
		}
		return support.Customer
	}
	if team == "" {
		// A reaction or a file carries no team: an earlier event may have
		// said it.
		b.teamsMu.Lock()
		if e, ok := b.teams[user]; ok && b.Now().Sub(e.at) < 10*time.Minute {
			team = e.team
		}
		b.teamsMu.Unlock()
	}
	if team != "" && !b.ourTeam(team) {
		return support.Customer // another organisation: a Slack Connect customer
	}
	// Our team, or no team in the payload: who it is, and whether a guest,
	// is in users.info (cached).
	e, known := b.identity(ctx, user)
	switch {
	case !known && isAckPath(ctx):
		return support.Unplaced
	case !known:
		return support.Customer
	case e.failed:
		// Slack could not say: the event's own team decides, and with none
		// the user is a customer.
		if b.ourTeam(team) {
			return support.Agent
		}
		return support.Customer
	case b.ourTeam(e.team) && !e.guest:
		return support.Agent
	}
	return support.Customer
}

// identity returns what users.info says of user (team, guest), cached ten
// minutes; one lookup per user at a time. On the record step it never
// waits: known is false until the answer has landed (the message is left
// unacked, and Slack's redelivery finds it cached).
func (b *Bot) identity(ctx context.Context, user string) (e teamEntry, known bool) {
	b.teamsMu.Lock()
	if e, ok := b.teams[user]; ok && e.full && (b.Now().Sub(e.at) < 10*time.Minute && !e.failed || b.Now().Sub(e.at) < time.Minute) {
		b.teamsMu.Unlock()
		return e, true
	}
	wait, busy := b.looking[user]
	if !busy {
		wait = make(chan struct{})
		b.looking[user] = wait
		b.background(func(ctx context.Context) {
			b.lookupUser(ctx, user)
			b.teamsMu.Lock()
			delete(b.looking, user)
			b.teamsMu.Unlock()
			close(wait)
		})
	}
	b.teamsMu.Unlock()
	if isAckPath(ctx) {
		// The record step never waits for the Web API: the answer is
		// cached for Slack's redelivery.
		return teamEntry{}, false
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return teamEntry{}, false
	case <-time.After(30 * time.Second):
		return teamEntry{}, false
	}
	b.teamsMu.Lock()
	defer b.teamsMu.Unlock()
	e, ok := b.teams[user]
	return e, ok && e.full
}

// lookupUser asks users.info about user and caches the answer.
func (b *Bot) lookupUser(ctx context.Context, user string) {
	var u *slack.User
	err := b.retry(ctx, "users.info", func() error {
		var err error
		u, err = b.api.GetUserInfoContext(ctx, user)
		return err
	})
	b.teamsMu.Lock()
	defer b.teamsMu.Unlock()
	if len(b.teams) > 10000 {
		b.teams = map[string]teamEntry{} // bound the cache
	}
	if err != nil {
		b.log.Warn("users.info failed; the event's team decides, and with none the user is a customer", "user", user, "error", err)
		b.teams[user] = teamEntry{at: b.Now(), full: true, failed: true}
		return
	}
	b.teams[user] = teamEntry{team: u.TeamID, at: b.Now(), full: true, guest: u.IsRestricted || u.IsUltraRestricted}
}

type ackPathKey struct{}

// onAckPath marks the record step, which runs before an ack: there the
// directory answers from what it has cached and never calls Slack (a slow
// or rate-limited Web API must not hold an ack). What it does not know is
// looked up in the background for next time, and meanwhile the user is a
// customer: fail closed.
func onAckPath(ctx context.Context) context.Context {
	return context.WithValue(ctx, ackPathKey{}, true)
}

func isAckPath(ctx context.Context) bool { return ctx.Value(ackPathKey{}) != nil }

// background runs a directory lookup the ack path could not wait for.
func (b *Bot) background(lookup func(ctx context.Context)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		lookup(ctx)
	}()
}

func (b *Bot) rememberTeam(user, team string) {
	b.teamsMu.Lock()
	defer b.teamsMu.Unlock()
	if e, ok := b.teams[user]; ok && e.full {
		return // users.info's answer (or its failure) says more: a guest
	}
	if len(b.teams) > 10000 {
		b.teams = map[string]teamEntry{} // bound the cache
	}
	b.teams[user] = teamEntry{team: team, at: b.Now()}
}

// ourTeam reports whether a team ID from an event is our own: our
// workspace, or (Enterprise Grid) our organisation's E… ID. Another E… ID is
// another organisation (Slack Connect).
func (b *Bot) ourTeam(team string) bool {
	return team != "" && (team == b.teamID || b.enterpriseID != "" && team == b.enterpriseID || slices.Contains(b.cfg.AgentTeams, team))
}

// groupMember reports whether user is in the agent group. The member list
// is cached for five minutes; usergroups.users.list is Tier 2 (about 20 calls
// a minute), so one caller refreshes it while the others use the list they
// have, and after a failure the next try waits (30 s, doubling to 10 min).
// The last good list is kept through failures; before the first one, nobody
// is a member (an unknown user is a customer).
func (b *Bot) groupMember(ctx context.Context, user string) bool {
	b.groupMu.Lock()
	now := b.Now()
	stale := b.groupMembers == nil || now.Sub(b.groupAt) > 5*time.Minute
	refresh := stale && !b.groupBusy && !now.Before(b.groupRetry)
	if refresh {
		b.groupBusy = true
	}
	members := b.groupMembers
	b.groupMu.Unlock()
	if refresh && isAckPath(ctx) {
		// Not on the ack path: answer from the list we have, refresh behind.
		b.background(func(ctx context.Context) { b.refreshGroup(ctx) })
		return members[user]
	}
	if refresh {
		members = b.refreshGroup(ctx)
	}
	return members[user]
}

// refreshGroup fetches the agent group's members (the caller has set
// groupBusy) and returns the list to use: the new one, or the last good one.
func (b *Bot) refreshGroup(ctx context.Context) map[string]bool {
	list, err := b.api.GetUserGroupMembersContext(ctx, b.cfg.AgentGroup)
	b.groupMu.Lock()
	b.groupBusy = false
	if err != nil {
		b.groupBackoff = min(max(2*b.groupBackoff, 30*time.Second), 10*time.Minute)
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			b.groupBackoff = max(b.groupBackoff, rl.RetryAfter)
		}
		b.groupRetry = b.Now().Add(b.groupBackoff)
		b.log.Warn("agent group unavailable; keeping the last list", "group", b.cfg.AgentGroup, "retry_in", b.groupBackoff, "error", err)
	} else {
		m := make(map[string]bool, len(list))
		for _, u := range list {
			m[u] = true
		}
		b.groupMembers, b.groupAt, b.groupBackoff, b.groupRetry = m, b.Now(), 0, time.Time{}
	}
	members := b.groupMembers
	b.groupMu.Unlock()
	return members
}

// Nudge delivers a nudge privately (support.Notifier).
func (b *Bot) Nudge(ctx context.Context, to string, n support.Nudge) error {
	s := n.Suggestion
	blocks := append(nudgeBlocks(n.Score, s), nudgeButtons(n.Channel, n.Thread, s.Cue.Kind, s.Tip.Technique))
	fallback := "A customer in this thread sounds frustrated: " + coach.Describe(s.Cue.Kind) + ". Try: " + s.Tip.Title
	return b.private(ctx, n.Channel, n.Thread, n.InThread, to, fallback, blocks)
}

// Triage posts a card about a frustrated customer nobody owns in the
// agents' triage channel (support.Notifier): the cue and its evidence, a
// link to the message, and a Claim button.
func (b *Bot) Triage(ctx context.Context, triage string, n support.Nudge) error {
	s := n.Suggestion
	why := "the overall tone reads as frustrated"
	if s.Cue.Kind != "" {
		why = coach.Describe(s.Cue.Kind)
		if s.Cue.Evidence != "" {
			why += fmt.Sprintf(" (“%s”)", escape(trim(s.Cue.Evidence, 80)))
		}
	}
	head := fmt.Sprintf(":rotating_light: *A frustrated customer in <#%s> has no owner* — %s.", n.Channel, why)
	blocks := []slack.Block{slack.NewSectionBlock(md(head), nil, nil)}
	if link := b.permalink(ctx, n.Channel, n.Thread); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", md("<"+link+"|Open the message> · score "+fmt.Sprintf("%.2f", n.Score))))
	}
	blocks = append(blocks, slack.NewActionBlock("empathy_triage", button(actClaim, ":eyes: Claim", value(n.Channel, n.Thread), slack.StylePrimary)))
	fallback := "A frustrated customer has no owner: " + coach.Describe(s.Cue.Kind)
	return b.post(ctx, triage, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
}

// Review delivers a review of an agent's reply privately (support.Notifier).
func (b *Bot) Review(ctx context.Context, to string, r support.ReviewTask) error {
	return b.private(ctx, r.Channel, r.Thread, r.InThread(), to, "A thought on your reply: "+r.Suggestion, reviewBlocks(r))
}

// Remind delivers a reminder or check-in by DM (support.Notifier):
// reminders arrive later than the moment they are about, and an ephemeral
// message is lost if the agent is not looking.
func (b *Bot) Remind(ctx context.Context, to string, r support.Reminder, text string) error {
	blocks := []slack.Block{slack.NewSectionBlock(md(text), nil, nil), reminderButtons(r.Kind, r.Channel, r.Thread, r.ID())}
	return b.deliver(ctx, r.Channel, r.Thread, true, to, text, blocks, true)
}

// DeliverNudge, DeliverReview and DeliverReminder are the durable queue's
// handlers: the desk decides, the bot counts.
func (b *Bot) DeliverNudge(ctx context.Context, t support.NudgeTask) error {
	outcome, err := b.desk.DeliverNudge(fromQueue(ctx), t)
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
	outcome, err := b.desk.DeliverReview(fromQueue(ctx), t)
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
	outcome, err := b.desk.DeliverReminder(fromQueue(ctx), r)
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

// private delivers a message only user can see: ephemeral, or a DM when
// configured.
func (b *Bot) private(ctx context.Context, channel, thread string, inThread bool, user, fallback string, blocks []slack.Block) error {
	return b.deliver(ctx, channel, thread, inThread, user, fallback, blocks, b.cfg.NudgeDM)
}

// deliver sends a private message to user about a thread: ephemeral in the
// thread when it has replies (Slack shows no ephemeral message in a
// reply-less thread, though it answers ok), else ephemeral at channel level
// with a link to the message; or (dm) a direct message with a link to the
// thread.
func (b *Bot) deliver(ctx context.Context, channel, thread string, inThread bool, user, fallback string, blocks []slack.Block, dm bool) error {
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	if !dm {
		where := []slack.MsgOption{slack.MsgOptionTS(thread)}
		if !inThread {
			where = nil
			if link := b.permalink(ctx, channel, thread); link != "" {
				withLink := append(append([]slack.Block(nil), blocks...), slack.NewContextBlock("", md("<"+link+"|The customer's message>")))
				opts = []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(withLink...)}
			}
		}
		if _, check := support.DeliveryFrom(ctx); check {
			// An earlier attempt may have shown it, and Slack keeps no
			// ephemeral message a bot can look up: not sent again.
			return fmt.Errorf("chat.postEphemeral: %w: an earlier attempt may have shown it", support.ErrUnknownOutcome)
		}
		if err := support.Sending(ctx); err != nil {
			return err
		}
		err := b.retry(ctx, "chat.postEphemeral", func() error {
			_, err := b.api.PostEphemeralContext(ctx, channel, user, append(opts, where...)...)
			return err
		})
		if errors.Is(err, errMaybeDelivered) {
			return fmt.Errorf("%w: %w", support.ErrUnknownOutcome, err)
		}
		if !slackError(err, "user_not_in_channel") {
			return err
		}
		// An agent who is not in the channel cannot see an ephemeral there:
		// a DM with a link to the thread reaches them.
		b.log.Info("agent not in the channel; sending by DM", "channel", channel, "agent", user)
	}
	var im string
	if err := b.retry(ctx, "conversations.open", func() error {
		ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			im = ch.ID
		}
		return err
	}); err != nil {
		return err
	}
	if link := b.permalink(ctx, channel, thread); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "<"+link+"|Open the thread>", false, false)))
		opts = []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	}
	return b.post(ctx, im, opts...)
}

// deliveryEvent is the metadata event type of every message the bot posts
// for a delivery; its payload names the delivery ("delivery_id").
const deliveryEvent = "empathybot_delivery"

// post sends a message to channel for the delivery in ctx
// (support.DeliveryFrom), with the delivery's ID as message metadata. When
// an earlier attempt may have reached Slack (check), it first looks for
// that attempt's message in the channel's recent history, and sends
// nothing if it is there. A send that may have reached Slack without an
// answer (the connection lost after the request, no answer in time) is
// never repeated here: the next attempt looks first.
func (b *Bot) post(ctx context.Context, channel string, opts ...slack.MsgOption) error {
	id, check := support.DeliveryFrom(ctx)
	if id != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: deliveryEvent, EventPayload: map[string]any{"delivery_id": id}}))
		if check {
			found, err := b.findDelivery(ctx, channel, id)
			if err != nil {
				// Still unknown: look again next time rather than send.
				return fmt.Errorf("%w: %w", support.ErrLookBeforeRetry, err)
			}
			if found {
				return support.ErrAlreadySent
			}
		}
	}
	if err := support.Sending(ctx); err != nil {
		return err
	}
	err := b.retry(ctx, "chat.postMessage", func() error {
		_, _, err := b.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if errors.Is(err, errMaybeDelivered) {
		return fmt.Errorf("%w: %w", support.ErrLookBeforeRetry, err)
	}
	return err
}

// historyLookback is how many of a channel's latest messages findDelivery
// reads: a delivery's retry comes within minutes, in a DM or a triage
// channel that gets few messages.
const historyLookback = 100

// findDelivery reports whether one of channel's recent messages carries
// delivery id as its metadata.
func (b *Bot) findDelivery(ctx context.Context, channel, id string) (bool, error) {
	var found bool
	err := b.retry(ctx, "conversations.history", func() error {
		h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: historyLookback, IncludeAllMetadata: true})
		if err != nil {
			return err
		}
		for _, m := range h.Messages {
			if m.Metadata.EventType == deliveryEvent && m.Metadata.EventPayload["delivery_id"] == id {
				found = true
			}
		}
		return nil
	})
	return found, err
}

// permalink is a link to message ts, or "" when Slack cannot give one.
func (b *Bot) permalink(ctx context.Context, channel, ts string) string {
	if ts == "" {
		return ""
	}
	var link string
	_ = b.retry(ctx, "chat.getPermalink", func() error {
		var err error
		link, err = b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
		return err
	})
	return link
}

// maxInlineWait is the longest Retry-After a call waits out in place; a
// longer one is handed back to the caller as a *support.RetryLater. Calls
// made for the durable queue wait out none (fromQueue): the queue retries
// the whole task later, which decides afresh whether it is still true, so
// a reminder is never sent after the agent answered while it waited.
const maxInlineWait = 2 * time.Second

type queueKey struct{}

func fromQueue(ctx context.Context) context.Context { return context.WithValue(ctx, queueKey{}, true) }

// errMaybeDelivered marks a call that posts something and may have reached
// Slack without an answer: the connection was lost after the request went
// out, or no answer came in time. It is never repeated in place.
var errMaybeDelivered = errors.New("the request may have reached Slack")

// posting lists the methods whose repetition would show something twice.
var posting = map[string]bool{"chat.postMessage": true, "chat.postEphemeral": true}

// retry runs call, waiting out short 429s (Retry-After, with jitter) and
// retrying transient failures (5xx, a connection that was never made, and
// for a call that posts nothing a dropped connection) a few times with
// backoff. A posting call that may have reached Slack is not repeated: it
// returns errMaybeDelivered.
func (b *Bot) retry(ctx context.Context, method string, call func() error) error {
	backoff := 200 * time.Millisecond
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			// Over before the call: nothing was sent, whatever the call.
			return fmt.Errorf("%s: %w", method, cerr)
		}
		err = call()
		if err == nil {
			return nil
		}
		if posting[method] && mayHaveReached(err) {
			return fmt.Errorf("%s: %w: %w", method, errMaybeDelivered, err)
		}
		wait := backoff
		var rl *slack.RateLimitedError
		var sc slack.StatusCodeError
		switch {
		case errors.As(err, &rl):
			if rl.RetryAfter > maxInlineWait || ctx.Value(queueKey{}) != nil {
				return &support.RetryLater{After: rl.RetryAfter, Err: fmt.Errorf("%s: %w", method, err)}
			}
			wait = rl.RetryAfter
		case errors.As(err, &sc) && sc.Code >= 500, droppedConnection(err):
			backoff *= 2
		default:
			var se slack.SlackErrorResponse
			if errors.As(err, &se) {
				b.metrics.SlackErrors.WithLabelValues(method, knownSlackError(se.Err)).Inc()
			}
			if errors.As(err, &se) && !transientSlackError[se.Err] {
				return fmt.Errorf("%s: %w: %w", method, support.ErrUndeliverable, err)
			}
			return fmt.Errorf("%s: %w", method, err)
		}
		wait += time.Duration(rand.Int64N(int64(wait)/5 + 1)) // jitter: replicas do not retry in step
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case <-time.After(wait):
		}
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &support.RetryLater{After: rl.RetryAfter, Err: fmt.Errorf("%s: %w", method, err)}
	}
	return fmt.Errorf("%s: gave up: %w", method, err)
}

// transientSlackError lists ok:false errors worth retrying; every other
// one (channel_not_found, invalid_blocks, user_not_in_channel...) is final.
var transientSlackError = map[string]bool{"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true, "team_added_to_org": true}

// knownSlackError keeps the metric's label set bounded: Slack's error names
// are a closed set of snake_case words; anything else is "other".
func knownSlackError(e string) string {
	if len(e) == 0 || len(e) > 40 || strings.Trim(e, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "other"
	}
	return e
}

// slackError reports whether err is Slack's ok:false answer name.
func slackError(err error, name string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == name
}

// mayHaveReached reports whether a call that failed with err may
// nonetheless have reached Slack: a transport failure after the connection
// was made (closed or reset while waiting for the answer, no answer within
// the client's timeout, the context ending mid-call). A refused
// connection, a failed DNS lookup or a dial that failed never sent
// anything; Slack's own answers (an error, a 429, a 5xx) are not transport
// failures.
func mayHaveReached(err error) bool {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	}
	var dns *net.DNSError
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return true
}

// droppedConnection reports whether err is a connection that failed before
// Slack answered: closed (EOF, as a pooled keep-alive connection the server
// has just dropped gives), reset, or refused. A call that posts nothing is
// retried after one; a posting call is retried only after a refused
// connection, which sent nothing (see mayHaveReached): the others may have
// reached Slack.
func droppedConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

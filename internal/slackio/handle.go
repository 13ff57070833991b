package slackio

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"empathybot/internal/coach"
)

// handleMessage is the work for one message event, after the ack.
func (b *Bot) handleMessage(ctx context.Context, eventID string, retry int, m *slackevents.MessageEvent) {
	log := b.log.With("event", eventID, "channel", m.Channel, "retry", retry)
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	log = log.With("thread", thread, "user", m.User)
	if thread != m.TimeStamp {
		// A reply: remember its thread, so a ✅ or 👀 on it finds the thread.
		if err := b.store.MapReply(ctx, m.Channel, m.TimeStamp, thread); err != nil {
			log.Warn("reply not mapped to its thread", "error", err)
		}
	}
	if b.isAgent(ctx, m.User, m.UserTeam) {
		b.handleAgentReply(ctx, log, m, thread)
		return
	}
	// The thread's trajectory: a customer who wrote before and is still
	// unanswered is escalating (coach.AssessInThread). Only IDs and flags
	// are read, never text.
	var earlier coach.Earlier
	if prev, err := b.store.GetThread(ctx, m.Channel, thread); err == nil && prev.LastCustomer != "" && !prev.AgentReplied && !prev.Resolved {
		earlier = coach.Earlier{Unanswered: 1, Frustrated: prev.Frustrated}
	}
	a := b.coach.AssessInThread(m.Text, earlier)
	if a.Unscored() {
		b.metrics.Unscored.WithLabelValues(a.Language).Inc()
		log.Debug("customer message not scored", "language", a.Language)
	}
	cue := ""
	if c, ok := a.Primary(); ok {
		cue = string(c.Kind)
	}
	log.Debug("customer message assessed", "score", fmt.Sprintf("%.2f", a.Score), "frustrated", a.Frustrated, "cue", cue)
	b.metrics.Assessments.WithLabelValues(fmt.Sprint(a.Frustrated), knownCue(cue)).Inc()
	now := b.Now()
	th, err := b.store.CustomerMessage(ctx, m.Channel, thread, m.User, now, a.Score, a.Frustrated, cue)
	if err != nil {
		log.Warn("thread state unavailable", "error", err)
	} else {
		b.afterCustomerMessage(ctx, log, th)
	}
	if !a.Frustrated {
		return
	}
	assignee := th.Assignee()
	if assignee == "" {
		assignee, _ = b.store.OnCall(ctx, m.Channel)
	}
	if assignee == "" {
		log.Info("frustrated customer in an unassigned thread")
		return
	}
	if snoozed, err := b.store.Snoozed(ctx, assignee); err == nil && snoozed {
		log.Info("assignee snoozed; no nudge", "agent", assignee)
		return
	}
	ok, err := b.store.TryNudge(ctx, m.Channel, thread, now, b.cfg.Cooldown)
	if err != nil {
		log.Warn("cooldown unavailable; nudging anyway", "error", err)
		ok = true
	}
	if !ok {
		log.Info("nudge cooldown active", "agent", assignee)
		return
	}
	recent, _ := b.store.RecentTips(ctx, assignee)
	s := b.coach.Suggest(a, recent)
	blocks := append(nudgeBlocks(a, s), nudgeButtons(m.Channel, thread, s.Cue.Kind, s.Tip.Technique))
	fallback := "A customer in this thread sounds frustrated: " + coach.Describe(s.Cue.Kind) + ". Try: " + s.Tip.Title
	if err := b.private(ctx, m.Channel, thread, assignee, fallback, blocks); err != nil {
		log.Error("nudge not delivered", "agent", assignee, "error", err)
		// Give the cooldown back: the next frustrated message may nudge.
		_ = b.store.ReleaseNudge(context.WithoutCancel(ctx), m.Channel, thread)
		return
	}
	_ = b.store.Nudged(ctx, assignee, support.NudgeRecord{Channel: m.Channel, Thread: thread, Cue: string(s.Cue.Kind), Tip: s.Tip.ID, At: now})
	_ = b.store.Count(ctx, m.Channel, support.StatNudges, now)
	log.Info("nudged", "agent", assignee, "tip", s.Tip.ID)
	b.metrics.Nudges.WithLabelValues(knownCue(string(s.Cue.Kind))).Inc()
}

func (b *Bot) handleAgentReply(ctx context.Context, log logger, m *slackevents.MessageEvent, thread string) {
	before, err := b.store.AgentReply(ctx, m.Channel, thread, m.User, b.Now())
	if err != nil {
		log.Warn("thread state unavailable", "error", err)
		return
	}
	b.afterAgentReply(ctx, log, before)
	if !before.Frustrated || before.AgentReplied {
		return // only the first reply to a frustrated customer is reviewed
	}
	customer := coach.Assessment{Score: before.LastScore, Frustrated: true}
	findings := b.coach.Review(m.Text, customer)
	if len(findings) == 0 {
		return
	}
	if snoozed, err := b.store.Snoozed(ctx, m.User); err == nil && snoozed {
		return
	}
	f := findings[0]
	if err := b.private(ctx, m.Channel, thread, m.User, "A thought on your reply: "+f.Suggestion, reviewBlocks(f)); err != nil {
		log.Error("review not delivered", "agent", m.User, "error", err)
		return
	}
	log.Info("reply reviewed", "agent", m.User, "finding", string(f.Kind))
	b.metrics.Reviews.WithLabelValues(string(f.Kind)).Inc()
}

func (b *Bot) handleClaim(ctx context.Context, r *slackevents.ReactionAddedEvent) {
	if !b.isAgent(ctx, r.User, "") {
		return
	}
	// The reaction may be on a reply: find its thread.
	thread, _ := b.store.ThreadOf(ctx, r.Item.Channel, r.Item.Timestamp)
	if err := b.store.Claim(ctx, r.Item.Channel, thread, r.User); err != nil {
		b.log.Warn("claim not recorded", "channel", r.Item.Channel, "error", err)
	}
}

// isAgent tells agents from customers: EMPATHY_AGENTS and the agent group when
// set; otherwise members of our own team are agents and Slack Connect guests
// are customers.
func (b *Bot) isAgent(ctx context.Context, user, userTeam string) bool {
	if len(b.agents) > 0 || b.cfg.AgentGroup != "" {
		if b.agents[user] {
			return true
		}
		return b.cfg.AgentGroup != "" && b.groupMember(ctx, user)
	}
	if userTeam == "" {
		// Reactions and some payloads carry no team: ask Slack (cached).
		userTeam = b.userTeam(ctx, user)
		if userTeam == "" {
			return true
		}
	}
	return userTeam == b.teamID
}

// userTeam returns user's team ID from users.info, cached for ten minutes;
// "" if Slack cannot say.
func (b *Bot) userTeam(ctx context.Context, user string) string {
	b.groupMu.Lock()
	if e, ok := b.teams[user]; ok && b.Now().Sub(e.at) < 10*time.Minute {
		b.groupMu.Unlock()
		return e.team
	}
	b.groupMu.Unlock()
	var team string
	err := b.retry(ctx, "users.info", func() error {
		u, err := b.api.GetUserInfoContext(ctx, user)
		if err == nil {
			team = u.TeamID
		}
		return err
	})
	if err != nil {
		b.log.Warn("user's team unknown", "user", user, "error", err)
		return ""
	}
	b.groupMu.Lock()
	if len(b.teams) > 10000 {
		b.teams = map[string]teamEntry{} // bound the cache
	}
	b.teams[user] = teamEntry{team: team, at: b.Now()}
	b.groupMu.Unlock()
	return team
}

// groupMember reports whether user is in the agent group, refreshing the
// cached member list every five minutes.
func (b *Bot) groupMember(ctx context.Context, user string) bool {
	b.groupMu.Lock()
	defer b.groupMu.Unlock()
	if b.groupMembers == nil || b.Now().Sub(b.groupAt) > 5*time.Minute {
		members, err := b.api.GetUserGroupMembersContext(ctx, b.cfg.AgentGroup)
		if err != nil {
			b.log.Warn("agent group unavailable", "group", b.cfg.AgentGroup, "error", err)
		} else {
			b.groupMembers = map[string]bool{}
			for _, m := range members {
				b.groupMembers[m] = true
			}
			b.groupAt = b.Now()
		}
	}
	return b.groupMembers[user]
}

// private delivers a message only user can see: ephemeral in the thread, or a
// DM when configured. Rate limits are waited out, never dropped.
func (b *Bot) private(ctx context.Context, channel, thread, user, fallback string, blocks []slack.Block) error {
	return b.deliver(ctx, channel, thread, user, fallback, blocks, b.cfg.NudgeDM)
}

// deliver sends a private message to user about a thread: ephemeral in the
// thread, or (dm) a direct message with a link to the thread.
func (b *Bot) deliver(ctx context.Context, channel, thread, user, fallback string, blocks []slack.Block, dm bool) error {
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	if !dm {
		return b.retry(ctx, "chat.postEphemeral", func() error {
			_, err := b.api.PostEphemeralContext(ctx, channel, user, append(opts, slack.MsgOptionTS(thread))...)
			return err
		})
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
	link := ""
	if thread != "" {
		_ = b.retry(ctx, "chat.getPermalink", func() error {
			var err error
			link, err = b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: thread})
			return err
		})
	}
	if link != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "<"+link+"|Open the thread>", false, false)))
		opts = []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	}
	return b.retry(ctx, "chat.postMessage", func() error {
		_, _, err := b.api.PostMessageContext(ctx, im, opts...)
		return err
	})
}

// retry runs call, waiting out 429s (Retry-After) and retrying transient
// failures (5xx, a dropped connection) a few times with backoff.
func (b *Bot) retry(ctx context.Context, method string, call func() error) error {
	backoff := 200 * time.Millisecond
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = call()
		if err == nil {
			return nil
		}
		wait := backoff
		var rl *slack.RateLimitedError
		var sc slack.StatusCodeError
		switch {
		case errors.As(err, &rl):
			wait = rl.RetryAfter
			b.log.Info("rate limited; waiting", "method", method, "retry_after", rl.RetryAfter)
		case errors.As(err, &sc) && sc.Code >= 500, droppedConnection(err):
			backoff *= 2
		default:
			return fmt.Errorf("%s: %w", method, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("%s: gave up: %w", method, err)
}

// droppedConnection reports whether err is a connection that failed before
// Slack answered: closed (EOF, as a pooled keep-alive connection the server
// has just dropped gives, typically after a long Retry-After), reset, or
// refused. Such a call almost always failed before Slack read it, so a retry
// rarely sends anything twice, and a lost nudge is the worse outcome. A
// timeout is not one: the call may well have been delivered.
func droppedConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

package slackio

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
)

// handleAction handles a button click from a nudge, a reminder or App Home,
// then tells the clicker what happened through the action's response_url.
func (b *Bot) handleAction(ctx context.Context, cb slack.InteractionCallback, a slack.BlockAction) {
	user := cb.User.ID
	b.metrics.Actions.WithLabelValues(knownAction(a.ActionID)).Inc()
	log := b.log.With("action", a.ActionID, "user", user, "channel", cb.Channel.ID)
	if b.dir.Role(ctx, user, cb.User.TeamID) != support.Agent {
		b.answerAction(ctx, log, cb, "Sorry, these buttons are for the support team.", false)
		return
	}
	parts := strings.Split(a.Value, valueSep)
	part := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	var text string
	replace := false
	switch a.ActionID {
	case actClaim:
		channel, thread := part(0), part(1)
		if channel == "" || thread == "" || !b.watching(channel) {
			text = "I couldn't tell which thread that was."
			break
		}
		if err := b.desk.Claim(ctx, channel, thread, user, cb.User.TeamID); err != nil {
			log.Warn("claim not recorded", "error", err)
			text = "I couldn't record that just now; please try again."
			break
		}
		text = ":eyes: It's yours: reminders and nudges for this thread now come to you."
		if b.cfg.Triage != "" && cb.Channel.ID == b.cfg.Triage {
			// A triage card: everyone in the triage channel sees who took it.
			card := fmt.Sprintf(":eyes: <@%s> claimed the frustrated customer in <#%s>.", user, channel)
			if link := b.web.permalink(ctx, channel, thread); link != "" {
				card += " <" + link + "|Open the message>"
			}
			b.metrics.Actions.WithLabelValues("triage_claim").Inc()
			b.replaceCard(ctx, log, cb, card)
			return
		}
	case actResolve:
		channel, thread := part(0), part(1)
		if channel == "" || thread == "" || !b.watching(channel) {
			text = "I couldn't tell which thread that was."
			break
		}
		changed, after, err := b.desk.Resolve(ctx, channel, thread, user, cb.User.TeamID)
		if after != nil {
			after(ctx)
		}
		switch {
		case err != nil:
			log.Warn("resolution not recorded", "error", err)
			text = "I couldn't record that just now; please try again."
		case !changed:
			text = "This thread is already marked resolved."
		default:
			replace = true
			text = fmt.Sprintf(":white_check_mark: Marked resolved. I'll remind you in %s to check the customer is happy with the outcome.",
				coach.HumanDuration(b.cfg.Policy.FollowupAfter))
		}
	case actSnooze1h, actSnooze1d:
		d := time.Hour
		if a.ActionID == actSnooze1d {
			d = 24 * time.Hour
		}
		if _, err := b.desk.Snooze(ctx, user, cb.User.TeamID, d); err != nil {
			log.Warn("snooze not saved", "error", err)
			text = "I couldn't save your snooze just now; please try again."
			break
		}
		text = fmt.Sprintf(":zzz: Nudges paused for %s. `/empathy snooze off` brings them back.", coach.HumanDuration(d))
	case actPause:
		if _, err := b.desk.Pause(ctx, user, cb.User.TeamID, 30*time.Minute); err != nil {
			log.Warn("pause not saved", "error", err)
			text = "I couldn't save your pause just now; please try again."
			break
		}
		replace = true
		text = ":herb: Paused for 30 min: no new triage cards, on-call nudges or reminders for new threads will come to you. Your own threads still remind you."
	case actRemindLater:
		channel := part(0)
		if channel == "" || !b.watching(channel) {
			text = "I couldn't tell which thread that was."
			break
		}
		if _, err := b.desk.RemindMe(ctx, user, cb.User.TeamID, channel, time.Hour); err != nil {
			log.Warn("reminder not scheduled", "error", err)
			text = "I couldn't schedule that just now; please try again."
			break
		}
		text = ":alarm_clock: I'll remind you about this in 1 hour. Your nudges stay on."
	case actUseful, actNotUseful:
		// The button names the thread; the cue and the technique come from
		// the record of the nudge sent to this agent, never from the button.
		channel, thread := part(0), part(1)
		useful := a.ActionID == actUseful
		if !b.watching(channel) {
			text = "I couldn't tell which nudge that was."
			break
		}
		// One vote per person per nudge, however often they click.
		counted, cue, err := b.desk.Vote(ctx, user, cb.User.TeamID, channel, thread, useful)
		if errors.Is(err, support.ErrBadRequest) {
			text = "I couldn't find that nudge among the ones I sent you."
			break
		}
		if err != nil {
			log.Warn("feedback not saved", "error", err)
			text = "I couldn't save that just now; please try again."
			break
		}
		if !counted {
			text = "You already told me — thanks."
			break
		}
		b.metrics.Feedback.WithLabelValues(fmt.Sprint(useful), knownCue(cue)).Inc()
		text = "Thanks — that helps me pick better tips."
		if !useful {
			text = "Thanks for telling me — I'll lean on other techniques."
		}
	case actDone, actNotNeeded:
		kind, channel, thread, taskID := part(0), part(1), part(2), part(3)
		// The task must be this thread's, in a channel we watch: a forged
		// value cannot cancel another thread's reminders (the desk checks).
		err := b.desk.ReminderHandled(ctx, user, cb.User.TeamID, kind, channel, thread, taskID, a.ActionID == actDone)
		if errors.Is(err, support.ErrBadRequest) || !b.watching(channel) && kind != support.KindPersonal {
			text = "I couldn't tell which reminder that was."
			break
		}
		if err != nil {
			log.Warn("reminders not marked done", "error", err)
			text = "I couldn't record that just now; please try again."
			break
		}
		replace = true
		text = ":ballot_box_with_check: Done — thank you for following up."
		if a.ActionID == actNotNeeded {
			text = "OK, no more reminders about this one."
		}
	default:
		log.Warn("unknown action")
		return
	}
	log.Info("action handled")
	if cb.View.ID != "" || cb.Container.Type == "view" {
		b.publishHome(ctx, user) // clicked in App Home (no response_url): show the new state
		return
	}
	b.answerAction(ctx, log, cb, text, replace)
}

// knownAction and knownCue keep metric label sets bounded.
func knownAction(id string) string {
	switch id {
	case actClaim, actResolve, actSnooze1h, actSnooze1d, actUseful, actNotUseful, actDone, actNotNeeded, actRemindLater, actPause:
		return id
	}
	return "unknown"
}

func knownCue(c string) string {
	if coach.ValidCueKind(coach.CueKind(c)) {
		return c
	}
	return "none"
}

// replaceCard replaces a message posted in a channel (a triage card) for
// everyone in it, through the action's response_url.
func (b *Bot) replaceCard(ctx context.Context, log logger, cb slack.InteractionCallback, text string) {
	b.postResponse(ctx, log, cb, slack.WebhookMessage{ResponseType: "in_channel", Text: text, ReplaceOriginal: true})
}

func (b *Bot) answerAction(ctx context.Context, log logger, cb slack.InteractionCallback, text string, replace bool) {
	b.postResponse(ctx, log, cb, slack.WebhookMessage{ResponseType: "ephemeral", Text: text, ReplaceOriginal: replace})
}

func (b *Bot) postResponse(ctx context.Context, log logger, cb slack.InteractionCallback, m slack.WebhookMessage) {
	if cb.ResponseURL == "" {
		return
	}
	err := b.web.retry(ctx, "response_url", func() error {
		return hideURL(slack.PostWebhookCustomHTTPContext(ctx, cb.ResponseURL, b.cfg.HTTPClient, &m))
	})
	if err != nil {
		log.Warn("action answer not delivered", "error", err)
	}
}

package slackio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
	"empathybot/internal/metrics"
	"empathybot/internal/support"
)

// Notifier renders what the desk decided to say and delivers it
// (support.Notifier): nudges and reviews privately to an agent (ephemeral,
// or a DM), triage cards to the triage channel, reminders by DM. It works
// for the durable queue, so it waits out no rate limit in place: a 429 is
// a *support.RetryLater, and the queue decides afresh when it retries.
type Notifier struct {
	log *slog.Logger
	web webAPI
	dm  bool // nudges and reviews by DM rather than ephemeral
}

var _ support.Notifier = (*Notifier)(nil)

// NewNotifier builds the notifier that delivers through sl; dm sends nudges
// and reviews by DM (EMPATHY_NUDGE=dm).
func NewNotifier(log *slog.Logger, sl *Slack, dm bool, m *metrics.M) *Notifier {
	if m == nil {
		m = metrics.New()
	}
	return &Notifier{log: log, web: webAPI{api: sl.api, metrics: m}, dm: dm}
}

// Nudge delivers a nudge privately (support.Notifier).
func (b *Notifier) Nudge(ctx context.Context, d support.Delivery, to string, n support.Nudge) error {
	s := n.Suggestion
	blocks := append(nudgeBlocks(n.Score, s), nudgeButtons(n.Channel, n.Thread, s.Cue.Kind, s.Tip.Technique))
	fallback := "A customer in this thread sounds frustrated: " + coach.Describe(s.Cue.Kind) + ". Try: " + s.Tip.Title
	return b.private(ctx, d, n.Channel, n.Thread, n.InThread, to, fallback, blocks)
}

// Triage posts a card about a frustrated customer nobody owns in the
// agents' triage channel (support.Notifier): the cue and its evidence, a
// link to the message, and a Claim button.
func (b *Notifier) Triage(ctx context.Context, d support.Delivery, triage string, n support.Nudge) error {
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
	if link := b.web.permalink(ctx, n.Channel, n.Thread); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", md("<"+link+"|Open the message> · score "+fmt.Sprintf("%.2f", n.Score))))
	}
	if len(n.Available) > 0 {
		// Who could take it, least-loaded first; a person still decides.
		var who []string
		for i, a := range n.Available {
			if i == 5 {
				break
			}
			who = append(who, "<@"+a+">")
		}
		line := "Could take it: " + strings.Join(who, ", ")
		if len(n.Available) > 1 {
			line = fmt.Sprintf("Could take it: <@%s> has had a calmer afternoon", n.Available[0])
			if len(who) > 1 {
				line += "; then " + strings.Join(who[1:], ", ")
			}
		}
		blocks = append(blocks, slack.NewContextBlock("", md(line)))
	}
	blocks = append(blocks, slack.NewActionBlock("empathy_triage", button(actClaim, ":eyes: Claim", value(n.Channel, n.Thread), slack.StylePrimary)))
	fallback := "A frustrated customer has no owner: " + coach.Describe(s.Cue.Kind)
	return b.post(ctx, d, triage, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
}

// Review delivers a review of an agent's reply privately (support.Notifier).
func (b *Notifier) Review(ctx context.Context, d support.Delivery, to string, r support.ReviewTask) error {
	return b.private(ctx, d, r.Channel, r.Thread, r.InThread(), to, "A thought on your reply: "+r.Suggestion, reviewBlocks(r))
}

// Remind delivers a reminder or check-in by DM (support.Notifier):
// reminders arrive later than the moment they are about, and an ephemeral
// message is lost if the agent is not looking.
func (b *Notifier) Remind(ctx context.Context, d support.Delivery, to string, r support.Reminder, text string) error {
	blocks := []slack.Block{slack.NewSectionBlock(md(text), nil, nil), reminderButtons(r.Kind, r.Channel, r.Thread, r.ID())}
	return b.deliver(ctx, d, r.Channel, r.Thread, true, to, text, blocks, true)
}

// private delivers a message only user can see: ephemeral, or a DM when
// configured.
func (b *Notifier) private(ctx context.Context, d support.Delivery, channel, thread string, inThread bool, user, fallback string, blocks []slack.Block) error {
	return b.deliver(ctx, d, channel, thread, inThread, user, fallback, blocks, b.dm)
}

// deliver sends a private message to user about a thread: ephemeral in the
// thread when it has replies (Slack shows no ephemeral message in a
// reply-less thread, though it answers ok), else ephemeral at channel level
// with a link to the message; or (dm) a direct message with a link to the
// thread.
func (b *Notifier) deliver(ctx context.Context, d support.Delivery, channel, thread string, inThread bool, user, fallback string, blocks []slack.Block, dm bool) error {
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	if !dm {
		where := []slack.MsgOption{slack.MsgOptionTS(thread)}
		if !inThread {
			where = nil
			if link := b.web.permalink(ctx, channel, thread); link != "" {
				withLink := append(append([]slack.Block(nil), blocks...), slack.NewContextBlock("", md("<"+link+"|The customer's message>")))
				opts = []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(withLink...)}
			}
		}
		if d.Check {
			// An earlier attempt may have shown it, and Slack keeps no
			// ephemeral message a bot can look up: not sent again.
			return fmt.Errorf("chat.postEphemeral: %w: an earlier attempt may have shown it", support.ErrUnknownOutcome)
		}
		if err := d.Sending(ctx); err != nil {
			return err
		}
		err := b.web.retry(ctx, "chat.postEphemeral", func() error {
			_, err := b.web.api.PostEphemeralContext(ctx, channel, user, append(opts, where...)...)
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
	im, err := b.web.openDM(ctx, user)
	if err != nil {
		return err
	}
	if link := b.web.permalink(ctx, channel, thread); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "<"+link+"|Open the thread>", false, false)))
		opts = []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...)}
	}
	return b.post(ctx, d, im, opts...)
}

// deliveryEvent is the metadata event type of every message the bot posts
// for a delivery; its payload names the delivery ("delivery_id").
const deliveryEvent = "empathybot_delivery"

// post sends a message to channel for delivery d, with the delivery's ID
// as message metadata. When an earlier attempt may have reached Slack
// (d.Check), it first looks for
// that attempt's message in the channel's recent history, and sends
// nothing if it is there. A send that may have reached Slack without an
// answer (the connection lost after the request, no answer in time) is
// never repeated here: the next attempt looks first.
func (b *Notifier) post(ctx context.Context, d support.Delivery, channel string, opts ...slack.MsgOption) error {
	if d.ID != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: deliveryEvent, EventPayload: map[string]any{"delivery_id": d.ID}}))
		if d.Check {
			found, err := b.findDelivery(ctx, channel, d.ID)
			if err != nil {
				// Still unknown: look again next time rather than send.
				return fmt.Errorf("%w: %w", support.ErrLookBeforeRetry, err)
			}
			if found {
				return support.ErrAlreadySent
			}
		}
	}
	if err := d.Sending(ctx); err != nil {
		return err
	}
	err := b.web.retry(ctx, "chat.postMessage", func() error {
		_, _, err := b.web.api.PostMessageContext(ctx, channel, opts...)
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
func (b *Notifier) findDelivery(ctx context.Context, channel, id string) (bool, error) {
	var found bool
	err := b.web.retry(ctx, "conversations.history", func() error {
		h, err := b.web.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
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

// Report sends a lead the team's report by DM: the words, and the chart as
// a PNG uploaded the way Slack asks (files.getUploadURLExternal, the bytes
// to the URL it gives, files.completeUploadExternal sharing it in the DM
// with the words as its comment). A file cannot be looked up by our
// delivery ID, so an attempt whose outcome is unknown is not repeated.
func (b *Notifier) Report(ctx context.Context, d support.Delivery, to string, r support.Report) error {
	if d.Check {
		return fmt.Errorf("report: %w: an earlier attempt may have shared it", support.ErrUnknownOutcome)
	}
	chart, err := reportChart(r)
	if err != nil {
		return fmt.Errorf("report chart: %w", err)
	}
	im, err := b.web.openDM(ctx, to)
	if err != nil {
		return err
	}
	name := "empathybot-" + r.To.UTC().Format("2006-01-02") + ".png"
	var up *slack.GetUploadURLExternalResponse
	if err := b.web.retry(ctx, "files.getUploadURLExternal", func() error {
		var err error
		up, err = b.web.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: name, FileSize: len(chart),
			AltTxt: "Frustrated moments per day, and the de-escalation rate with and without a nudge"})
		return err
	}); err != nil {
		return err
	}
	if err := b.web.retry(ctx, "upload", func() error {
		return b.web.api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: up.UploadURL, Reader: bytes.NewReader(chart), Filename: name})
	}); err != nil {
		return err
	}
	if err := d.Sending(ctx); err != nil {
		return err
	}
	err = b.web.retry(ctx, "files.completeUploadExternal", func() error {
		_, err := b.web.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
			Files: []slack.FileSummary{{ID: up.FileID, Title: "The team's week"}}, Channel: im, InitialComment: reportText(r)})
		return err
	})
	if errors.Is(err, errMaybeDelivered) {
		return fmt.Errorf("%w: %w", support.ErrUnknownOutcome, err)
	}
	return err
}

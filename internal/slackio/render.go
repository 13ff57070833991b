package slackio

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
	"empathybot/internal/support"
)

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// escape makes text safe inside Slack mrkdwn. Text that came from Slack is
// already entity-escaped (&lt; for <): it is unescaped first, so a quoted
// "<" shows as "<", not as "&lt;".
func escape(s string) string {
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.ToValidUTF8(s, ""))
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Button action IDs.
const (
	actClaim     = "empathy_claim"
	actResolve   = "empathy_resolve"
	actSnooze1h  = "empathy_snooze_1h"
	actSnooze1d  = "empathy_snooze_1d"
	actUseful    = "empathy_useful"
	actNotUseful = "empathy_not_useful"
	actDone      = "empathy_done"
	actNotNeeded = "empathy_not_needed"
	// actRemindLater, on a response reminder: remind me about this thread
	// in an hour (a personal reminder). It pauses nothing else: snoozing
	// one reminder used to pause all of the agent's nudges.
	actRemindLater = "empathy_remind_later"
	// actPause, on a breather: /empathy pause 30m.
	actPause      = "empathy_pause"
	valueSep      = "|"
	maxValueBytes = 1900 // Slack allows 2000
)

func value(parts ...string) string {
	v := strings.Join(parts, valueSep)
	if len(v) > maxValueBytes {
		v = v[:maxValueBytes]
	}
	return v
}

func button(actionID, text, val string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, val, slack.NewTextBlockObject(slack.PlainTextType, text, true, false))
	if style != "" {
		b.Style = style
	}
	return b
}

// nudgeButtons: Claim, Mark resolved, Snooze, and was this useful.
func nudgeButtons(channel, thread string, cue coach.CueKind, technique string) slack.Block {
	th := value(channel, thread)
	fb := value(channel, thread, string(cue), technique)
	return slack.NewActionBlock("empathy_nudge",
		button(actClaim, ":eyes: Claim", th, slack.StylePrimary),
		button(actResolve, ":white_check_mark: Resolved", th, ""),
		button(actSnooze1h, "Snooze 1 h", "", ""),
		button(actSnooze1d, "Snooze 1 day", "", ""),
		button(actUseful, ":+1: Useful", fb, ""),
		button(actNotUseful, ":-1: Not useful", fb, ""),
	)
}

// reminderButtons: Done, Not needed (and Claim for a response reminder).
func reminderButtons(kind, channel, thread, taskID string) slack.Block {
	if kind == support.KindBreather {
		return slack.NewActionBlock(trim("r:"+taskID, 200), button(actPause, ":herb: Pause new work for 30 min", "30m", slack.StylePrimary))
	}
	v := value(kind, channel, thread, taskID)
	els := []slack.BlockElement{
		button(actDone, "Done", v, slack.StylePrimary),
		button(actNotNeeded, "Not needed", v, ""),
	}
	if kind == "response" {
		els = append([]slack.BlockElement{button(actClaim, ":eyes: Claim", value(channel, thread), "")}, els...)
		els = append(els, button(actRemindLater, "Remind me in 1 h", value(channel, thread), ""))
	}
	// block_id must be unique within a message or view (App Home lists many).
	return slack.NewActionBlock(trim("r:"+taskID, 200), els...)
}

// nudgeBlocks renders a nudge: why the customer seems frustrated, one
// technique, and an opening line.
func nudgeBlocks(score float64, s coach.Suggestion) []slack.Block {
	why := "the overall tone reads as frustrated"
	if s.Cue.Kind != "" {
		why = coach.Describe(s.Cue.Kind)
		if s.Cue.Kind != coach.Profanity && s.Cue.Kind != coach.Shouting && s.Cue.Evidence != "" {
			why += fmt.Sprintf(" (“%s”)", escape(trim(s.Cue.Evidence, 80)))
		}
	}
	return []slack.Block{
		slack.NewSectionBlock(md(fmt.Sprintf(":wave: *This customer sounds frustrated* — %s.", why)), nil, nil),
		slack.NewSectionBlock(md(fmt.Sprintf("*Try: %s* (%s)\n%s", escape(s.Tip.Title), escape(s.Tip.Technique), escape(s.Tip.Why))), nil, nil),
		slack.NewSectionBlock(md("*Opening line:*\n>"+escape(s.Opening)), nil, nil),
		slack.NewContextBlock("", md(fmt.Sprintf("Only you can see this · score %.2f · `/empathy snooze 1h` to pause", score))),
	}
}

// reviewBlocks renders one suggestion about an agent's reply.
func reviewBlocks(f support.ReviewTask) []slack.Block {
	head := "*A thought on your reply*"
	if f.Quote != "" {
		head += fmt.Sprintf(" — “%s”", escape(trim(f.Quote, 80)))
	}
	return []slack.Block{
		slack.NewSectionBlock(md(head+"\n"+escape(f.Suggestion)), nil, nil),
		slack.NewContextBlock("", md("Technique: "+escape(f.Technique)+" · only you can see this")),
	}
}

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

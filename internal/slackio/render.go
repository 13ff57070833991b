package slackio

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
)

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// escape makes text safe inside Slack mrkdwn.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(strings.ToValidUTF8(s, ""))
}

// nudgeBlocks renders a nudge: why the customer seems frustrated, one
// technique, and an opening line.
func nudgeBlocks(a coach.Assessment, s coach.Suggestion) []slack.Block {
	why := "the overall tone reads as frustrated"
	if s.Cue.Kind != "" {
		why = coach.Describe(s.Cue.Kind)
		if s.Cue.Kind != coach.Profanity && s.Cue.Kind != coach.Shouting {
			why += fmt.Sprintf(" (“%s”)", escape(trim(s.Cue.Evidence, 80)))
		}
	}
	return []slack.Block{
		slack.NewSectionBlock(md(fmt.Sprintf(":wave: *This customer sounds frustrated* — %s.", why)), nil, nil),
		slack.NewSectionBlock(md(fmt.Sprintf("*Try: %s* (%s)\n%s", escape(s.Tip.Title), escape(s.Tip.Technique), escape(s.Tip.Why))), nil, nil),
		slack.NewSectionBlock(md("*Opening line:*\n>"+escape(s.Opening)), nil, nil),
		slack.NewContextBlock("", md(fmt.Sprintf("Only you can see this · score %.2f · `/empathy snooze 1h` to pause", a.Score))),
	}
}

// reviewBlocks renders one suggestion about an agent's reply.
func reviewBlocks(f coach.Finding) []slack.Block {
	head := "*A thought on your reply*"
	if f.Evidence != "" {
		head += fmt.Sprintf(" — “%s”", escape(trim(f.Evidence, 80)))
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

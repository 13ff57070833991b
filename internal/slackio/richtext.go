package slackio

import (
	"strings"

	"github.com/slack-go/slack"
)

// richText returns the words of a message's rich_text blocks, for a
// message whose text field is empty (some clients and apps send only
// blocks): text runs and link labels as written, emoji as :name:, user
// mentions as <@U…>; sections, list items and quotes on their own lines;
// preformatted code left out, as the coach leaves code out of text.
func richText(blocks slack.Blocks) string {
	var b strings.Builder
	section := func(els []slack.RichTextSectionElement) {
		for _, e := range els {
			switch e := e.(type) {
			case *slack.RichTextSectionTextElement:
				b.WriteString(e.Text)
			case *slack.RichTextSectionLinkElement:
				b.WriteString(e.Text)
			case *slack.RichTextSectionEmojiElement:
				b.WriteString(":" + e.Name + ":")
			case *slack.RichTextSectionUserElement:
				b.WriteString("<@" + e.UserID + ">")
			}
		}
		b.WriteString("\n")
	}
	var element func(e slack.RichTextElement)
	element = func(e slack.RichTextElement) {
		switch e := e.(type) {
		case *slack.RichTextSection:
			section(e.Elements)
		case *slack.RichTextQuote:
			section(e.Elements)
		case *slack.RichTextList:
			for _, item := range e.Elements {
				element(item)
			}
		}
	}
	for _, bl := range blocks.BlockSet {
		if rt, ok := bl.(*slack.RichTextBlock); ok {
			for _, e := range rt.Elements {
				element(e)
			}
		}
	}
	return strings.TrimSpace(b.String())
}

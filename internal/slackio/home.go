package slackio

import (
	"context"
	"empathybot/internal/support"
	"fmt"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
)

// statsDays is the period of /empathy stats and App Home: the last week.
const statsDays = 7

// statsText renders a channel's week.
func statsText(st support.ChannelStats) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*<#%s> — last %d days*\n", st.Channel, st.Days)
	fmt.Fprintf(&sb, "• Frustrated threads: *%d*\n", st.Counts[support.StatFrustrated])
	if st.FirstReplies > 0 {
		fmt.Fprintf(&sb, "• Median time to the first agent reply on them: *%s* (%d replies)\n", coach.HumanDuration(st.MedianFirstReply), st.FirstReplies)
	} else {
		sb.WriteString("• Median time to the first agent reply on them: no replies yet\n")
	}
	fmt.Fprintf(&sb, "• Nudges: %d · reminders sent: %d\n", st.Counts[support.StatNudges], st.Counts[support.StatReminders])
	fmt.Fprintf(&sb, "• Resolved: %d · follow-ups sent: %d · follow-ups done: %d\n",
		st.Counts[support.StatResolved], st.Counts[support.StatFollowupsSent], st.Counts[support.StatFollowupsDone])
	if n := st.Counts[support.StatUnscored]; n > 0 {
		fmt.Fprintf(&sb, "• Not scored: *%d* customer messages in a language the coach does not read (only English is scored): read them yourself\n", n)
	}
	fmt.Fprintf(&sb, "• Tips rated useful: :+1: %d · :-1: %d", st.Useful, st.NotUsed)
	if len(st.ByTech) > 0 {
		type kv struct {
			name   string
			up, dn int
		}
		var rows []kv
		for k, v := range st.ByTech {
			rows = append(rows, kv{k, v[0], v[1]})
		}
		sort.Slice(rows, func(i, j int) bool {
			return rows[i].up-rows[i].dn > rows[j].up-rows[j].dn || (rows[i].up-rows[i].dn == rows[j].up-rows[j].dn && rows[i].name < rows[j].name)
		})
		sb.WriteString("\n• By technique: ")
		for i, r := range rows {
			if i == 5 {
				break
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "%s :+1:%d :-1:%d", escape(r.name), r.up, r.dn)
		}
	}
	return sb.String()
}

// publishHome renders an agent's App Home: their open reminders and
// check-ins with buttons, and the week in numbers for the watched channels.
func (b *Bot) publishHome(ctx context.Context, user string) {
	log := b.log.With("user", user)
	var blocks []slack.Block
	if b.dir.Role(ctx, user, "") != support.Agent {
		blocks = []slack.Block{slack.NewSectionBlock(md("Hi! I help the support team here. There is nothing for you to do on this page."), nil, nil)}
	} else {
		blocks = b.homeBlocks(ctx, log, user)
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	if err := b.web.retry(ctx, "views.publish", func() error {
		_, err := b.web.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	}); err != nil {
		log.Warn("app home not published", "error", err)
	}
}

func (b *Bot) homeBlocks(ctx context.Context, log logger, user string) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Your empathy coach", true, false)),
		slack.NewSectionBlock(md("*Open follow-ups*"), nil, nil),
	}
	items, err := b.desk.OpenItems(ctx, user, 20)
	if err != nil {
		log.Warn("open items unavailable", "error", err)
		blocks = append(blocks, slack.NewSectionBlock(md("_I can't read your follow-ups right now._"), nil, nil))
	}
	shown := 0
	for _, it := range items {
		var what string
		switch it.Kind {
		case support.KindResponse:
			what = fmt.Sprintf(":hourglass: A frustrated customer in <#%s> is waiting for a reply", it.Channel)
		case support.KindFollowup:
			what = fmt.Sprintf(":white_check_mark: Check in on a resolved thread in <#%s> — <!date^%d^{date_short_pretty} {time}|%s>",
				it.Channel, it.Due.Unix(), it.Due.UTC().Format("2006-01-02 15:04 UTC"))
		default:
			what = fmt.Sprintf(":alarm_clock: Your reminder for <#%s> — <!date^%d^{date_short_pretty} {time}|%s>",
				it.Channel, it.Due.Unix(), it.Due.UTC().Format("2006-01-02 15:04 UTC"))
		}
		blocks = append(blocks, slack.NewSectionBlock(md(what), nil, nil), reminderButtons(it.Kind, it.Channel, it.Thread, it.TaskID))
		shown++
	}
	if shown == 0 && err == nil {
		blocks = append(blocks, slack.NewSectionBlock(md("Nothing open. :tada:"), nil, nil))
	}
	if recent, err := b.store.RecentNudges(ctx, user, 5); err == nil && len(recent) > 0 {
		var sb strings.Builder
		sb.WriteString("*Your recent nudges*")
		for _, n := range recent {
			why := "sounded frustrated"
			if coach.ValidCueKind(coach.CueKind(n.Cue)) {
				why = coach.Describe(coach.CueKind(n.Cue))
			}
			fmt.Fprintf(&sb, "\n• <#%s>: %s — <!date^%d^{date_short_pretty} {time}|%s>", n.Channel, escape(why), n.At.Unix(), n.At.UTC().Format("2006-01-02 15:04 UTC"))
		}
		blocks = append(blocks, slack.NewDividerBlock(), slack.NewSectionBlock(md(sb.String()), nil, nil))
	}
	blocks = append(blocks, slack.NewDividerBlock(), slack.NewSectionBlock(md("*The week in numbers*"), nil, nil))
	if len(b.cfg.Channels) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(md("_Set EMPATHY_CHANNELS to see numbers per channel here, or use `/empathy stats` in a channel._"), nil, nil))
	}
	for i, ch := range b.cfg.Channels {
		if i == 10 {
			break
		}
		st, err := b.store.Stats(ctx, ch, b.Now(), statsDays)
		if err != nil {
			log.Warn("stats unavailable", "channel", ch, "error", err)
			continue
		}
		blocks = append(blocks, slack.NewSectionBlock(md(statsText(st)), nil, nil))
	}
	return blocks
}

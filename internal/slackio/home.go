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

// loadText is an agent's own tense load, for their App Home only: what
// customers sent into their threads, against the team's median when the
// team is large enough that a median hides everyone.
func loadText(l support.Load, team map[string]support.Load) string {
	var sb strings.Builder
	sb.WriteString("*Your last 4 working hours* (only you see this)\n")
	if l.Threads == 0 {
		sb.WriteString("• No tense threads. :sunny:")
	} else {
		fmt.Fprintf(&sb, "• Tense threads: *%d* · messages with swearing: *%d* · tense load *%.1f*", l.Threads, l.Hostile, l.Sum)
	}
	if len(team) >= support.MinTeamForFigures {
		med := support.MedianLoad(team)
		how := "about the team's median"
		switch {
		case l.Sum > med+0.3 && l.Sum > 1.5*med:
			how = "heavier than the team's median"
		case l.Sum < med-0.3 && l.Sum < 0.67*med:
			how = "lighter than the team's median"
		}
		fmt.Fprintf(&sb, "\n• That is %s (%.1f).", how, med)
	}
	sb.WriteString("\n_What customers sent into threads you own, never anything about you. It resets as the hours pass._")
	return sb.String()
}

// teamLoadText is the team's tense load for /empathy stats: aggregates
// only, and only for a team of at least support.MinTeamForFigures agents.
func teamLoadText(team map[string]support.Load) string {
	if len(team) < support.MinTeamForFigures {
		return fmt.Sprintf("• Team tense load: shown for teams of %d or more agents (no one's figures can be told apart below that).", support.MinTeamForFigures)
	}
	threads, hostile := 0, 0
	for _, l := range team {
		threads += l.Threads
		hostile += l.Hostile
	}
	return fmt.Sprintf("• Team, last 4 working hours (%d agents): tense threads *%d* · messages with swearing *%d* · median tense load *%.1f*",
		len(team), threads, hostile, support.MedianLoad(team))
}

// liftDays is the period of the outcome figures: moments settle over days,
// and a week holds few.
const liftDays = 30

// liftText renders what a channel's frustrated moments became, nudged and
// held out, by assignment: team figures only, never an agent's.
func liftText(l support.Lift, period string) string {
	var sb strings.Builder
	arm := func(name string, a support.ArmStats) {
		fmt.Fprintf(&sb, "• %s: de-escalated *%d of %d* answered", name, a.Deescalated, a.Answered())
		if a.Answered() > 0 {
			fmt.Fprintf(&sb, " (%.0f%%)", 100*a.Rate())
		}
		fmt.Fprintf(&sb, " · unchanged %d · escalated %d · no answer from the customer %d · no agent reply %d · frustrated again within 3 days %d\n",
			a.Unchanged, a.Escalated, a.Silent, a.NoReply, a.Reescalated)
	}
	fmt.Fprintf(&sb, "*Does the coaching help?* Frustrated moments %s\n", period)
	arm("With a nudge", l.Nudged)
	if l.Holdout <= 0 {
		sb.WriteString("• No holdout: set EMPATHY_HOLDOUT=0.1 to compare with threads that get no nudge.\n")
	} else {
		arm(fmt.Sprintf("Without (the %.0f%% holdout)", 100*l.Holdout), l.Held)
		have := l.Nudged.Answered() + l.Held.Answered()
		switch {
		case l.Nudged.Answered() > 0 && l.Held.Answered() > 0:
			fmt.Fprintf(&sb, "• Difference: *%+.0f points* (95%% interval %+.0f to %+.0f)", 100*l.Diff, 100*l.Lo, 100*l.Hi)
			if !l.Enough {
				fmt.Fprintf(&sb, " — not enough data yet: %d of about %d answered moments needed to see a %.0f-point difference", have, l.Needed, 100*support.MinDiff)
			}
			sb.WriteString("\n")
		default:
			fmt.Fprintf(&sb, "• Not enough data yet: %d of about %d answered moments needed to see a %.0f-point difference\n", have, l.Needed, 100*support.MinDiff)
		}
	}
	rows := func(title string, m map[string][2]support.ArmStats, label func(string) string) {
		names := support.Breakdown(m, l.Holdout > 0)
		if len(names) == 0 {
			return
		}
		fmt.Fprintf(&sb, "• %s: ", title)
		for i, n := range names {
			if i == 5 {
				break
			}
			if i > 0 {
				sb.WriteString(", ")
			}
			v := m[n]
			fmt.Fprintf(&sb, "%s %.0f%% (%d)", escape(label(n)), 100*v[0].Rate(), v[0].Answered())
			if l.Holdout > 0 {
				fmt.Fprintf(&sb, " vs %.0f%% (%d)", 100*v[1].Rate(), v[1].Answered())
			}
		}
		sb.WriteString("\n")
	}
	rows("By cue", l.ByCue, func(k string) string {
		if coach.ValidCueKind(coach.CueKind(k)) {
			return coach.Describe(coach.CueKind(k))
		}
		return "tone"
	})
	rows("By technique", l.ByTech, func(k string) string { return k })
	rows("Replies that acknowledged the feeling", l.ByAck, func(k string) string { return map[string]string{"yes": "acknowledged", "no": "did not"}[k] })
	return strings.TrimSuffix(sb.String(), "\n")
}

// lift reads a channel's outcome figures.
func (b *Bot) lift(ctx context.Context, channel string) (support.Lift, error) {
	st, err := b.store.Stats(ctx, channel, b.Now(), liftDays)
	if err != nil {
		return support.Lift{}, err
	}
	return support.LiftOf(st, b.cfg.Holdout), nil
}

// statsText renders a channel's week.
//
// The time to the first agent reply is about agents' timing: it is shown
// only for a team of at least support.MinTeamForFigures agents (team),
// where no one's figure can be told apart.
func statsText(st support.ChannelStats, team int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*<#%s> — last %d days*\n", st.Channel, st.Days)
	fmt.Fprintf(&sb, "• Frustrated threads: *%d*\n", st.Counts[support.StatFrustrated])
	switch {
	case team < support.MinTeamForFigures:
		fmt.Fprintf(&sb, "• Time to the first agent reply: shown for teams of %d or more agents\n", support.MinTeamForFigures)
	case st.FirstReplies > 0:
		fmt.Fprintf(&sb, "• Median time to the first agent reply on them: *%s* (%d replies)\n", coach.HumanDuration(st.MedianFirstReply), st.FirstReplies)
	default:
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
	team, err := b.desk.TeamLoads(ctx) // nil when unread: team figures stay hidden
	if err != nil {
		team = nil
	}
	if l, err := b.desk.AgentLoad(ctx, user); err == nil {
		blocks = append(blocks, slack.NewDividerBlock(), slack.NewSectionBlock(md(loadText(l, team)), nil, nil))
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
		blocks = append(blocks, slack.NewSectionBlock(md(statsText(st, len(team))), nil, nil))
		if l, err := b.lift(ctx, ch); err == nil {
			blocks = append(blocks, slack.NewSectionBlock(md(liftText(l, fmt.Sprintf("in the last %d days", liftDays))), nil, nil))
		}
	}
	return blocks
}

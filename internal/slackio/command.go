package slackio

import (
	"context"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
)

// reply is the ack payload of a slash command: an ephemeral message.
type reply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeral(text string) reply { return reply{ResponseType: "ephemeral", Text: text} }

// helpText is mrkdwn: a literal < or > is written as an entity, or Slack
// would read <draft reply> as markup.
const helpText = "*/empathy* — your private empathy coach. Only you see these replies.\n" +
	"• `/empathy tips [cue]` — techniques for a kind of frustration (e.g. `waiting`, `repeated_contact`)\n" +
	"• `/empathy check &lt;draft reply&gt;` — a private review of a reply before you send it\n" +
	"• `/empathy analyze &lt;customer message&gt;` — how frustrated it sounds, and why\n" +
	"• `/empathy oncall [@user ...]` — show or set this channel's on-call agents (the least-loaded one who is not paused gets the nudge)\n" +
	"• `/empathy snooze &lt;duration|off&gt;` — pause your nudges (e.g. `30m`, `2h`, `1d`)\n" +
	"• `/empathy pause &lt;duration|off&gt;` — a breather: no new triage cards, on-call nudges or reminders for new threads come to you (e.g. `30m`; your own threads still remind you)\n" +
	"• `/empathy remind &lt;duration&gt;` — remind me to follow up in this channel (e.g. `2h`, `1d`)\n" +
	"• `/empathy stats` — this channel's last 7 days: frustrated threads, time to first reply, follow-ups\n" +
	"• `/empathy unwatch` / `/empathy watch` — stop or start reading this channel, for everyone, at once\n" +
	"• `/empathy help` — this message"

// command answers /empathy. It never posts anything publicly. Subcommands that
// need only the coach answer at once (now, sent in the ack payload); those
// that read or write Redis or call Slack return later instead, which runs on a
// worker after an empty ack and is posted to the command's response_url, so
// the ack never waits for I/O.
func (b *Bot) command(cmd slack.SlashCommand) (now *reply, later func(context.Context) reply) {
	sub, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	rest = strings.TrimSpace(rest)
	sub = strings.ToLower(sub)
	b.metrics.Commands.WithLabelValues(knownSub(sub)).Inc()
	log := b.log.With("command", trim(sub, 20), "channel", cmd.ChannelID, "user", cmd.UserID)
	answer := func(text string) (*reply, func(context.Context) reply) { r := ephemeral(text); return &r, nil }
	// Customers may see /empathy in a shared channel: they get a polite
	// refusal that says nothing about what the bot does.
	switch b.dir.RoleNow(cmd.UserID, cmd.TeamID) {
	case support.Customer:
		return answer(refusal)
	case support.Unplaced:
		// Only users.info can tell: answer after the ack.
		return nil, func(ctx context.Context) reply {
			if b.dir.Role(ctx, cmd.UserID, "") != support.Agent {
				return ephemeral(refusal)
			}
			r, l := b.agentCommand(log, cmd, sub, rest)
			if l != nil {
				return l(ctx)
			}
			return *r
		}
	}
	return b.agentCommand(log, cmd, sub, rest)
}

// knownSub keeps the metric's label set bounded.
func knownSub(sub string) string {
	switch sub {
	case "", "help", "tips", "check", "analyze", "analyse", "oncall", "snooze", "pause", "remind", "stats", "watch", "unwatch":
		if sub == "" {
			return "help"
		}
		return sub
	}
	return "unknown"
}

const refusal = "Sorry, this command isn't available to you here."

func (b *Bot) agentCommand(log logger, cmd slack.SlashCommand, sub, rest string) (*reply, func(context.Context) reply) {
	answer := func(text string) (*reply, func(context.Context) reply) { r := ephemeral(text); return &r, nil }
	switch sub {
	case "", "help":
		return answer(helpText)
	case "tips":
		return answer(b.tipsText(coach.CueKind(strings.ToLower(rest))))
	case "check":
		if rest == "" {
			return answer("Paste your draft after `check`, e.g. `/empathy check Sorry for the inconvenience.`")
		}
		return answer(b.checkText(rest))
	case "analyze", "analyse":
		if rest == "" {
			return answer("Paste the customer's message after `analyze`.")
		}
		return answer(b.analyzeText(rest))
	case "oncall", "remind", "stats":
		if !b.watching(cmd.ChannelID) {
			return answer("I only work in the support channels I watch; run this in one of them.")
		}
	case "watch", "unwatch":
		if !b.configured(cmd.ChannelID) {
			return answer("This isn't one of the support channels I'm set up for (`EMPATHY_CHANNELS`).")
		}
		on := sub == "watch"
		return nil, func(ctx context.Context) reply {
			if err := b.store.SetWatching(ctx, cmd.ChannelID, on); err != nil {
				log.Warn("watching not saved", "error", err)
				return ephemeral("I couldn't save that just now; please try again.")
			}
			b.setOff(cmd.ChannelID, !on)
			if on {
				return ephemeral(fmt.Sprintf(":eyes: I'm reading <#%s> again: frustrated customers here nudge their agents.", cmd.ChannelID))
			}
			return ephemeral(fmt.Sprintf(":see_no_evil: I've stopped reading <#%s>, for everyone: no scores, nudges or reminders for what is written here from now on. `/empathy watch` turns me back on.", cmd.ChannelID))
		}
	}
	switch sub {
	case "oncall":
		return nil, func(ctx context.Context) reply { return ephemeral(b.oncall(ctx, log, cmd, rest)) }
	case "snooze":
		return nil, func(ctx context.Context) reply { return ephemeral(b.snooze(ctx, log, cmd, rest)) }
	case "pause":
		return nil, func(ctx context.Context) reply { return ephemeral(b.pause(ctx, log, cmd, rest)) }
	case "remind":
		return nil, func(ctx context.Context) reply { return ephemeral(b.remind(ctx, log, cmd, rest)) }
	case "stats":
		return nil, func(ctx context.Context) reply { return ephemeral(b.stats(ctx, log, cmd)) }
	}
	return answer(fmt.Sprintf("I don't know `%s`.\n\n%s", escape(trim(sub, 30)), helpText))
}

func (b *Bot) remind(ctx context.Context, log logger, cmd slack.SlashCommand, arg string) string {
	d, err := parseDuration(arg)
	if err != nil || d < time.Second || d > support.MaxRemind {
		return "Tell me when, e.g. `/empathy remind 30m`, `2h` or `3d` (at most 30 days)."
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := b.desk.RemindMe(ctx, cmd.UserID, cmd.TeamID, cmd.ChannelID, d)
	if err != nil {
		log.Warn("personal reminder not scheduled", "error", err)
		return "I couldn't schedule that just now; please try again."
	}
	return fmt.Sprintf(":alarm_clock: I'll remind you to follow up here in %s (<!date^%d^{date_short_pretty} at {time}|%s>).",
		coach.HumanDuration(d), r.DueAt().Unix(), r.DueAt().UTC().Format("2006-01-02 15:04 UTC"))
}

func (b *Bot) stats(ctx context.Context, log logger, cmd slack.SlashCommand) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := b.store.Stats(ctx, cmd.ChannelID, b.Now(), statsDays)
	if err != nil {
		log.Warn("stats unavailable", "error", err)
		return "I couldn't read the numbers just now; please try again."
	}
	team, err := b.desk.TeamLoads(ctx)
	if err != nil {
		team = nil
	}
	text := statsText(st, len(team)) + "\n" + teamLoadText(team)
	if l, err := b.lift(ctx, cmd.ChannelID); err == nil {
		text += "\n\n" + liftText(l, fmt.Sprintf("in the last %d days", liftDays))
	}
	return text
}

// respond posts a reply to a response_url, retrying transient failures.
func (b *Bot) respond(ctx context.Context, responseURL string, r reply) error {
	return b.web.retry(ctx, "response_url", func() error {
		return hideURL(slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.cfg.HTTPClient, &slack.WebhookMessage{ResponseType: r.ResponseType, Text: r.Text}))
	})
}

// hideURL drops the URL from a failed HTTP call's error: a response_url is
// a credential (anyone holding it may post as the app for 30 minutes) and
// must never reach a log.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s response_url: %w", ue.Op, ue.Err)
	}
	if err != nil && strings.Contains(err.Error(), "://") {
		return errors.New("response_url: post failed")
	}
	return err
}

func (b *Bot) tipsText(k coach.CueKind) string {
	var sb strings.Builder
	if k == "" || !coach.ValidCueKind(k) {
		if k != "" {
			fmt.Fprintf(&sb, "I don't know the cue `%s`. ", escape(trim(string(k), 30)))
		}
		sb.WriteString("*The empathy map* — before you reply, ask yourself:\n1. What is the problem?\n2. Why is the customer upset about it?\n3. When did you feel something similar, and what was it like?\n4. What will you say or do to show you understand?\n\nCues: ")
		for i, c := range coach.CueKinds {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("`" + string(c) + "`")
		}
		return sb.String()
	}
	fmt.Fprintf(&sb, "*When %s:*\n", coach.Describe(k))
	tips := b.coach.Tips(k)
	if len(tips) == 0 {
		tips = b.coach.Tips("") // a cue with no tips of its own (tone) gets the general ones, as a nudge does
	}
	for _, t := range tips {
		fmt.Fprintf(&sb, "• *%s* (%s) — %s\n", escape(t.Title), escape(t.Technique), escape(t.Why))
	}
	return sb.String()
}

func (b *Bot) checkText(draft string) string {
	// A draft is checked as if the customer were frustrated: that is when it matters.
	findings := b.coach.Review(draft, coach.Assessment{Frustrated: true, Score: 1})
	if len(findings) == 0 {
		return ":white_check_mark: Looks good: it acknowledges the customer and gives a next step."
	}
	var sb strings.Builder
	sb.WriteString("*A few thoughts on your draft* (only you can see this):\n")
	for _, f := range findings {
		if f.Evidence != "" {
			fmt.Fprintf(&sb, "• “%s” — %s\n", escape(trim(f.Evidence, 60)), escape(f.Suggestion))
		} else {
			fmt.Fprintf(&sb, "• %s\n", escape(f.Suggestion))
		}
	}
	return sb.String()
}

func (b *Bot) analyzeText(text string) string {
	a := b.coach.Assess(text)
	var sb strings.Builder
	if a.Unscored() {
		return "Not scored: " + b.coach.Verdict(a) + "."
	}
	verdict := b.coach.Verdict(a)
	if a.Frustrated {
		verdict = "*frustrated*"
	}
	fmt.Fprintf(&sb, "Score %.2f — %s.\n", a.Score, verdict)
	// Each cue once: a long message says "still broken" many times, and a
	// line per time says nothing more (the count does).
	var keys []string
	line, times := map[string]string{}, map[string]int{}
	for _, c := range a.Cues {
		k := coach.Explain(c) + "\x00" + strings.ToLower(c.Evidence)
		if times[k] == 0 {
			keys = append(keys, k)
			line[k] = fmt.Sprintf("%s (“%s”)", coach.Explain(c), escape(trim(c.Evidence, 60)))
		}
		times[k]++
	}
	for _, k := range keys {
		if n := times[k]; n > 1 {
			fmt.Fprintf(&sb, "• %s ×%d\n", line[k], n)
		} else {
			fmt.Fprintf(&sb, "• %s\n", line[k])
		}
	}
	if a.Frustrated {
		s := b.coach.Suggest(a, nil)
		fmt.Fprintf(&sb, "*Try: %s* — %s\n>%s", escape(s.Tip.Title), escape(s.Tip.Why), escape(s.Opening))
	}
	return sb.String()
}

var userMention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(\|[^>]*)?>$`)

func (b *Bot) oncall(ctx context.Context, log logger, cmd slack.SlashCommand, arg string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if arg == "" {
		who, err := b.store.OnCall(ctx, cmd.ChannelID)
		if err != nil {
			log.Warn("on-call lookup failed", "error", err)
			return "I couldn't read the on-call agent just now; please try again."
		}
		if who == "" {
			return "Nobody is on call in this channel. Set someone with `/empathy oncall @name`."
		}
		return fmt.Sprintf("%s on call in this channel.", mentions(support.OnCallList(who)))
	}
	var list []string
	switch {
	case arg == "off" || arg == "none":
	default:
		for _, f := range strings.Fields(arg) {
			if f == "me" {
				list = append(list, cmd.UserID)
				continue
			}
			m := userMention.FindStringSubmatch(f)
			if m == nil {
				return "Mention the agents, e.g. `/empathy oncall @dana @lee`, or use `me` or `off`."
			}
			list = append(list, m[1])
		}
	}
	who := strings.Join(list, ",")
	// A customer can never be on call: they would receive other customers'
	// nudges. Whoever the bot cannot place is refused too (the desk checks).
	if err := b.desk.SetOnCall(ctx, cmd.UserID, cmd.TeamID, cmd.ChannelID, who); errors.Is(err, support.ErrNotAgent) {
		if len(list) == 1 {
			return fmt.Sprintf("<@%s> isn't on the support team, so they can't be on call. Pick an agent, or use `me`.", list[0])
		}
		return "Someone you named isn't on the support team, so they can't be on call. Pick agents, or use `me`."
	} else if errors.Is(err, support.ErrBadRequest) {
		return "At most 10 agents can be on call in a channel."
	} else if err != nil {
		log.Warn("on-call not saved", "error", err)
		return "I couldn't save that just now; please try again."
	}
	if who == "" {
		return "Nobody is on call in this channel now."
	}
	return fmt.Sprintf("%s now on call in this channel: unassigned frustrated customers go to them (the least-loaded one who is not paused).", mentions(list))
}

// mentions writes "<@A> is" or "<@A>, <@B> are".
func mentions(ids []string) string {
	var m []string
	for _, id := range ids {
		m = append(m, "<@"+id+">")
	}
	if len(m) == 1 {
		return m[0] + " is"
	}
	return strings.Join(m, ", ") + " are"
}

func (b *Bot) snooze(ctx context.Context, log logger, cmd slack.SlashCommand, arg string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if arg == "off" || arg == "0" {
		if _, err := b.desk.Snooze(ctx, cmd.UserID, cmd.TeamID, 0); err != nil {
			log.Warn("snooze not lifted", "error", err)
			return "I couldn't lift your snooze just now; please try again."
		}
		return "Snooze lifted: nudges are back on."
	}
	d, err := parseDuration(arg)
	if err != nil {
		return "Tell me how long, e.g. `/empathy snooze 30m`, `2h` or `1d` (at most 7d), or `off`."
	}
	if d, err = b.desk.Snooze(ctx, cmd.UserID, cmd.TeamID, d); err != nil {
		log.Warn("snooze not saved", "error", err)
		return "I couldn't save your snooze just now; please try again."
	}
	return fmt.Sprintf(":zzz: Nudges paused for %s. Take care of yourself.", coach.HumanDuration(d))
}

// pause keeps new work away from the agent for a while (a breather).
func (b *Bot) pause(ctx context.Context, log logger, cmd slack.SlashCommand, arg string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if arg == "off" || arg == "0" {
		if _, err := b.desk.Pause(ctx, cmd.UserID, cmd.TeamID, 0); err != nil {
			log.Warn("pause not lifted", "error", err)
			return "I couldn't lift your pause just now; please try again."
		}
		return "Pause lifted: new threads can come to you again."
	}
	d, err := parseDuration(arg)
	if err != nil || d < time.Minute || d > support.MaxPause {
		return "Tell me how long, e.g. `/empathy pause 30m` (1 minute to 8 hours), or `off`."
	}
	if _, err = b.desk.Pause(ctx, cmd.UserID, cmd.TeamID, d); err != nil {
		log.Warn("pause not saved", "error", err)
		return "I couldn't save your pause just now; please try again."
	}
	return fmt.Sprintf(":herb: Paused for %s: no new triage cards, on-call nudges or reminders for new threads will come to you. "+
		"Your own threads still remind you. `/empathy pause off` ends it early.", coach.HumanDuration(d))
}

// parseDuration accepts Go durations plus days ("1d", "2d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 || n > 100000 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

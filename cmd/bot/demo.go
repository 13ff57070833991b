package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/slackio"
	"empathybot/internal/slackio/slackfake"
	"empathybot/internal/support"
)

// demo runs the real bot against a local Slack (slackfake) and an embedded
// Redis, plays a short support conversation, and prints what each person sees.
func demo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interactive := fs.Bool("interactive", false, "play it yourself: customers, agents, reactions, buttons, App Home")
	verbose := fs.Bool("v", false, "show the bot's logs")
	remindAfter := fs.Duration("remind", 0, "response reminder and check-in delay (default: 2s, or 20s with -interactive)")
	outcomesDemo := fs.Bool("outcomes", false, "play frustrated threads with a 50% holdout, then show /empathy stats: what the coaching changed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // asked for: the flags are printed, and that is success
		}
		return usageError{err.Error()}
	}
	fake, err := slackfake.New()
	if err != nil {
		return err
	}
	defer fake.Close()
	const channel, customer, agent = "CSUPPORT", "UCUSTOMER", "UAGENT"
	fake.AddChannel(channel, "support-acme")
	fake.AddUser(slackfake.User{ID: customer, Name: "Sam (customer, Acme)", TeamID: "TACME"})
	fake.AddUser(slackfake.User{ID: agent, Name: "Dana (agent)"})
	const customer2, agent2, triage = "UCUSTOMER2", "UAGENT2", "CTRIAGE"
	fake.AddUser(slackfake.User{ID: customer2, Name: "Ana (customer, Globex)", TeamID: "TGLOBEX"})
	fake.AddUser(slackfake.User{ID: agent2, Name: "Lee (agent)"})
	fake.AddChannel(triage, "support-triage")
	names := map[string]string{customer: "Sam (customer)", agent: "Dana (agent)", customer2: "Ana (customer)", agent2: "Lee (agent)", triage: "#support-triage"}
	if *remindAfter <= 0 {
		*remindAfter = 2 * time.Second
		if *interactive {
			*remindAfter = 20 * time.Second
		}
	}

	logw := io.Discard
	if *verbose {
		logw = stderr
	}
	log := slog.New(slog.NewJSONHandler(logw, nil))
	cfg := Config{
		BotToken: fake.BotToken, AppToken: fake.AppToken, APIURL: fake.APIURL(),
		Channels: []string{channel}, Agents: []string{agent}, Nudge: "ephemeral", Threshold: coach.DefaultThreshold,
		Cooldown: time.Minute, Retention: time.Hour, HTTPAddr: "off", RedisPrefix: "empathy:",
		// Second-scale follow-ups so the demo shows them (defaults: 10m and 24h).
		ResponseReminder: *remindAfter, ReminderRepeats: 1, FollowupAfter: *remindAfter,
	}
	if *interactive {
		cfg.Agents = []string{agent, agent2}
		cfg.TriageChannel = triage
		cfg.BreatherAt = 1.0 // a breather after a few hostile messages, to see it
	}
	if *outcomesDemo {
		cfg.Holdout, cfg.HoldoutKey, cfg.Tips = 0.5, "demo", "learn"
	}
	var mu sync.Mutex
	handled := map[string]chan struct{}{}
	waitFor := func(eventID string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if handled[eventID] == nil {
			handled[eventID] = make(chan struct{})
		}
		return handled[eventID]
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	botErr := make(chan error, 1)
	go func() {
		botErr <- runBot(runCtx, cfg, log, hooks{ready: func(b *slackio.Bot) {
			b.AfterEvent = func(id string) { close(waitFor(id)) }
		}})
	}()
	if !fake.WaitConnections(1, 5*time.Second) {
		stop()
		return fmt.Errorf("demo: the bot did not connect: %v", <-botErr)
	}

	seen, seenDM := 0, 0
	var outMu sync.Mutex // the transcript: typed lines and what arrives meanwhile
	var shown []shownMessage
	printPrivate := func() {
		outMu.Lock()
		defer outMu.Unlock()
		for _, c := range fake.Calls("chat.postEphemeral")[seen:] {
			seen++
			fmt.Fprintf(stdout, "    🔒 only %s sees, from empathybot:\n", names[c.Args.Get("user")])
			for _, line := range strings.Split(terminalText(blocksText(c.Args.Get("blocks"), c.Args.Get("text")), names), "\n") {
				fmt.Fprintf(stdout, "       │ %s\n", line)
			}
			shown = append(shown, shownMessage{to: c.Args.Get("user"), channel: c.Args.Get("channel"), container: "ephemeral", blocks: c.Args.Get("blocks")})
		}
		for _, c := range fake.Calls("chat.postMessage")[seenDM:] {
			seenDM++
			to := c.Args.Get("channel")
			if strings.HasPrefix(to, "D") {
				fmt.Fprintf(stdout, "    ✉️  DM to %s from empathybot:\n", names[strings.TrimPrefix(to, "D")])
			} else {
				fmt.Fprintf(stdout, "    📋 in %s, from empathybot:\n", names[to])
			}
			for _, line := range strings.Split(terminalText(blocksText(c.Args.Get("blocks"), c.Args.Get("text")), names), "\n") {
				fmt.Fprintf(stdout, "       │ %s\n", line)
			}
			shown = append(shown, shownMessage{to: strings.TrimPrefix(to, "D"), channel: to, container: "message", blocks: c.Args.Get("blocks")})
		}
	}
	thread, threads := "", 0
	say := func(user, text string) error {
		m := slackfake.Message{Channel: channel, User: user, Text: text, ThreadTS: thread}
		if thread == "" {
			threads++
			m.TS = fmt.Sprintf("%d.%06d", time.Now().Unix(), threads*100)
			thread = m.TS
		}
		_, eventID, err := fake.SendMessage(m)
		if err != nil {
			return err
		}
		outMu.Lock()
		fmt.Fprintf(stdout, "#support-acme  %s: %s\n", names[user], text)
		outMu.Unlock()
		select {
		case <-waitFor(eventID):
		case <-time.After(5 * time.Second):
			return errors.New("demo: the bot did not handle a message within 5s")
		}
		printPrivate()
		return nil
	}
	command := func(user, text string) error {
		fmt.Fprintf(stdout, "%s types: /empathy %s\n", names[user], text)
		payload, err := fake.SlashCommand(user, channel, "/empathy", text, 5*time.Second)
		if err != nil {
			return err
		}
		var r struct{ Text string }
		json.Unmarshal(payload, &r)
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, "    🔒 only %s sees, from empathybot:\n", names[user])
		for _, line := range strings.Split(r.Text, "\n") {
			fmt.Fprintf(stdout, "       │ %s\n", line)
		}
		return nil
	}

	if *interactive {
		p := &player{out: stdout, outMu: &outMu, fake: fake, channel: channel, triage: triage, names: names,
			threadOf: map[int]string{}, say: func(user, text, th string) error { thread = th; return say(user, text) },
			setThread: func(th string) { thread = th },
			thread:    func() string { return thread }, command: command, waitFor: waitFor, printPrivate: printPrivate,
			shown: func() []shownMessage {
				outMu.Lock()
				defer outMu.Unlock()
				return append([]shownMessage(nil), shown...)
			},
			users: map[string]string{"c": customer, "c2": customer2, "a": agent, "l": agent2}}
		// What falls due while nobody types still appears.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case <-tick.C:
					printPrivate()
				}
			}
		}()
		if err := p.play(stdin, *remindAfter); err != nil {
			return err
		}
	} else if *outcomesDemo {
		// Six frustrated customers; the holdout (50% here, 10% advised)
		// decides which threads nudge their agent. Each thread is picked so
		// that the transcript shows both arms.
		hold := support.Holdout{Fraction: cfg.Holdout, Key: holdoutKey(cfg)}
		answers := []string{"Thanks, that works now.", "OK, thanks for sorting it.", "Still broken. This is ridiculous, I've asked three times!!",
			"Great, thank you.", "Fine. Thanks.", "This is unacceptable, nothing has changed and nobody is helping!"}
		for i, answer := range answers {
			arm := support.ArmNudge
			if i%2 == 1 {
				arm = support.ArmHoldout
			}
			if thread = armedThread(hold, channel, arm, i*100000); thread == "" {
				return fmt.Errorf("demo: no thread in the %s arm", arm)
			}
			fmt.Fprintf(stdout, "— thread %d (%s; the agent cannot tell)\n", i+1, map[string]string{support.ArmNudge: "nudged", support.ArmHoldout: "held out"}[arm])
			for _, st := range []struct{ user, text string }{
				{agent, "Hi Sam, looking into it now."},
				{customer, "This is the third time I'm asking about this. You said it would be fixed by Friday and it's still broken. Ridiculous."},
				{agent, "I can see you've had to chase this three times, and that's on us. I've fixed it, and I'll check in with you tomorrow."},
				{customer, answer},
			} {
				if err := say(st.user, st.text); err != nil {
					return err
				}
			}
		}
		if err := command(agent, "stats"); err != nil {
			return err
		}
	} else {
		steps := []struct{ user, text string }{
			{customer, "Hi, our invoices page shows last month's total twice. Can you check?"},
			{agent, "Thanks Sam, looking into it now."},
			{customer, "This is the third time I'm asking about this. You said it would be fixed by Friday and it's still broken. Ridiculous."},
			{agent, "We apologise for any inconvenience caused."},
		}
		for _, s := range steps {
			if err := say(s.user, s.text); err != nil {
				return err
			}
		}
		if err := command(agent, "check I can see you've had to chase this three times, and that's on us. I've asked billing to correct the invoice and I'll confirm by 3pm today."); err != nil {
			return err
		}
		if err := say(agent, "I can see you've had to chase this three times, and that's on us. Billing has corrected the invoice; you'll see one total now."); err != nil {
			return err
		}
		// Dana marks the thread resolved with ✅: a check-in follows later.
		fmt.Fprintf(stdout, "#support-acme  %s reacts ✅ to the thread\n", names[agent])
		ev := "EvDemoResolve"
		if _, err := fake.SendEvent(ev, map[string]any{"type": "reaction_added", "user": agent, "reaction": "white_check_mark",
			"item": map[string]any{"type": "message", "channel": channel, "ts": thread}, "event_ts": thread}); err != nil {
			return err
		}
		<-waitFor(ev)
		// Another customer message, in a new thread nobody answers: a reminder follows.
		thread = ""
		if err := say(customer, "Also, the export has been failing for two days now and nobody has got back to me."); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "… (nobody answers; the demo runs follow-ups at 2 s instead of 10 min and 24 h)")
		if _, ok := fake.WaitCalls("chat.postMessage", 2, 8*time.Second); !ok {
			return errors.New("demo: the reminder and the check-in did not arrive")
		}
		printPrivate()
	}
	stop()
	select {
	case err := <-botErr:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("demo: the bot did not stop within 5s")
	}
}

// armedThread returns a thread ts that the holdout h puts in arm whatever
// the cue kind of its moment, searching from the n-th candidate ("" when
// none of a million is).
func armedThread(h support.Holdout, channel, arm string, n int) string {
	kinds := []string{""}
	for _, k := range coach.CueKinds {
		kinds = append(kinds, string(k))
	}
	base := time.Now().Unix()
	for i := n; i < n+1000000; i++ {
		ts := fmt.Sprintf("%d.%06d", base, i%1000000)
		all := true
		for _, k := range kinds {
			if h.Arm(channel, ts, k) != arm {
				all = false
				break
			}
		}
		if all {
			return ts
		}
	}
	return ""
}

// blocksText turns Block Kit JSON into plain lines for the transcript;
// buttons become one line of [labels].
// slackMarkup is Slack's markup in message text: <@U…>, <#C…|name>,
// <!date^…|fallback>, <!here>, <url|label>.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// terminalText renders Slack's markup for a terminal: a mention as the
// person's name, a channel as #name, a date as its fallback text, a link as
// its label, and &lt; &gt; &amp; as the characters.
func terminalText(s string, names map[string]string) string {
	s = slackMarkup.ReplaceAllStringFunc(s, func(m string) string {
		p := slackMarkup.FindStringSubmatch(m)
		kind, target, label := p[1], p[2], p[3]
		switch kind {
		case "@":
			if n := names[target]; n != "" {
				return "@" + strings.SplitN(n, " ", 2)[0]
			}
			if label != "" {
				return "@" + label
			}
			return "@" + target
		case "#":
			if label != "" {
				return "#" + label
			}
			return "#" + target
		case "!":
			if label != "" {
				return label // <!date^…^{time}|2:30 PM>
			}
			return "@" + strings.SplitN(target, "^", 2)[0] // <!here>
		}
		if label != "" {
			return label
		}
		return target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

func blocksText(blocksJSON, fallback string) string {
	type text struct {
		Text string `json:"text"`
	}
	var blocks []struct {
		Type     string `json:"type"`
		Text     *text  `json:"text"`
		Elements []struct {
			Type string          `json:"type"`
			Text json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal([]byte(blocksJSON), &blocks) != nil || len(blocks) == 0 {
		return fallback
	}
	var lines []string
	for _, b := range blocks {
		if b.Text != nil {
			lines = append(lines, b.Text.Text)
		}
		var buttons []string
		for _, e := range b.Elements {
			var s string
			var t text
			switch {
			case json.Unmarshal(e.Text, &s) == nil:
			case json.Unmarshal(e.Text, &t) == nil:
				s = t.Text
			}
			if e.Type == "button" {
				buttons = append(buttons, "["+s+"]")
			} else {
				lines = append(lines, s)
			}
		}
		if len(buttons) > 0 {
			lines = append(lines, strings.Join(buttons, " "))
		}
	}
	return strings.Join(lines, "\n")
}

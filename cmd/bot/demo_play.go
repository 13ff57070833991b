package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"empathybot/internal/slackio/slackfake"
)

// shownMessage is a private message the demo printed, kept so that its
// buttons can be clicked.
type shownMessage struct {
	to, channel, container, blocks string
}

// player runs `bot demo --interactive`: lines typed by the person trying
// the bot become Slack events, clicks and commands.
type player struct {
	out            io.Writer
	outMu          *sync.Mutex
	fake           *slackfake.Server
	channel        string
	triage         string
	names          map[string]string
	users          map[string]string // typed prefix → user ID
	threadOf       map[int]string    // thread number → ts
	threads        int
	current        int
	say            func(user, text, thread string) error
	setThread      func(thread string)
	thread         func() string
	command        func(user, text string) error
	waitFor        func(eventID string) chan struct{}
	printPrivate   func()
	shown          func() []shownMessage
	eventsReplayed int
}

const playHelp = `Type, one per line:
  c: TEXT        Sam (customer, Acme) writes in the current thread (the first starts one)
  c2: TEXT       Ana (customer, Globex) writes in the current thread
  a: TEXT        Dana (agent) writes;  l: TEXT  Lee (agent) writes
  new            the next message starts a new thread;  thread N  goes back to thread N
  react 👀|✅     Dana reacts to the current thread (claim it, or mark it resolved)
  click LABEL [N]  Dana clicks a button on the latest message that has it (Claim, Resolved,
                 Snooze 1 h, Useful, Not useful, Done, Not needed); N: the Nth latest (2: the one before)
  /empathy ...   Dana runs a command (help, tips, check, analyze, oncall, snooze, pause, remind, stats)
  home [lee]     Dana (or Lee) opens the bot's App Home
  wait 2s        let time pass (at most a minute), showing what arrives
  help           this list.  Ctrl-D ends.
Reminders and check-ins appear when they fall due, whether or not you type.`

func (p *player) printf(format string, a ...any) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	fmt.Fprintf(p.out, format, a...)
}

func (p *player) play(stdin io.Reader, remind time.Duration) error {
	p.printf("%s\n(reminders after %v; a frustrated customer nobody owns gets a card in #support-triage)\n", playHelp, remind)
	r := bufio.NewReader(stdin)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			line = strings.TrimSpace(line)
			if n := len([]rune(line)); n > maxMessage {
				// Slack takes at most 40,000 characters in a message.
				p.printf("    (%d characters: Slack takes at most %d in a message; sending the first %d)\n", n, maxMessage, maxMessage)
				line = string([]rune(line)[:maxMessage])
			}
			if err := p.line(line); err != nil {
				return err
			}
			p.printPrivate()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// maxMessage is the most characters Slack takes in one message.
const maxMessage = 40000

func (p *player) line(line string) error {
	if who, text, ok := strings.Cut(line, ":"); ok && p.users[strings.TrimSpace(who)] != "" && !strings.HasPrefix(line, "/") {
		text = strings.TrimSpace(text)
		if text == "" {
			return nil
		}
		th := p.thread()
		if p.current == 0 {
			th = ""
		}
		if err := p.say(p.users[strings.TrimSpace(who)], text, th); err != nil {
			return err
		}
		if p.current == 0 {
			p.threads++
			p.current = p.threads
			p.threadOf[p.current] = p.thread()
			p.printf("    (thread %d)\n", p.current)
		}
		return nil
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return nil
	case f[0] == "help":
		p.printf("%s\n", playHelp)
	case f[0] == "new":
		p.current = 0
		p.printf("    (the next message starts a new thread)\n")
	case f[0] == "thread" && len(f) == 2:
		n, err := strconv.Atoi(f[1])
		if err != nil || p.threadOf[n] == "" {
			p.printf("    no thread %s (threads 1-%d)\n", f[1], p.threads)
			return nil
		}
		p.current = n
		p.setThread(p.threadOf[n])
		p.printf("    (back in thread %d)\n", n)
	case f[0] == "react" && len(f) == 2:
		return p.react(f[1])
	case f[0] == "click" && len(f) >= 2:
		nth := 1
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil && len(f) >= 3 && n >= 1 {
			nth, f = n, f[:len(f)-1]
		}
		return p.click(strings.Join(f[1:], " "), nth)
	case strings.HasPrefix(line, "/empathy"):
		return p.command(p.users["a"], strings.TrimSpace(strings.TrimPrefix(line, "/empathy")))
	case f[0] == "wait" && len(f) == 2:
		d, err := time.ParseDuration(f[1])
		if err != nil || d <= 0 || d > time.Minute {
			p.printf("    wait how long? e.g. wait 2s (at most 1m)\n")
			return nil
		}
		time.Sleep(d)
		p.printPrivate()
	case f[0] == "home":
		who := "a"
		if len(f) > 1 && strings.EqualFold(f[1], "lee") {
			who = "l"
		}
		return p.home(who)
	default:
		p.printf("    ? start the line with c:, c2:, a: or l:, or type help\n")
	}
	return nil
}

func (p *player) react(what string) error {
	name := map[string]string{"👀": "eyes", "eyes": "eyes", "claim": "eyes", "✅": "white_check_mark", "check": "white_check_mark",
		"resolve": "white_check_mark", "white_check_mark": "white_check_mark"}[what]
	if name == "" || p.current == 0 {
		p.printf("    react 👀 or react ✅, in a thread\n")
		return nil
	}
	p.eventsReplayed++
	ev := fmt.Sprintf("EvPlayReact%d", p.eventsReplayed)
	p.printf("#support-acme  %s reacts %s to thread %d\n", p.names[p.users["a"]], what, p.current)
	if _, err := p.fake.SendEvent(ev, map[string]any{"type": "reaction_added", "user": p.users["a"], "reaction": name,
		"item": map[string]any{"type": "message", "channel": p.channel, "ts": p.threadOf[p.current]}, "event_ts": p.threadOf[p.current]}); err != nil {
		return err
	}
	select {
	case <-p.waitFor(ev):
	case <-time.After(5 * time.Second):
	}
	return nil
}

// click presses the button labelled label on the nth latest message shown
// to Dana (or posted in the triage channel) that has one (1: the latest).
func (p *player) click(label string, nth int) error {
	shown := p.shown()
	for i := len(shown) - 1; i >= 0; i-- {
		m := shown[i]
		if m.to != p.users["a"] && m.channel != p.triage {
			continue
		}
		for _, b := range buttons(m.blocks) {
			if !strings.EqualFold(strings.Trim(stripEmoji(b.text), " "), label) {
				continue
			}
			if nth--; nth > 0 {
				break // an older one is wanted
			}
			p.printf("%s clicks [%s]\n", p.names[p.users["a"]], b.text)
			ch := p.channel
			if m.channel == p.triage {
				ch = p.triage
			}
			env, rid, err := p.fake.Click(slackfake.Action{User: p.users["a"], Channel: ch, ActionID: b.action, Value: b.value, Container: m.container})
			if err != nil {
				return err
			}
			p.fake.WaitAck(env, 3*time.Second)
			if body, ok := p.fake.WaitResponse(rid, 5*time.Second); ok {
				var r struct {
					Text    string `json:"text"`
					Replace bool   `json:"replace_original"`
					Type    string `json:"response_type"`
				}
				json.Unmarshal(body, &r)
				where := "    🔒 only Dana (agent) sees, from empathybot:"
				if r.Type == "in_channel" {
					where = "    📋 the card in #support-triage now reads:"
				}
				p.printf("%s\n       │ %s\n", where, terminalText(r.Text, p.names))
			}
			return nil
		}
	}
	p.printf("    no [%s] button on Dana's recent messages\n", label)
	return nil
}

func (p *player) home(who string) error {
	p.eventsReplayed++
	ev := fmt.Sprintf("EvPlayHome%d", p.eventsReplayed)
	before := len(p.fake.Calls("views.publish"))
	if _, err := p.fake.SendEvent(ev, map[string]any{"type": "app_home_opened", "user": p.users[who], "channel": "DHOME", "tab": "home"}); err != nil {
		return err
	}
	calls, ok := p.fake.WaitCalls("views.publish", before+1, 5*time.Second)
	if !ok {
		p.printf("    (the App Home did not arrive)\n")
		return nil
	}
	var view struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	json.Unmarshal([]byte(calls[len(calls)-1].Args.Get("view")), &view)
	p.printf("  ┌─ empathybot · App Home (%s) ─────────────\n", strings.Fields(p.names[p.users[who]])[0])
	for _, line := range strings.Split(terminalText(blocksText(string(view.Blocks), ""), p.names), "\n") {
		p.printf("  │ %s\n", line)
	}
	p.printf("  └────────────────────────────────────────────\n")
	return nil
}

type button struct{ action, value, text string }

func buttons(blocksJSON string) []button {
	var blocks []struct {
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	json.Unmarshal([]byte(blocksJSON), &blocks)
	var out []button
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.Type == "button" {
				out = append(out, button{e.ActionID, e.Value, e.Text.Text})
			}
		}
	}
	return out
}

// stripEmoji drops :short_codes: from a label (":eyes: Claim" → "Claim").
func stripEmoji(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 || strings.ContainsAny(s[i+1:i+1+j], " ") {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		s = s[i+j+2:]
	}
}

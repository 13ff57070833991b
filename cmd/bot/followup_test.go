package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/slackio/slackfake"
)

const otherAgent = "UOTHERAGENT"

// buttonValue finds the value of the button actionID in a Block Kit JSON.
func buttonValue(t *testing.T, blocksJSON, actionID string) string {
	t.Helper()
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	t.Fatalf("no %s button in %s", actionID, blocksJSON)
	return ""
}

// viewBlocks returns the blocks of a published view.
func viewBlocks(t *testing.T, view string) string {
	t.Helper()
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(view), &v); err != nil {
		t.Fatalf("view: %v", err)
	}
	return string(v.Blocks)
}

// plain undoes Go's JSON escaping of <, > and &.
func plain(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

// dmsAbout returns the DMs sent so far that link to thread.
func (h *harness) dmsAbout(thread string) []slackfake.Call {
	var out []slackfake.Call
	link := "p" + strings.ReplaceAll(thread, ".", "")
	for _, c := range h.fake.Calls("chat.postMessage") {
		if strings.Contains(c.Args.Get("blocks"), link) {
			out = append(out, c)
		}
	}
	return out
}

// waitDMs waits until n DMs link to thread.
func (h *harness) waitDMs(thread string, n int, timeout time.Duration) []slackfake.Call {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := h.dmsAbout(thread)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d DMs about thread %s within %v, want %d", len(got), thread, timeout, n)
		}
		h.fake.WaitCalls("chat.postMessage", len(h.fake.Calls("chat.postMessage"))+1, 200*time.Millisecond)
	}
}

// noMoreDMs checks that no DM about thread beyond n arrives within d: the time
// a reminder that should not exist would have needed to fire.
func (h *harness) noMoreDMs(thread string, n int, d time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		h.fake.WaitCalls("chat.postMessage", len(h.fake.Calls("chat.postMessage"))+1, time.Until(deadline))
	}
	if got := h.dmsAbout(thread); len(got) != n {
		h.t.Errorf("%d DMs about thread %s, want exactly %d", len(got), thread, n)
	}
}

func (h *harness) react(user, reaction, channel, ts string) {
	h.t.Helper()
	ev := "EvR" + strings.ReplaceAll(ts, ".", "") + user + reaction
	env, err := h.fake.SendEvent(ev, map[string]any{"type": "reaction_added", "user": user, "reaction": reaction,
		"item": map[string]any{"type": "message", "channel": channel, "ts": ts}, "event_ts": ts})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 2*time.Second); !ok {
		h.t.Fatal("reaction not acked")
	}
	h.waitHandled(ev, 1)
}

func (h *harness) click(user, actionID, value string) json.RawMessage {
	h.t.Helper()
	env, rid, err := h.fake.Click(slackfake.Action{User: user, Channel: chSupport, ActionID: actionID, Value: value})
	if err != nil {
		h.t.Fatal(err)
	}
	if a, ok := h.fake.WaitAck(env, 2*time.Second); !ok || len(a.Payload) > 0 && string(a.Payload) != "null" {
		h.t.Fatalf("click not acked at once and empty: %v %s", ok, a.Payload)
	}
	body, ok := h.fake.WaitResponse(rid, 5*time.Second)
	if !ok {
		h.t.Fatalf("%s: no answer on the response_url", actionID)
	}
	return body
}

func (h *harness) command(user, text string) string {
	h.t.Helper()
	payload, err := h.fake.SlashCommand(user, chSupport, "/empathy", text, 5*time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	var r struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(payload, &r); err != nil || r.ResponseType != "ephemeral" {
		h.t.Fatalf("/empathy %s: %s (%v)", text, payload, err)
	}
	return r.Text
}

// A frustrated customer with no reply: reminders by DM, firmer each time, at
// most EMPATHY_REMINDER_REPEATS; an agent reply cancels them; a new
// frustrated message re-arms them.
func TestEndToEndResponseReminders(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = time.Second; c.ReminderRepeats = 2 })
	a, b, c := "1700001000.000100", "1700001001.000100", "1700001002.000100"
	for _, th := range []string{a, b, c} {
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: th, Text: "Hi, Dana here."})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: th, Text: angry})
	}
	// c: a calm nudge from the customer, still unanswered: they are still waiting.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: c, Text: "Just checking in, thanks!"})
	// b: the agent answers at once.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: b, Text: "I'm on it now and will update you by 3pm."})

	dms := h.waitDMs(a, 2, 8*time.Second)
	first, second := dms[0].Args.Get("blocks"), dms[1].Args.Get("blocks")
	if dms[0].Args.Get("channel") != "D"+agent || !strings.Contains(first, "waiting") || !strings.Contains(second, "Still no reply") {
		t.Errorf("reminders: to %s\n%s\n%s", dms[0].Args.Get("channel"), first, second)
	}
	buttonValue(t, first, "empathy_done")
	h.noMoreDMs(a, 2, 2500*time.Millisecond) // no third: repeats = 2
	if n := len(h.dmsAbout(c)); n != 2 {
		t.Errorf("%d reminders for a customer still waiting after a calm follow-up, want 2", n)
	}
	if n := len(h.dmsAbout(b)); n != 0 {
		t.Errorf("%d reminders for a thread the agent answered", n)
	}
	// b: the customer is frustrated again → re-armed.
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: b, Text: "It's STILL broken. Unacceptable."})
	rem := h.waitDMs(b, 1, 5*time.Second)
	// "Not needed" on it: the repeat that was due next is not sent.
	if out := string(h.click(agent, "empathy_not_needed", buttonValue(t, rem[0].Args.Get("blocks"), "empathy_not_needed"))); !strings.Contains(out, "no more reminders") {
		t.Errorf("not needed: %s", out)
	}
	h.noMoreDMs(b, 1, 2500*time.Millisecond)
}

// ✅ by an agent on any message of the thread → a check-in later, with a
// permalink; a customer message reopens the thread and cancels it; a
// customer's ✅ resolves nothing.
func TestEndToEndResolutionCheckIn(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.FollowupAfter = time.Second })
	c, d, e := "1700001100.000100", "1700001101.000100", "1700001102.000100"
	replyTS := map[string]string{c: "1700001100.000300", d: "1700001101.000300", e: "1700001102.000300"}
	for _, th := range []string{c, d, e} {
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: "Invoices are wrong again!"})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: th, TS: replyTS[th], Text: "Fixed it, sorry about that, Sam."})
	}
	// The store keeps no reply→thread map: a ✅ on a reply asks Slack
	// which thread it is in (one conversations.replies call), one on a
	// thread's parent does not, and neither does a customer's.
	h.react(agent, "white_check_mark", chSupport, replyTS[c]) // on the reply, not the parent
	if n := len(h.fake.Calls("conversations.replies")); n != 1 {
		t.Errorf("a ✅ on a reply: %d conversations.replies calls, want 1", n)
	}
	h.react(agent, "heavy_check_mark", chSupport, d)
	h.react(customer, "white_check_mark", chSupport, e)
	if n := len(h.fake.Calls("conversations.replies")); n != 1 {
		t.Errorf("a ✅ on a parent and a customer's ✅: %d conversations.replies calls in all, want still 1", n)
	}
	// A channel the bot does not watch: acked, and dropped before any work.
	if env, err := h.fake.SendEvent("EvROther", map[string]any{"type": "reaction_added", "user": agent, "reaction": "white_check_mark",
		"item": map[string]any{"type": "message", "channel": chOther, "ts": "1700001103.000100"}, "event_ts": "1700001103.000200"}); err != nil {
		t.Fatal(err)
	} else if _, ok := h.fake.WaitAck(env, 2*time.Second); !ok {
		t.Fatal("reaction in an unwatched channel not acked")
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: d, Text: "Hmm, it happened again just now."})

	dms := h.waitDMs(c, 1, 6*time.Second)
	if txt := plain(dms[0].Args.Get("blocks")); !strings.Contains(txt, "<@"+customer+"> is happy with the outcome") {
		t.Errorf("check-in: %s", txt)
	}
	h.noMoreDMs(d, 0, 2*time.Second)
	if n := len(h.dmsAbout(e)); n != 0 {
		t.Errorf("a customer's ✅ scheduled %d check-ins", n)
	}
	if n := len(h.dmsAbout("1700001103.000100")); n != 0 {
		t.Errorf("a ✅ in an unwatched channel scheduled %d check-ins", n)
	}
	if n := len(h.dmsAbout(c)); n != 1 {
		t.Errorf("%d check-ins for one resolution", n)
	}
}

// A ✅ on a reply needs Slack to say which thread the reply is in; the ack
// does not wait for it (the reaction is queued durably in the record step),
// and a slow or failing conversations.replies only delays the resolution.
func TestEndToEndReactionOnAReplyIsAckedBeforeSlackAnswers(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.FollowupAfter = time.Second })
	th, reply := "1700001200.000100", "1700001200.000300"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: "Invoices are wrong again!"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: th, TS: reply, Text: "Fixed it, sorry about that, Sam."})
	h.fake.SetMethodDelay("conversations.replies", 2*time.Second) // longer than the record step's budget
	h.fake.FailWith("conversations.replies", "internal_error", 1) // and the first call fails
	env, err := h.fake.SendEvent("EvRSlowReply", map[string]any{"type": "reaction_added", "user": agent, "reaction": "white_check_mark",
		"item": map[string]any{"type": "message", "channel": chSupport, "ts": reply}, "event_ts": "1700001200.000400"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 900*time.Millisecond); !ok {
		t.Fatal("the ✅ on a reply was not acked within the record step's budget: the ack waited for Slack")
	}
	dms := h.waitDMs(th, 1, 15*time.Second)
	if txt := plain(dms[0].Args.Get("blocks")); !strings.Contains(txt, "is happy with the outcome") {
		t.Errorf("check-in after the queued ✅: %s", txt)
	}
	if failed, ok := len(h.fake.Calls("conversations.replies:internal_error")), len(h.fake.Calls("conversations.replies")); failed != 1 || ok != 1 {
		t.Errorf("conversations.replies: %d failed and %d answered calls, want the failed one and its retry", failed, ok)
	}
}

// The buttons on nudges and reminders, App Home, stats and remind.
func TestEndToEndButtonsHomeStatsAndRemind(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) {
		c.Agents = []string{agent, otherAgent}
		c.ResponseReminder = time.Second
		c.FollowupAfter = time.Second
		c.ReminderRepeats = 3
	})
	f := "1700001200.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: f, Text: "Hi Sam, Dana here."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: f, Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok {
		t.Fatal("no nudge")
	}
	blocks := calls[0].Args.Get("blocks")

	// 👍 counts once per person.
	if out := string(h.click(agent, "empathy_useful", buttonValue(t, blocks, "empathy_useful"))); !strings.Contains(out, "Thanks") {
		t.Errorf("useful: %s", out)
	}
	if out := string(h.click(agent, "empathy_useful", buttonValue(t, blocks, "empathy_useful"))); !strings.Contains(out, "already") {
		t.Errorf("second vote: %s", out)
	}
	// Claim by another agent: the reminders now go to them.
	if out := string(h.click(otherAgent, "empathy_claim", buttonValue(t, blocks, "empathy_claim"))); !strings.Contains(out, "yours") {
		t.Errorf("claim: %s", out)
	}
	rem := h.waitDMs(f, 1, 6*time.Second)
	if to := rem[0].Args.Get("channel"); to != "D"+otherAgent {
		t.Errorf("reminder went to %s, want the claimer", to)
	}
	// Done on the reminder: no repeats.
	doneVal := buttonValue(t, rem[0].Args.Get("blocks"), "empathy_done")
	if out := string(h.click(otherAgent, "empathy_done", doneVal)); !strings.Contains(out, "Done") || !strings.Contains(out, `"replace_original":true`) {
		t.Errorf("done: %s", out)
	}
	// Resolved from the nudge → a check-in for the clicker.
	if out := string(h.click(agent, "empathy_resolve", buttonValue(t, blocks, "empathy_resolve"))); !strings.Contains(out, "Marked resolved") {
		t.Errorf("resolve: %s", out)
	}
	checkIn := h.waitDMs(f, 2, 6*time.Second)[1]
	if checkIn.Args.Get("channel") != "D"+agent || !strings.Contains(checkIn.Args.Get("blocks"), "happy with the outcome") {
		t.Errorf("check-in: %v", checkIn.Args)
	}
	h.noMoreDMs(f, 2, 1500*time.Millisecond) // Done stopped the repeats

	// App Home lists the open check-in (and a personal reminder: two items,
	// so their blocks must not share a block_id) and the week's numbers.
	h.command(agent, "remind 2h")
	ev := "EvHome1"
	env, err := h.fake.SendEvent(ev, map[string]any{"type": "app_home_opened", "user": agent, "channel": "D" + agent, "tab": "home"})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.WaitAck(env, 2*time.Second)
	h.waitHandled(ev, 1)
	views, ok := h.fake.WaitCalls("views.publish", 1, 5*time.Second)
	if !ok {
		t.Fatal("no App Home")
	}
	view := views[0].Args.Get("view")
	for _, want := range []string{"Check in on a resolved thread", "Your reminder", "Your recent nudges", coach.Describe(coach.RepeatedContact), "Frustrated threads: *1*", "empathy_done", ":+1: 1"} {
		if !strings.Contains(view, want) || views[0].Args.Get("user_id") != agent {
			t.Errorf("App Home lacks %q: %s", want, view)
		}
	}

	// Done from App Home: no response_url there, so the bot republishes Home
	// without the item.
	env, _, err = h.fake.Click(slackfake.Action{User: agent, ActionID: "empathy_done", Container: "view",
		Value: buttonValue(t, viewBlocks(t, view), "empathy_done")})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.WaitAck(env, 2*time.Second)
	views, ok = h.fake.WaitCalls("views.publish", 2, 5*time.Second)
	if !ok {
		t.Fatal("App Home not refreshed after Done")
	}
	if v := views[1].Args.Get("view"); strings.Contains(v, "Check in on a resolved thread") || !strings.Contains(v, "Your reminder") {
		t.Errorf("App Home after Done still lists the check-in: %s", v)
	}

	// /empathy stats: the first reply came before the frustration, so none is timed here.
	stats := h.command(agent, "stats")
	for _, want := range []string{"Frustrated threads: *1*", "reminders sent: 1", "follow-ups sent: 1", ":+1: 1"} {
		if !strings.Contains(stats, want) {
			t.Errorf("stats lack %q:\n%s", want, stats)
		}
	}
	// Snooze from a button: no more nudges for this agent.
	h.click(agent, "empathy_snooze_1h", "")
	g := "1700001201.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: g, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: g, Text: angry})
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
		t.Errorf("%d nudges after snoozing, want still 1", n)
	}

	// A personal reminder.
	if out := h.command(otherAgent, "remind 1s"); !strings.Contains(out, "remind you") {
		t.Errorf("remind: %s", out)
	}
	deadline := time.Now().Add(6 * time.Second)
	for {
		found := false
		for _, c := range h.fake.Calls("chat.postMessage") {
			if c.Args.Get("channel") == "D"+otherAgent && strings.Contains(c.Args.Get("blocks"), "You asked me to remind you") {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("personal reminder not delivered")
		}
		h.fake.WaitCalls("chat.postMessage", len(h.fake.Calls("chat.postMessage"))+1, 200*time.Millisecond)
	}
}

// With no agent list, team membership decides: a Slack Connect guest's ✅
// resolves nothing, a member's does. Reactions carry no team; both reactors
// wrote in the channel before, so the bot knows their teams from those
// messages: it asks Slack nothing about the Slack Connect customer, and
// once about the member (whether a guest of our workspace).
func TestEndToEndTeamDecidesWhoResolves(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.Agents = nil; c.FollowupAfter = time.Second })
	g, m := "1700001300.000100", "1700001301.000100"
	for _, th := range []string{g, m} {
		h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: th, Text: "Invoices are wrong again!"})
		h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: th, Text: "Fixed, sorry about that."})
	}
	h.react(customer, "white_check_mark", chSupport, g)
	h.react(agent, "white_check_mark", chSupport, m)
	h.waitDMs(m, 1, 6*time.Second)
	h.noMoreDMs(g, 0, 1500*time.Millisecond)
	calls := h.fake.Calls("users.info")
	if len(calls) != 1 || calls[0].Args.Get("user") != agent {
		t.Errorf("%d users.info calls (%v), want one, about the member", len(calls), calls)
	}
}

// Customers (here: a Slack Connect guest) get a polite refusal that reveals
// nothing, whatever they ask.
func TestEndToEndCustomersCannotUseTheCommand(t *testing.T) {
	h := startBot(t, func(c *Config) { c.Agents = nil })
	for _, text := range []string{"help", "stats", "oncall me", "remind 1h", "check hello", "tips"} {
		out := h.command(customer, text)
		if !strings.Contains(out, "isn't available") || strings.Contains(out, "empathy") {
			t.Errorf("customer /empathy %s: %s", text, out)
		}
	}
	if out := h.command(agent, "help"); !strings.Contains(out, "/empathy check") {
		t.Errorf("agent help: %s", out)
	}
}

// Slack's order, not arrival order: a frustrated customer message that
// arrives after the agent's later reply (a late delivery), or is redelivered
// after it, arms no "no reply" reminder and nudges nobody: the agent
// already answered it.
func TestLateDeliveryAfterTheAgentsReplyRemindsNobody(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = 2 * time.Second; c.ReminderRepeats = 1 })
	// Late delivery: the customer wrote at .000200, the agent at .000300,
	// but the agent's reply reaches the bot first.
	late := "1700007900.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: late, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: late, TS: "1700007900.000300", Text: "We're on it, Sam."})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: late, TS: "1700007900.000200", Text: angry})
	// Redelivery: recorded, answered, then delivered again.
	again := "1700007910.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: again, Text: "hello"})
	env, ev := h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: again, Text: angry})
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Fatal("no nudge for the customer the agent had not answered yet")
	}
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: again, Text: "Sorry Sam, fixing it now."})
	env2, err := h.fake.Redeliver(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env2, 2*time.Second); !ok {
		t.Fatal("redelivery not acked")
	}
	h.waitHandled(ev, 2)
	time.Sleep(3 * time.Second) // past the reminder's due time
	h.noMoreDMs(late, 0, 0)
	h.noMoreDMs(again, 0, 0)
	nudges := 0
	for _, c := range h.fake.Calls("chat.postEphemeral") {
		if strings.Contains(c.Args.Get("blocks"), "sounds frustrated") {
			nudges++
		}
	}
	if nudges != 1 {
		t.Errorf("%d nudges, want 1 (the late message was already answered)", nudges)
	}
}

// The reminder falls due while Slack rate-limits DMs, and the agent answers
// meanwhile: the reminder, retried from the queue, finds the thread
// answered and is not sent.
func TestReminderDueWhileTheAgentRepliesIsNotSent(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = time.Second; c.ReminderRepeats = 1 })
	th := "1700007920.000100"
	h.expectNudgeInAssignedThread(th, "no nudge")
	h.fake.RateLimitFor("chat.postMessage", 4*time.Second, 2*time.Second)
	time.Sleep(1500 * time.Millisecond) // due, and meeting 429s
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: th, Text: "Sorry Sam, on it now."})
	replied := time.Now()
	time.Sleep(5 * time.Second) // past the storm and the retries
	for _, c := range h.dmsAbout(th) {
		if c.At.After(replied) {
			t.Errorf("a reminder was sent %v after the agent replied", c.At.Sub(replied))
		}
	}
	if len(h.fake.Calls("chat.postMessage:429")) == 0 {
		t.Error("the reminder never met a 429: the test proved nothing")
	}
}

// EMPATHY_BUSINESS_HOURS reaches the follow-ups: outside the hours the
// nudge still comes at once, but the response reminder (1 s) waits for
// the next opening instead of firing now.
func TestBusinessHoursHoldTheReminder(t *testing.T) {
	t.Parallel()
	opens := (time.Now().UTC().Hour() + 2) % 24 // a window that is closed now
	h := startBot(t, func(c *Config) {
		c.ResponseReminder = time.Second
		c.ReminderRepeats = 1
		c.BusinessHours = fmt.Sprintf("Mon-Sun %02d:00-%02d:59 UTC", opens, opens)
	})
	th := "1700009100.000100"
	h.expectNudgeInAssignedThread(th, "no nudge outside business hours: nudges are never held")
	h.noMoreDMs(th, 0, 3*time.Second)
}

// Issue 24: "Remind me in 1 h" on a response reminder reminds the agent
// about that thread later and pauses nothing else; the reminder's Snooze
// used to pause all of the agent's nudges.
func TestEndToEndRemindLaterPausesNothingElse(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(c *Config) { c.ResponseReminder = time.Second })
	a := "1700001400.000100"
	h.angryInAgentsThread(a)
	rem := h.waitDMs(a, 1, 5*time.Second)
	out := string(h.click(agent, "empathy_remind_later", buttonValue(t, rem[0].Args.Get("blocks"), "empathy_remind_later")))
	if !strings.Contains(out, "remind you") {
		t.Errorf("remind later: %s", out)
	}
	nudges := len(h.fake.Calls("chat.postEphemeral"))
	b := "1700001401.000100"
	h.angryInAgentsThread(b)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", nudges+1, 5*time.Second); !ok {
		t.Error("no nudge after Remind me later on a reminder: the agent's nudges were paused")
	}
}

// Issue 24: an agent switches the bot off in one channel without a restart
// (/empathy unwatch, kept in Redis for every replica) and on again.
func TestEndToEndUnwatchAndWatchAChannel(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	if out := h.command(customer, "unwatch"); strings.Contains(out, "stopped") {
		t.Errorf("a customer switched the bot off: %s", out)
	}
	if out := h.command(agent, "unwatch"); !strings.Contains(out, "stopped reading") {
		t.Fatalf("unwatch: %s", out)
	}
	off := "1700001500.000100"
	h.angryInAgentsThread(off)
	if calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 1500*time.Millisecond); ok {
		t.Errorf("a nudge in a channel switched off: %v", calls)
	}
	if out := h.command(agent, "watch"); !strings.Contains(out, "reading") {
		t.Fatalf("watch: %s", out)
	}
	on := "1700001501.000100"
	h.angryInAgentsThread(on)
	if _, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second); !ok {
		t.Error("no nudge after /empathy watch")
	}
}

// angryInAgentsThread has the agent open thread and the customer answer it
// angrily, each recorded before the next.
func (h *harness) angryInAgentsThread(thread string) {
	h.t.Helper()
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: thread, Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
}

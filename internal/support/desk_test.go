package support_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/support"
	"empathybot/internal/support/supporttest"
)

const (
	ch       = "CSUP"
	cust     = "UCUST"
	dana     = "UDANA"
	lee      = "ULEE"
	angry    = "This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous."
	calm     = "Hi, how do I export invoices?"
	stillBad = "Hello?? Still broken. This is ridiculous."
)

// world is a desk on in-memory stores and a manual clock.
type world struct {
	t      *testing.T
	clock  *supporttest.Clock
	store  *supporttest.Memory
	queue  *supporttest.Queue
	notify *supporttest.Notifier
	desk   *support.Desk
	seq    int
	runs   []supporttest.Outcome
}

func newWorld(t *testing.T, agents ...string) *world {
	clock := supporttest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := &world{t: t, clock: clock, store: supporttest.NewMemory(clock.Now), queue: supporttest.NewQueue(clock), notify: &supporttest.Notifier{Clock: clock}}
	w.store.Outbox = w.queue
	dir := supporttest.Directory{}
	for _, a := range append([]string{dana, lee}, agents...) {
		dir[a] = true
	}
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, dir, support.Config{
		Cooldown: 10 * time.Minute, NudgeUseful: 15 * time.Minute, Agents: []string{dana, lee},
		Policy: support.Policy{ResponseAfter: 10 * time.Minute, FollowupAfter: 24 * time.Hour, MaxReminders: 2},
	})
	w.desk.Now = clock.Now
	return w
}

// setTriage rebuilds the desk with a triage channel.
func (w *world) setTriage(channel string) {
	cfg := w.desk.Config()
	cfg.Triage = channel
	dir := supporttest.Directory{dana: true, lee: true}
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, dir, cfg)
	w.desk.Now = w.clock.Now
}

// say records a message in thread (a new thread when thread is "") and
// runs what falls due; it returns the thread.
func (w *world) say(user, thread, text string) string {
	w.t.Helper()
	w.seq++
	ts := fmt.Sprintf("1764579600.%06d", w.seq*100)
	if thread == "" {
		thread = ts
	}
	o, err := w.desk.Message(context.Background(), support.Message{EventID: fmt.Sprintf("Ev%d", w.seq), Channel: ch, Thread: thread, TS: ts, User: user}, text)
	if err != nil {
		w.t.Fatal(err)
	}
	w.desk.After(context.Background(), o)
	w.run()
	return thread
}

// resolve is an agent's ✅: the record step, then what follows the ack.
func (w *world) resolve(thread, user string) error {
	_, after, err := w.desk.Resolve(context.Background(), ch, thread, user, "")
	if after != nil {
		after(context.Background())
	}
	w.run()
	return err
}

func (w *world) run() { w.runs = append(w.runs, w.queue.Run(context.Background(), w.desk)...) }

func (w *world) advance(d time.Duration) {
	w.clock.Advance(d)
	w.run()
}

// sent lists what was delivered as "kind→to", in order.
func (w *world) sent() []string {
	var out []string
	for _, s := range w.notify.Sent() {
		out = append(out, s.Kind+"→"+s.To)
	}
	return out
}

func (w *world) expect(want ...string) {
	w.t.Helper()
	if got := strings.Join(w.sent(), " "); got != strings.Join(want, " ") {
		w.t.Errorf("sent [%s], want [%s]", got, strings.Join(want, " "))
	}
}

// The follow-up rules, end to end through the desk, on a manual clock.
func TestDeskFollowUpRules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		play func(w *world)
		want []string
	}{
		{"a frustrated customer in an assigned thread: one nudge now, a reminder when unanswered, one firmer repeat, then no more",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Hi! Settings → Billing → Export.")
				w.say(cust, th, angry)
				w.advance(10 * time.Minute)
				w.advance(10 * time.Minute)
				w.advance(30 * time.Minute)
			}, []string{"nudge→" + dana, "response→" + dana, "response→" + dana}},
		{"an agent's reply cancels the reminder",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				w.say(cust, th, angry)
				w.advance(5 * time.Minute)
				w.say(dana, th, "I'm sorry you've had to chase this. I've fixed the invoice and will confirm by 3pm.")
				w.advance(time.Hour)
			}, []string{"nudge→" + dana}},
		{"a calm follow-up neither re-arms nor delays the reminder",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				w.say(cust, th, angry)
				w.advance(5 * time.Minute)
				w.say(cust, th, "Also, the invoice number is INV-2231.")
				w.advance(5 * time.Minute)
			}, []string{"nudge→" + dana, "response→" + dana}},
		{"cooldown: a second frustrated message within it nudges no one; after it, one more nudge",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				w.say(cust, th, angry)
				w.advance(2 * time.Minute)
				w.say(cust, th, stillBad)
				w.advance(9 * time.Minute) // past the cooldown, not past the (re-armed) reminder
				w.say(cust, th, "Seriously, this is unacceptable. Nobody is answering.")
			}, []string{"nudge→" + dana, "nudge→" + dana}},
		{"assignee: a claim beats the last replier",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				if err := w.desk.Claim(ctx, ch, th, lee, ""); err != nil {
					w.t.Fatal(err)
				}
				w.say(cust, th, angry)
			}, []string{"nudge→" + lee}},
		{"a new thread goes to the on-call agent; the reminder too",
			func(w *world) {
				w.store.SetOnCall(ctx, ch, lee)
				w.say(cust, "", angry)
				w.advance(10 * time.Minute)
			}, []string{"nudge→" + lee, "response→" + lee}},
		{"a customer recorded as on-call is never nudged: unassigned, and the reminder goes to the agents",
			func(w *world) {
				w.store.SetOnCall(ctx, ch, "UOTHERCUSTOMER")
				w.say(cust, "", angry)
				w.advance(10 * time.Minute)
			}, []string{"response→" + dana, "response→" + lee}},
		{"unassigned with nobody on call: no nudge (it would go to triage), the reminder to the agents",
			func(w *world) {
				w.say(cust, "", angry)
				w.advance(10 * time.Minute)
			}, []string{"response→" + dana, "response→" + lee}},
		{"unassigned with a triage channel: a card there; the reminder still goes to the agents",
			func(w *world) {
				w.setTriage("CTRIAGE")
				w.say(cust, "", angry)
				w.advance(10 * time.Minute)
			}, []string{"triage→CTRIAGE", "response→" + dana, "response→" + lee}},
		{"a claim from the triage card makes the claimer the assignee",
			func(w *world) {
				w.setTriage("CTRIAGE")
				th := w.say(cust, "", angry)
				if err := w.desk.Claim(ctx, ch, th, lee, ""); err != nil {
					w.t.Fatal(err)
				}
				w.advance(10 * time.Minute)
			}, []string{"triage→CTRIAGE", "response→" + lee}},
		{"a snoozed agent gets no nudge, and the cooldown is given back for after the snooze",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				w.store.Snooze(ctx, dana, 5*time.Minute)
				w.say(cust, th, angry)
				w.advance(6 * time.Minute)
				w.say(cust, th, stillBad) // re-arms the reminder: the first one is moot
				w.advance(10 * time.Minute)
			}, []string{"nudge→" + dana, "response→" + dana}},
		{"resolved: a check-in a day later to whoever resolved it",
			func(w *world) {
				th := w.say(cust, "", angry)
				w.say(dana, th, "Fixed it, sorry for the wait.")
				if err := w.resolve(th, dana); err != nil {
					w.t.Fatal(err)
				}
				w.advance(24 * time.Hour)
			}, []string{"review→" + dana, "followup→" + dana}},
		{"a customer who writes after the resolution reopens the thread: no check-in",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Fixed it.")
				w.resolve(th, dana)
				w.advance(time.Hour)
				w.say(cust, th, "thanks, it works now")
				w.advance(24 * time.Hour)
			}, nil},
		{"a customer's ✅ resolves nothing and a customer's 👀 claims nothing",
			func(w *world) {
				th := w.say(cust, "", calm)
				w.say(dana, th, "Looking.")
				if err := w.resolve(th, cust); !errors.Is(err, support.ErrNotAgent) {
					w.t.Errorf("a customer resolved: %v", err)
				}
				if err := w.desk.Claim(ctx, ch, th, cust, ""); !errors.Is(err, support.ErrNotAgent) {
					w.t.Errorf("a customer claimed: %v", err)
				}
				w.say(cust, th, angry)
			}, []string{"nudge→" + dana}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.play(w)
			w.expect(tc.want...)
		})
	}
}

// A nudge that waited in the queue past its usefulness (Slack or Redis away
// for a quarter of an hour) is dropped and counted, never sent late.
func TestDeskDropsAStaleNudge(t *testing.T) {
	w := newWorld(t)
	th := w.say(cust, "", calm)
	w.say(dana, th, "Looking.")
	w.notify.Fail = errors.New("slack away")
	w.say(cust, th, angry)
	w.advance(16 * time.Minute)
	w.notify.Fail = nil
	w.advance(time.Second)
	var outcomes []string
	for _, o := range w.runs {
		if o.Task.Nudge != nil && o.Err == nil {
			outcomes = append(outcomes, o.Outcome)
		}
	}
	if strings.Join(outcomes, ",") != support.Stale {
		t.Errorf("nudge outcomes %v, want [stale]", outcomes)
	}
	for _, s := range w.sent() {
		if strings.HasPrefix(s, "nudge") {
			t.Errorf("a stale nudge was sent: %v", w.sent())
		}
	}
}

// Redelivered: the same event twice is one nudge and one reminder. Redis
// away: the message is not recorded, the caller must not ack, nothing is
// queued; the redelivery later does the work once.
func TestDeskRedeliveryAndStoreDown(t *testing.T) {
	w := newWorld(t)
	th := w.say(cust, "", calm)
	w.say(dana, th, "Looking.")
	msg := support.Message{EventID: "EvAngry", Channel: ch, Thread: th, TS: "1764579600.900000", User: cust}
	w.store.Down = true
	if _, err := w.desk.Message(context.Background(), msg, angry); err == nil {
		t.Fatal("recorded with the store down")
	}
	if n := len(w.queue.Pending()); n != 0 {
		t.Fatalf("%d tasks queued for an unrecorded message", n)
	}
	w.store.Down = false
	for i := 0; i < 3; i++ {
		if _, err := w.desk.Message(context.Background(), msg, angry); err != nil {
			t.Fatal(err)
		}
		w.run()
	}
	w.advance(10 * time.Minute)
	w.expect("nudge→"+dana, "response→"+dana)
}

// Business hours: a reminder that falls due after closing waits for the
// next opening, and so does a check-in; within the hours nothing changes.
func TestDeskBusinessHours(t *testing.T) {
	hours, err := support.ParseHours("Mon-Fri 09:00-18:00 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	w := newWorld(t)
	cfg := w.desk.Config()
	cfg.Policy.Hours = hours
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, supporttest.Directory{dana: true, lee: true}, cfg)
	w.desk.Now = w.clock.Now
	// Friday 4 December 2026, 17:55 in Berlin.
	w.clock.Advance(time.Date(2026, 12, 4, 17, 55, 0, 0, berlin).Sub(w.clock.Now()))
	th := w.say(cust, "", calm)
	w.say(dana, th, "Looking.")
	w.say(cust, th, angry)
	w.advance(20 * time.Minute) // 18:15: closed
	w.expect("nudge→" + dana)
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	w.advance(monday.Add(-time.Second).Sub(w.clock.Now()))
	w.expect("nudge→" + dana)
	w.advance(time.Second)
	w.expect("nudge→"+dana, "response→"+dana)
	sent := w.notify.Sent()
	if at := sent[len(sent)-1].At; !at.Equal(monday) {
		t.Errorf("the reminder came at %s, want Monday 09:00", at.In(berlin))
	}
	// The firmer repeat at 09:10; a resolution at 10:00 with a 24 h
	// check-in: Tuesday 10:00, open.
	w.advance(time.Hour)
	if err := w.resolve(th, dana); err != nil {
		t.Fatal(err)
	}
	w.advance(24 * time.Hour)
	w.expect("nudge→"+dana, "response→"+dana, "response→"+dana, "followup→"+dana)
	// Resolved again on Friday at 17:00: the check-in due Saturday waits for Monday.
	th2 := w.say(cust, "", calm)
	w.say(dana, th2, "Done.")
	w.advance(time.Date(2026, 12, 11, 17, 0, 0, 0, berlin).Sub(w.clock.Now()))
	if err := w.resolve(th2, dana); err != nil {
		t.Fatal(err)
	}
	w.advance(time.Date(2026, 12, 14, 8, 59, 0, 0, berlin).Sub(w.clock.Now()))
	if n := len(w.notify.Sent()); n != 4 {
		t.Errorf("a check-in came over the weekend: %v", w.sent())
	}
	w.advance(time.Minute)
	if got := w.sent(); len(got) != 5 || got[4] != "followup→"+dana {
		t.Errorf("Monday 09:00: %v", got)
	}
}

// What agents do directly, checked by the desk: a customer is never on
// call and never snoozes, votes or handles reminders; a button naming
// another thread's task (or another agent's personal reminder) is refused;
// a vote counts once; open items that are no longer true drop out.
func TestDeskAgentActions(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if err := w.desk.SetOnCall(ctx, dana, "", ch, cust); !errors.Is(err, support.ErrNotAgent) {
		t.Errorf("a customer made on call: %v", err)
	}
	if err := w.desk.SetOnCall(ctx, cust, "", ch, dana); !errors.Is(err, support.ErrNotAgent) {
		t.Errorf("a customer set the on-call agent: %v", err)
	}
	if err := w.desk.SetOnCall(ctx, dana, "", ch, lee); err != nil {
		t.Fatal(err)
	}
	if d, err := w.desk.Snooze(ctx, dana, "", 30*24*time.Hour); err != nil || d != support.MaxSnooze {
		t.Errorf("snooze 30 days: %v %v, want clamped to %v", d, err, support.MaxSnooze)
	}
	if _, err := w.desk.Snooze(ctx, cust, "", time.Hour); !errors.Is(err, support.ErrNotAgent) {
		t.Errorf("a customer snoozed: %v", err)
	}
	// Votes: on a nudge Lee was sent (Dana is snoozed), once; its cue and
	// technique come from the nudge's record. A vote about a thread he was
	// not nudged in (a forged button), or by someone else, is refused.
	nt := w.say(cust, "", calm)
	w.say(lee, nt, "Looking.")
	w.say(cust, nt, angry)
	w.run()
	for i, want := range []bool{true, false} {
		if counted, cue, err := w.desk.Vote(ctx, lee, "", ch, nt, true); err != nil || counted != want || cue == "" {
			t.Errorf("vote %d: counted %v cue %q (%v), want %v", i+1, counted, cue, err, want)
		}
	}
	if _, _, err := w.desk.Vote(ctx, lee, "", ch, "1.1", true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("a vote on a nudge that was never sent: %v", err)
	}
	if _, _, err := w.desk.Vote(ctx, dana, "", ch, nt, true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("a vote on another agent's nudge: %v", err)
	}
	if st, _ := w.store.Stats(ctx, ch, w.clock.Now(), 7); st.Useful != 1 {
		t.Errorf("useful votes %d, want 1", st.Useful)
	}
	th := w.say(cust, "", calm)
	w.say(dana, th, "Looking.")
	w.say(cust, th, angry)
	w.advance(10 * time.Minute) // the reminder: an open item for Dana
	items, err := w.desk.OpenItems(ctx, dana, 20)
	if err != nil || len(items) != 1 {
		t.Fatalf("open items %v %v, want the reminder", items, err)
	}
	task := items[0].TaskID
	if err := w.desk.ReminderHandled(ctx, dana, "", support.KindResponse, ch, "9999.0001", task, true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("a task handled through another thread's button: %v", err)
	}
	// A made-up task of the right shape, or a reminder sent to someone
	// else, silences nothing.
	forged := support.Reminder{Kind: support.KindResponse, Channel: ch, Thread: th, Gen: 12345, N: 1}.ID()
	if err := w.desk.ReminderHandled(ctx, dana, "", support.KindResponse, ch, th, forged, true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("a made-up task ID: %v", err)
	}
	if err := w.desk.ReminderHandled(ctx, lee, "", support.KindResponse, ch, th, task, true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("Lee handled the reminder sent to Dana: %v", err)
	}
	if th2, _ := w.store.GetThread(ctx, ch, th); th2.RemindersDone {
		t.Error("a refused Done stopped the thread's reminders")
	}
	r, err := w.desk.RemindMe(ctx, lee, "", ch, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.desk.ReminderHandled(ctx, dana, "", support.KindPersonal, ch, "", r.ID(), true); !errors.Is(err, support.ErrBadRequest) {
		t.Errorf("Dana cancelled Lee's personal reminder: %v", err)
	}
	w.say(dana, th, "Sorry for the wait, Sam. Fixed, and I'll confirm by 3pm.")
	if items, _ := w.desk.OpenItems(ctx, dana, 20); len(items) != 0 {
		t.Errorf("the reminder is still open after the agent replied: %v", items)
	}
}

// A complaint in a language the coach does not read nudges nobody, but it
// is counted, so that the channel's week shows it (issue 22).
func TestUnscoredMessagesAreCounted(t *testing.T) {
	w := newWorld(t)
	th := w.say(cust, "", "Hola, la exportación no funciona desde ayer y nadie nos responde. Es inaceptable.")
	w.say(cust, th, "Das ist jetzt das dritte Mal, dass ich frage. Niemand antwortet uns.")
	w.say(cust, "", calm)
	w.expect()
	st, err := w.store.Stats(context.Background(), ch, w.clock.Now(), 7)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Counts[support.StatUnscored]; n != 2 {
		t.Errorf("unscored count %d, want 2 (the Spanish and the German message)", n)
	}
}

// pendingDirectory knows nobody yet on the record step (RoleNow) and
// knows its agents once it may ask (Role): an agent's first event after a
// restart, before users.info has answered.
type pendingDirectory map[string]bool

func (d pendingDirectory) RoleNow(string, string) support.Role { return support.Unplaced }
func (d pendingDirectory) Role(_ context.Context, user, _ string) support.Role {
	if d[user] {
		return support.Agent
	}
	return support.Customer
}

// The record step never guesses who someone is: a message or a reaction
// by an author the directory cannot place yet is ErrUnknownAuthor and
// records nothing (the message is left for Slack's redelivery; the
// reaction is queued for the handler, which may ask); a customer's
// reaction claims nothing.
func TestDeskRecordStepWaitsForIdentity(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	th := w.say(cust, "", "This is ridiculous, I've been waiting 3 days for an answer!")
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, pendingDirectory{dana: true}, w.desk.Config())
	w.desk.Now = w.clock.Now

	_, err := w.desk.Message(ctx, support.Message{EventID: "Ev-unplaced", Channel: ch, Thread: th, TS: "1764579600.999999", User: dana}, "On it, sorry for the wait.")
	if !errors.Is(err, support.ErrUnknownAuthor) {
		t.Fatalf("message by an unplaced author: err %v, want ErrUnknownAuthor", err)
	}
	// A reaction by an unplaced author is queued for the handler, which
	// may ask Slack; the record step applies nothing.
	if _, task, err := w.desk.React(ctx, ch, th, dana, support.ReactClaim); err != nil || !queued(w, task) {
		t.Fatalf("👀 by an unplaced agent: task %q, err %v; want it queued", task, err)
	}
	if got, _ := w.store.GetThread(ctx, ch, th); got.Assignee() != "" || got.AgentReplied {
		t.Fatalf("the record step guessed: assignee %q, agent replied %v", got.Assignee(), got.AgentReplied)
	}
	if err := w.desk.Claim(ctx, ch, th, dana, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.store.GetThread(ctx, ch, th); got.Assignee() != dana {
		t.Fatalf("assignee %q after Claim, want %s", got.Assignee(), dana)
	}
	if err := w.desk.Claim(ctx, ch, th, cust, ""); !errors.Is(err, support.ErrNotAgent) {
		t.Fatalf("a customer's claim: err %v, want ErrNotAgent", err)
	}

	// With a directory that knows: a customer's ✅ resolves nothing.
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, supporttest.Directory{dana: true}, w.desk.Config())
	if _, task, err := w.desk.React(ctx, ch, th, cust, support.ReactResolve); !errors.Is(err, support.ErrNotAgent) || task != "" {
		t.Fatalf("a customer's ✅: task %q, err %v; want ErrNotAgent and nothing queued", task, err)
	}
	if got, _ := w.store.GetThread(ctx, ch, th); got.Resolved {
		t.Fatal("a customer's ✅ resolved the thread")
	}
	// An agent's ✅ on a reply (not a thread the store tracks) is queued:
	// Slack must say which thread it is in.
	if _, task, err := w.desk.React(ctx, ch, "1764579600.888888", dana, support.ReactResolve); err != nil || !queued(w, task) {
		t.Fatalf("an agent's ✅ on a reply: task %q, err %v; want it queued", task, err)
	}
	// On the thread itself, it is applied at once.
	after, task, err := w.desk.React(ctx, ch, th, dana, support.ReactResolve)
	if err != nil || task != "" {
		t.Fatalf("an agent's ✅ on the thread: task %q, err %v; want it applied at once", task, err)
	}
	if after != nil {
		after(ctx)
	}
	if got, _ := w.store.GetThread(ctx, ch, th); !got.Resolved || got.ResolvedBy != dana {
		t.Fatalf("after an agent's ✅: resolved %v by %q", got.Resolved, got.ResolvedBy)
	}
}

// queued reports whether task is a KindReaction task waiting in the queue.
func queued(w *world, task string) bool {
	for _, p := range w.queue.Pending() {
		if p.ID == task && strings.HasPrefix(task, support.KindReaction+":") {
			return true
		}
	}
	return false
}

package support_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/support"
	"empathybot/internal/support/supporttest"
)

const hostile = "This is fucking ridiculous, the third time I'm asking and it's still broken!"

// The window is the last 4 working hours: with business hours, closed
// hours do not count.
func TestLoadWindow(t *testing.T) {
	h, err := support.ParseHours("Mon-Fri 09:00-18:00 UTC")
	if err != nil {
		t.Fatal(err)
	}
	mon10 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC) // a Monday
	if got, want := support.WorkingSince(h, mon10, support.LoadWindow), time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Monday 10:00 looks back to %v, want Friday 15:00", got)
	}
	if got := support.WorkingSince(support.Hours{}, mon10, support.LoadWindow); !got.Equal(mon10.Add(-4 * time.Hour)) {
		t.Errorf("always open: %v", got)
	}
	entries := []support.LoadEntry{
		{At: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC), Thread: "C:1", Excess: 0.3},                // Friday, before the window
		{At: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), Thread: "C:2", Excess: 0.2, Hostile: true}, // Friday, in it
		{At: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), Thread: "C:3", Excess: 0.3},                // Sunday: closed
		{At: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC), Thread: "C:2", Excess: 0.25},
	}
	l := support.LoadOf(entries, mon10, h)
	if l.Threads != 1 || l.Hostile != 1 || l.Sum < 0.449 || l.Sum > 0.451 {
		t.Errorf("load %+v, want one thread, one hostile message, 0.45", l)
	}
	if l := support.LoadOf(entries, mon10.Add(5*time.Hour), h); l.Threads != 0 || l.Sum != 0 {
		t.Errorf("five hours later (15:00, the window from 11:00) nothing is left: %+v", l)
	}
	if l := support.LoadOf(entries, mon10.Add(90*time.Minute), h); l.Threads != 1 || l.Hostile != 0 {
		t.Errorf("at 11:30 (the window from Friday 16:30) only Monday's entry: %+v", l)
	}
}

func loadWorld(t *testing.T, breatherAt float64, hours string, agents ...string) *world {
	w := newWorld(t)
	cfg := w.desk.Config()
	cfg.BreatherAt = breatherAt
	cfg.Agents = agents
	cfg.Triage = "CTRIAGE"
	if hours != "" {
		h, err := support.ParseHours(hours)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policy.Hours = h
	}
	dir := supporttest.Directory{}
	for _, a := range append(agents, dana, lee) {
		dir[a] = true
	}
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, dir, cfg)
	w.desk.Now = w.clock.Now
	return w
}

func countSent(w *world, kind, to string) int {
	n := 0
	for _, s := range w.notify.Sent() {
		if s.Kind == kind && (to == "" || s.To == to) {
			n++
		}
	}
	return n
}

// A run of hostile messages in threads Dana owns: one breather DM, not
// another within 2 hours, another after; the load is hers, not Lee's.
func TestBreather(t *testing.T) {
	ctx := context.Background()
	w := loadWorld(t, 1.0, "", dana, lee)
	for i := 0; i < 6; i++ {
		th := w.say(cust, "", calm)
		w.say(dana, th, "Hi! Looking into it.")
		w.say(cust, th, hostile)
		w.advance(5 * time.Minute)
	}
	if n := countSent(w, support.KindBreather, dana); n != 1 {
		t.Fatalf("%d breathers to Dana, want 1 (sent %v)", n, w.sent())
	}
	if n := countSent(w, support.KindBreather, ""); n != 1 {
		t.Errorf("breathers to someone else: %v", w.sent())
	}
	l, err := w.desk.AgentLoad(ctx, dana)
	if err != nil || l.Threads != 6 || l.Hostile != 6 {
		t.Errorf("Dana's load %+v (%v)", l, err)
	}
	if l, _ := w.desk.AgentLoad(ctx, lee); l.Threads != 0 {
		t.Errorf("Lee's load %+v", l)
	}
	w.advance(30 * time.Minute)
	th := w.say(cust, "", calm)
	w.say(dana, th, "Hi!")
	w.say(cust, th, hostile)
	if n := countSent(w, support.KindBreather, dana); n != 1 {
		t.Errorf("a second breather within 2 hours")
	}
	w.advance(2 * time.Hour)
	th = w.say(cust, "", calm)
	w.say(dana, th, "Hi!")
	for i := 0; i < 5; i++ {
		w.say(cust, th, hostile)
	}
	if n := countSent(w, support.KindBreather, dana); n != 2 {
		t.Errorf("%d breathers after 2 hours and a new run, want 2", n)
	}
}

// Never outside business hours.
func TestBreatherWaitsForBusinessHours(t *testing.T) {
	// The world's clock starts Tuesday 1 December 2026, 09:00 UTC.
	w := loadWorld(t, 0.5, "Mon-Fri 10:00-18:00 UTC", dana)
	for i := 0; i < 4; i++ {
		th := w.say(cust, "", calm)
		w.say(dana, th, "Hi!")
		w.say(cust, th, hostile)
	}
	if n := countSent(w, support.KindBreather, ""); n != 0 {
		t.Errorf("a breather before opening time: %v", w.sent())
	}
}

// A paused agent gets no on-call nudge while another on-call agent does;
// of two available, the least-loaded gets it; their own threads still
// remind them.
func TestPauseAndLeastLoaded(t *testing.T) {
	ctx := context.Background()
	w := loadWorld(t, 0, "", dana, lee)
	if err := w.desk.SetOnCall(ctx, dana, "", ch, dana+","+lee); err != nil {
		t.Fatal(err)
	}
	// Dana has had a hard hour in her own threads.
	for i := 0; i < 3; i++ {
		th := w.say(cust, "", calm)
		w.say(dana, th, "Hi!")
		w.say(cust, th, hostile)
	}
	before := countSent(w, "nudge", lee)
	w.say(cust, "", angry) // a thread nobody owns
	if got := countSent(w, "nudge", lee); got != before+1 {
		t.Fatalf("the least-loaded on-call agent (Lee) got %d nudges, want one more (sent %v)", got-before, w.sent())
	}
	if _, err := w.desk.Pause(ctx, lee, "", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	danaBefore := countSent(w, "nudge", dana)
	w.advance(time.Minute)
	w.say(cust, "", angry)
	if countSent(w, "nudge", lee) != before+1 || countSent(w, "nudge", dana) != danaBefore+1 {
		t.Errorf("with Lee paused the nudge goes to Dana: sent %v", w.sent())
	}
	// Both paused: the triage card, naming nobody.
	if _, err := w.desk.Pause(ctx, dana, "", 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	w.say(cust, "", angry)
	if countSent(w, "triage", "") != 1 {
		t.Errorf("with everyone on call paused: sent %v, want a triage card", w.sent())
	}
	if _, err := w.desk.Pause(ctx, cust, "", time.Minute); err == nil {
		t.Error("a customer paused")
	}
	if _, err := w.desk.Pause(ctx, dana, "", 9*time.Hour); err == nil {
		t.Error("a 9-hour pause accepted")
	}
	// Everyone paused and nobody owns the thread: the response reminder
	// still reaches the configured agents (a customer waits).
	if err := w.desk.SetOnCall(ctx, dana, "", ch, ""); err != nil {
		t.Fatal(err)
	}
	nobodys := w.say(cust, "", angry)
	w.advance(11 * time.Minute)
	var to []string
	for _, s := range w.notify.Sent() {
		if s.Kind == support.KindResponse && s.Thread == nobodys {
			to = append(to, s.To)
		}
	}
	if strings.Join(to, ",") != dana+","+lee {
		t.Errorf("with everyone paused, the response reminder went to %v, want each configured agent", to)
	}
	// Her own thread still reminds the paused agent.
	th := w.say(cust, "", calm)
	w.say(dana, th, "Hi!")
	w.say(cust, th, angry)
	w.advance(11 * time.Minute)
	if !strings.Contains(strings.Join(w.sent(), " "), "response→"+dana) {
		t.Errorf("a paused agent's own thread did not remind her: %v", w.sent())
	}
}

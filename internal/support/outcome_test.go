package support_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/support"
	"empathybot/internal/support/supporttest"
)

func TestClassify(t *testing.T) {
	const th = 0.65
	for _, tc := range []struct {
		trigger, next float64
		want          string
	}{
		{0.90, 0.20, support.ResultDeescalated},
		{0.90, 0.70, support.ResultUnchanged},   // still at or above the threshold
		{0.70, 0.55, support.ResultUnchanged},   // under the threshold, but only 0.15 below
		{0.70, 0.50, support.ResultDeescalated}, // 0.2 below and under
		{0.90, 0.90, support.ResultEscalated},
		{0.80, 0.95, support.ResultEscalated},
	} {
		if got := support.Classify(tc.trigger, tc.next, th); got != tc.want {
			t.Errorf("Classify(%.2f, %.2f) = %s, want %s", tc.trigger, tc.next, got, tc.want)
		}
	}
}

// The life of a moment, rule by rule, on a manual clock.
func TestMomentRules(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	frus := support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	calmV := support.Verdict{Score: 0.2}
	arm := func(string) string { return support.ArmNudge }
	open := func() *support.Moment {
		m, changed, settled := support.OnCustomer(nil, "1.1", t0, frus, 0.65, arm)
		if m == nil || !changed || len(settled) != 0 || m.Arm != support.ArmNudge || m.Cue != "waiting" {
			t.Fatalf("a frustrated message opens a moment: %+v %v %v", m, changed, settled)
		}
		return m
	}

	t.Run("answered and calmer: de-escalated", func(t *testing.T) {
		m := open()
		if _, changed, _ := support.OnCustomer(m, "1.1", t0, frus, 0.65, arm); changed {
			t.Error("the trigger read again changed the moment")
		}
		if _, changed, _ := support.OnCustomer(m, "1.2", t0.Add(time.Minute), frus, 0.65, arm); changed {
			t.Error("a second message before any reply changed the moment")
		}
		if !support.OnReply(m, t0.Add(10*time.Minute), true) || support.OnReply(m, t0.Add(11*time.Minute), false) {
			t.Fatal("the first reply is the moment's, and only the first")
		}
		m, _, settled := support.OnCustomer(m, "1.3", t0.Add(time.Hour), calmV, 0.65, arm)
		if m.Result != support.ResultDeescalated || len(settled) != 1 || !settled[0].Ack {
			t.Fatalf("got %+v, settled %+v", m, settled)
		}
		want := []string{"oc:nudge:deesc", "oc:nudge:deesc:cue:waiting", "oc:nudge:deesc:ack:yes"}
		if got := settled[0].Fields(); !slices.Equal(got, want) {
			t.Errorf("fields %v, want %v", got, want)
		}
	})
	t.Run("no answer within a day of the reply: silent, not calm", func(t *testing.T) {
		m := open()
		support.OnReply(m, t0.Add(time.Hour), false)
		if tl, next := support.Check(m, t0.Add(24*time.Hour)); tl != nil || !next.Equal(t0.Add(25*time.Hour)) {
			t.Fatalf("checked a day after the trigger: %+v, next %v; want the answer window to run from the reply", tl, next)
		}
		tl, _ := support.Check(m, t0.Add(25*time.Hour))
		if tl == nil || tl.Result != support.ResultSilent || m.Result != support.ResultSilent {
			t.Fatalf("a day after the reply: %+v", tl)
		}
		if !slices.Contains(tl.Fields(), "oc:nudge:silent:ack:no") {
			t.Errorf("fields %v", tl.Fields())
		}
	})
	t.Run("an answer after the window: silent, then read afresh", func(t *testing.T) {
		m := open()
		support.OnReply(m, t0.Add(time.Hour), true)
		m, _, settled := support.OnCustomer(m, "1.5", t0.Add(26*time.Hour), calmV, 0.65, arm)
		if m.Result != support.ResultSilent || len(settled) != 1 {
			t.Fatalf("got %+v %+v", m, settled)
		}
	})
	t.Run("no agent reply within a day", func(t *testing.T) {
		m := open()
		tl, _ := support.Check(m, t0.Add(24*time.Hour))
		if tl == nil || tl.Result != support.ResultNoReply {
			t.Fatalf("got %+v", tl)
		}
		if support.OnReply(m, t0.Add(25*time.Hour), true) {
			t.Error("a reply after the moment settled changed it")
		}
	})
	t.Run("re-escalation once within 72 h, then a new moment", func(t *testing.T) {
		m := open()
		support.OnReply(m, t0.Add(time.Hour), true)
		m, _, _ = support.OnCustomer(m, "1.6", t0.Add(2*time.Hour), calmV, 0.65, arm)
		m, changed, settled := support.OnCustomer(m, "1.7", t0.Add(30*time.Hour), frus, 0.65, arm)
		if !changed || len(settled) != 1 || settled[0].Result != support.Reescalated || !m.Reescalated {
			t.Fatalf("frustrated again within 72 h: %+v %+v", m, settled)
		}
		if _, changed, _ := support.OnCustomer(m, "1.8", t0.Add(40*time.Hour), frus, 0.65, arm); changed {
			t.Error("re-escalation counted twice")
		}
		next, changed, _ := support.OnCustomer(m, "1.9", t0.Add(73*time.Hour), frus, 0.65, arm)
		if !changed || next.TS != "1.9" || !next.Open() {
			t.Fatalf("after 72 h a frustrated message opens a new moment: %+v", next)
		}
	})
	t.Run("escalated", func(t *testing.T) {
		m := open()
		support.OnReply(m, t0.Add(time.Hour), false)
		m, _, _ = support.OnCustomer(m, "1.4", t0.Add(2*time.Hour), support.Verdict{Score: 0.95, Frustrated: true}, 0.65, arm)
		if m.Result != support.ResultEscalated {
			t.Fatalf("got %+v", m)
		}
	})
}

// The holdout splits every cue kind in the configured proportion, the
// same way every time for a key, and differently for another key.
func TestHoldoutBalance(t *testing.T) {
	h := support.Holdout{Fraction: 0.1, Key: []byte("k1")}
	other := support.Holdout{Fraction: 0.1, Key: []byte("k2")}
	kinds := []string{"", "waiting", "repeated_contact", "churn_threat", "profanity"}
	differ := 0
	for _, kind := range kinds {
		held := 0
		for i := 0; i < 10000; i++ {
			thread := fmt.Sprintf("1764579600.%06d", i)
			a := h.Arm("CSUP", thread, kind)
			if a != h.Arm("CSUP", thread, kind) {
				t.Fatal("the same moment got two arms")
			}
			if a == support.ArmHoldout {
				held++
			}
			if a != other.Arm("CSUP", thread, kind) {
				differ++
			}
		}
		// Binomial(10000, 0.1): sd 30; 4 sd either side.
		if held < 880 || held > 1120 {
			t.Errorf("cue %q: %d of 10000 held out, want about 1000", kind, held)
		}
	}
	if differ < 5000 {
		t.Errorf("another key changed only %d of 50000 assignments", differ)
	}
	if (support.Holdout{}).Arm("CSUP", "1.1", "waiting") != support.ArmNudge {
		t.Error("no holdout holds out")
	}
}

// Thompson sampling finds a known-best technique: after 600 simulated
// nudged moments (true de-escalation rates 30%, 40%, 55%), it picks the best
// at least 80% of the time, and never less than the exploration floor
// allows for the others.
func TestThompsonFindsTheBestTechnique(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	techs := []string{"a", "b", "c"}
	truth := map[string]float64{"a": 0.30, "b": 0.40, "c": 0.55}
	post := map[string]support.Record{}
	for i := 0; i < 600; i++ {
		pick, prob := support.Choose(rng, techs, post)
		if prob < support.ExploreFloor/3-1e-9 || prob > 1 {
			t.Fatalf("choice probability %.3f out of range", prob)
		}
		r := post[pick]
		if rng.Float64() < truth[pick] {
			r.Wins++
		} else {
			r.Losses++
		}
		post[pick] = r
	}
	best := 0
	for i := 0; i < 1000; i++ {
		if p, _ := support.Choose(rng, techs, post); p == "c" {
			best++
		}
	}
	if best < 800 {
		t.Errorf("after 600 moments the best technique is picked %d of 1000 times, want ≥ 800 (posteriors %+v)", best, post)
	}
	if p, prob := support.Choose(rng, []string{"only"}, nil); p != "only" || prob != 1 {
		t.Errorf("one technique: %q %.2f", p, prob)
	}
}

func TestLift(t *testing.T) {
	st := support.ChannelStats{Counts: map[string]int{
		"oc:nudge:deesc": 60, "oc:nudge:same": 30, "oc:nudge:esc": 10, "oc:nudge:silent": 7,
		"oc:holdout:deesc": 40, "oc:holdout:same": 45, "oc:holdout:esc": 15, "oc:holdout:noreply": 3,
		"oc:nudge:deesc:tech:take ownership": 25, "oc:nudge:same:tech:take ownership": 5,
	}}
	l := support.LiftOf(st, 0.5)
	if l.Nudged.Answered() != 100 || l.Held.Answered() != 100 || l.Nudged.Silent != 7 || l.Held.NoReply != 3 {
		t.Fatalf("counts %+v %+v", l.Nudged, l.Held)
	}
	if math.Abs(l.Diff-0.20) > 1e-9 || !(l.Lo > 0.05 && l.Lo < 0.20 && l.Hi > 0.20 && l.Hi < 0.35) {
		t.Errorf("difference %.3f [%.3f, %.3f], want 0.20 within a 95%% interval of about ±0.13", l.Diff, l.Lo, l.Hi)
	}
	if l.Needed < 700 || l.Needed > 800 || l.Enough {
		t.Errorf("needed %d (enough %v); want about 780 for a 10-point difference at a 50/50 split", l.Needed, l.Enough)
	}
	if got := support.LiftOf(st, 0.1).Needed; got < 2100 || got > 2250 {
		t.Errorf("at a 10%% holdout, needed %d, want about 2180", got)
	}
	if got := support.Breakdown(l.ByTech, false); !slices.Equal(got, []string{"take ownership"}) {
		t.Errorf("breakdown %v", got)
	}
	if got := support.Breakdown(l.ByTech, true); len(got) != 0 {
		t.Errorf("breakdown with a holdout and no held-out counts: %v", got)
	}
}

// End to end through the desk on the manual clock: a nudged thread whose
// customer calms down after an acknowledging reply counts as de-escalated;
// a held-out one gets no nudge, and its outcome is counted in its arm.
func TestDeskMeasuresOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		holdout float64
		nudges  int
		field   string
	}{
		{"nudged", 0, 1, "oc:nudge:deesc"},
		{"held out", 1, 0, "oc:holdout:deesc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			cfg := w.desk.Config()
			cfg.Holdout = support.Holdout{Fraction: tc.holdout, Key: []byte("test")}
			w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, supporttest.Directory{dana: true, lee: true}, cfg)
			w.desk.Now = w.clock.Now
			th := w.say(cust, "", calm)
			w.say(dana, th, "Hi! Settings → Billing → Export.")
			w.say(cust, th, angry)
			nudges := 0
			for _, s := range w.sent() {
				if strings.HasPrefix(s, "nudge→") {
					nudges++
				}
			}
			if nudges != tc.nudges {
				t.Fatalf("sent %v, want %d nudge(s)", w.sent(), tc.nudges)
			}
			m, _, err := w.store.GetMoment(ctx, ch, th)
			if err != nil || m == nil || !m.Open() {
				t.Fatalf("moment %+v, %v", m, err)
			}
			if tc.nudges > 0 && (m.Technique == "" || m.Prob <= 0) {
				t.Errorf("the nudge's technique and its probability are not on the moment: %+v", m)
			}
			w.advance(5 * time.Minute)
			w.say(dana, th, "I'm so sorry you've had to chase this, that's really frustrating. I've fixed the export and I'll check with you tomorrow.")
			w.advance(20 * time.Minute)
			w.say(cust, th, "Thanks, that works now.")
			st, err := w.store.Stats(ctx, ch, w.clock.Now(), 7)
			if err != nil {
				t.Fatal(err)
			}
			if st.Counts[tc.field] != 1 || st.Counts[tc.field+":ack:yes"] != 1 {
				t.Errorf("counts %v, want one %s with an acknowledging reply", st.Counts, tc.field)
			}
			if err := w.resolve(th, dana); err != nil {
				t.Fatal(err)
			}
			if m, _, _ := w.store.GetMoment(ctx, ch, th); m == nil || m.ResolvedAt != w.clock.Now().UnixMilli() || m.Result != support.ResultDeescalated {
				t.Errorf("the resolution is not on the settled moment: %+v", m)
			}
			// The day's check finds it settled: nothing counted twice.
			w.advance(25 * time.Hour)
			st, _ = w.store.Stats(ctx, ch, w.clock.Now(), 7)
			if st.Counts[tc.field] != 1 || st.Counts["oc:nudge:silent"]+st.Counts["oc:holdout:silent"] != 0 {
				t.Errorf("after the check: %v", st.Counts)
			}
			if m, _, _ := w.store.GetMoment(ctx, ch, th); m == nil || m.CheckinAt == 0 {
				t.Errorf("the check-in is not on the moment: %+v", m)
			}
			learned, _ := w.store.Stats(ctx, support.LearnChannel, w.clock.Now(), 7)
			wins := 0
			for f, n := range learned.Counts {
				if strings.HasSuffix(f, ":win") {
					wins += n
				}
			}
			if wins != tc.nudges {
				t.Errorf("the learner counted %d wins (%v), want %d", wins, learned.Counts, tc.nudges)
			}
		})
	}
}

// The leads' report: one per period, to each lead once, the next armed as
// it is sent, over the watched channels' moments.
func TestDeskReportsToLeads(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	cfg := w.desk.Config()
	cfg.Leads, cfg.ReportEvery, cfg.Channels = []string{"ULEAD1", "ULEAD2"}, 24*time.Hour, []string{ch}
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), w.store, w.queue, w.notify, supporttest.Directory{dana: true, lee: true}, cfg)
	w.desk.Now = w.clock.Now
	for i := 0; i < 3; i++ { // every replica arms it at start: one task
		if err := w.desk.ScheduleReport(ctx); err != nil {
			t.Fatal(err)
		}
	}
	th := w.say(cust, "", calm)
	w.say(dana, th, "Hi! Settings → Billing → Export.")
	w.say(cust, th, angry)
	reports := func() []string {
		var out []string
		for _, s := range w.notify.Sent() {
			if s.Kind == "report" {
				out = append(out, s.To+" "+s.Text)
			}
		}
		return out
	}
	w.advance(15 * time.Hour) // the clock starts at 09:00: the period ends at midnight
	if got := reports(); !slices.Equal(got, []string{"ULEAD1 moments=1 deesc=0", "ULEAD2 moments=1 deesc=0"}) {
		t.Fatalf("first period: %v", got)
	}
	w.advance(24 * time.Hour)
	if got := reports(); len(got) != 4 || got[2] != "ULEAD1 moments=0 deesc=0" {
		t.Fatalf("second period: %v", got)
	}
}

// The technique of a nudge: with EMPATHY_TIPS=fixed the catalogue's first
// for the cue, with probability 1; learned, the one that has de-escalated
// (read from the learner's counts), nearly always, never with certainty.
func TestDeskTechniqueChoice(t *testing.T) {
	ctx := context.Background()
	c := coach.Default()
	basis := c.Basis(c.Assess(angry))
	techs := c.Techniques(basis)
	if len(techs) < 2 {
		t.Fatalf("the cue of the test message has %d techniques; the test needs two or more", len(techs))
	}
	firstNudge := func(fixed bool, seed func(*world)) support.Moment {
		w := newWorld(t)
		cfg := w.desk.Config()
		cfg.FixedTips = fixed
		w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), c, w.store, w.queue, w.notify, supporttest.Directory{dana: true, lee: true}, cfg)
		w.desk.Now = w.clock.Now
		if seed != nil {
			seed(w)
		}
		th := w.say(cust, "", calm)
		w.say(dana, th, "Hi! Settings → Billing → Export.")
		w.say(cust, th, angry)
		m, _, err := w.store.GetMoment(ctx, ch, th)
		if err != nil || m == nil {
			t.Fatalf("no moment: %v", err)
		}
		return *m
	}
	if m := firstNudge(true, nil); m.Technique != techs[0] || m.Prob != 1 {
		t.Errorf("fixed: technique %q with probability %.2f, want %q with 1", m.Technique, m.Prob, techs[0])
	}
	best := techs[len(techs)-1]
	learned := func(w *world) {
		for _, tech := range techs {
			for i := 0; i < 100; i++ {
				_ = w.store.Count(ctx, support.LearnChannel, w.clock.Now(), support.LearnField(string(basis.Kind), tech, tech == best))
			}
		}
	}
	picked := 0
	for i := 0; i < 40; i++ {
		m := firstNudge(false, learned)
		if m.Technique == best {
			picked++
		}
		if m.Prob <= 0 || m.Prob >= 1 {
			t.Fatalf("learned: probability %.3f, want in (0, 1): exploration never stops", m.Prob)
		}
	}
	if picked < 28 {
		t.Errorf("learned: the technique that de-escalated was picked %d of 40 times, want most", picked)
	}
}

// statsCounter counts the Stats reads of a store.
type statsCounter struct {
	*supporttest.Memory
	reads int
}

func (s *statsCounter) Stats(ctx context.Context, channel string, now time.Time, days int) (support.ChannelStats, error) {
	if channel == support.LearnChannel {
		s.reads++
	}
	return s.Memory.Stats(ctx, channel, now, days)
}

// The learner reads its counts (60 days of a stats hash) at most once a
// minute, for every cue kind at once, however many nudges it chooses for.
func TestLearnerReadsOnceAMinute(t *testing.T) {
	w := newWorld(t)
	counted := &statsCounter{Memory: w.store}
	w.desk = support.NewDesk(slog.New(slog.NewTextHandler(io.Discard, nil)), coach.Default(), counted, w.queue, w.notify,
		supporttest.Directory{dana: true, lee: true}, w.desk.Config())
	w.desk.Now = w.clock.Now
	for _, text := range []string{angry, stillBad, "I've been waiting two days for a reply. Unacceptable.", angry} {
		th := w.say(cust, "", calm)
		w.say(dana, th, "Hi! Settings → Billing → Export.")
		w.say(cust, th, text)
	}
	if counted.reads != 1 {
		t.Fatalf("four nudges within a minute read the learner's counts %d times, want 1", counted.reads)
	}
	w.clock.Advance(2 * time.Minute)
	th := w.say(cust, "", calm)
	w.say(dana, th, "Hi! Settings → Billing → Export.")
	w.say(cust, th, angry)
	if counted.reads != 2 {
		t.Fatalf("a nudge two minutes later: %d reads, want 2 (the counts are read again after a minute)", counted.reads)
	}
}

package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"empathybot/internal/coach"
	"empathybot/internal/corpus"
	"empathybot/internal/support"
)

// outcomes replays the conversations of a twcs file (customer tweets, the
// company's replies, the customer's next tweets) through the outcome code
// the bot runs (support.OnCustomer, OnReply, Check), scoring each customer
// tweet with the coach as the bot would in a thread, and prints the
// results of the frustrated moments by whether the company's first reply
// acknowledged the feeling (the reply review). Nobody was nudged: this is
// observation, not an experiment (the angriest customers get the
// apologies), which is why the bot's own holdout exists. It also prints the
// same table with the annotators' labels in place of the coach's verdicts,
// so the definitions are exercised on both.
func outcomes(path string, w io.Writer) error {
	tweets, err := corpus.ReadTWCS(path)
	if err != nil {
		return err
	}
	convs := map[string][]corpus.Tweet{}
	for _, t := range tweets {
		if t.At.IsZero() {
			return fmt.Errorf("%s: tweet %s has no created_at: the replay needs the order", path, t.ID)
		}
		convs[t.Conversation] = append(convs[t.Conversation], t)
	}
	c := coach.Default()
	type key struct{ who, result string }
	tables := map[string]map[key]int{"coach": {}, "labels": {}}
	moments := map[string]int{}
	ids := make([]string, 0, len(convs))
	for id := range convs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	arm := func(string) string { return "observed" }
	for _, id := range ids {
		ts := convs[id]
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].At.Before(ts[j].At) })
		for _, reader := range []string{"coach", "labels"} {
			var m *support.Moment
			unanswered, lastFrus := 0, false
			var last time.Time
			settle := func(t []support.Tally) {
				for _, x := range t {
					who := "reply did not acknowledge"
					switch {
					case x.Result == support.ResultNoReply:
						who = "no reply within 24 h"
					case x.Ack:
						who = "reply acknowledged"
					}
					tables[reader][key{who, x.Result}]++
				}
			}
			for _, t := range ts {
				last = t.At
				if t.Author != "customer" {
					support.OnReply(m, t.At, coach.Acknowledges(c.Review(t.Text, coach.Assessment{Frustrated: true})))
					unanswered, lastFrus = 0, false
					continue
				}
				var v support.Verdict
				if reader == "coach" {
					v = support.VerdictOf(c.InThread(c.Assess(t.Text), coach.Earlier{Unanswered: unanswered, Frustrated: lastFrus}))
				} else {
					if t.Frustrated == nil || *t.Frustrated < 0 {
						continue // the annotators disagreed
					}
					v = support.Verdict{Frustrated: *t.Frustrated == 1}
					if v.Frustrated {
						v.Score = 1
					}
				}
				prevTS := ""
				if m != nil {
					prevTS = m.TS
				}
				next, _, settled := support.OnCustomer(m, t.ID, t.At, v, c.Threshold, arm)
				if next != nil && next.TS != prevTS && next.TS == t.ID {
					moments[reader]++
				}
				m = next
				settle(settled)
				unanswered++
				lastFrus = v.Frustrated
			}
			if x, _ := support.Check(m, last.Add(72*time.Hour)); x != nil {
				settle([]support.Tally{*x})
			}
		}
	}
	fmt.Fprintf(w, "Outcomes of frustrated moments in %s (%d conversations), replayed through support.OnCustomer/OnReply/Check.\n", path, len(convs))
	fmt.Fprintln(w, "Observation only: nobody was nudged, and the angriest customers get the apologies.")
	for _, reader := range []string{"coach", "labels"} {
		what := "the coach's verdicts (threshold " + fmt.Sprint(c.Threshold) + ")"
		if reader == "labels" {
			what = "the annotators' labels (scores 1 and 0: calm after the reply = de-escalated)"
		}
		fmt.Fprintf(w, "\nWith %s: %d moments\n", what, moments[reader])
		fmt.Fprintf(w, "%-28s %8s %8s %8s %8s %8s %8s %8s\n", "", "answered", "deesc", "same", "esc", "rate", "silent", "noreply")
		for _, who := range []string{"reply acknowledged", "reply did not acknowledge"} {
			t := tables[reader]
			d, s, e := t[key{who, support.ResultDeescalated}], t[key{who, support.ResultUnchanged}], t[key{who, support.ResultEscalated}]
			n := d + s + e
			rate := "-"
			if n > 0 {
				rate = fmt.Sprintf("%.0f%%", 100*float64(d)/float64(n))
			}
			fmt.Fprintf(w, "%-28s %8d %8d %8d %8d %8s %8d %8d\n", who, n, d, s, e, rate, t[key{who, support.ResultSilent}], t[key{who, support.ResultNoReply}])
		}
		fmt.Fprintf(w, "%-28s %8d\n", "no reply within 24 h", tables[reader][key{"no reply within 24 h", support.ResultNoReply}])
		fmt.Fprintf(w, "frustrated again within 72 h: %d\n", tables[reader][key{"reply acknowledged", support.Reescalated}]+tables[reader][key{"reply did not acknowledge", support.Reescalated}])
	}
	return nil
}

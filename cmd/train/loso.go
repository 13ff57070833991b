package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"empathybot/internal/coach"
	"empathybot/internal/corpus"
	"empathybot/internal/rank"
)

// heldOut is what a model fitted without some messages made of them.
type heldOut struct {
	name   string
	scores []float64
	as     []coach.Assessment
	labels []bool
	texts  []string
}

// leaveOneOut prints, for each source, what a model fitted on every other
// source makes of it (AUC, and the verdict at st.threshold: flag rate,
// precision, recall), then the same for the twcs companies in folds, each
// fold scored by a model fitted on everything but that fold's companies;
// then each held-out set's verdict at a sweep of thresholds. It writes no
// model: these figures are for choosing settings and the threshold on data
// the fit did not see.
func leaveOneOut(w io.Writer, d *data, st settings, companyFolds int, errors io.Writer) error {
	var results []heldOut
	for _, src := range d.names {
		h, err := score(d, st, "without "+src, func(i int) bool { return d.items[i].Source == src })
		if err != nil {
			return err
		}
		results = append(results, h)
	}
	if companyFolds > 1 {
		fold := companyFold(d.items, "twcs", companyFolds)
		if len(fold) > 0 {
			all := heldOut{name: fmt.Sprintf("twcs by company (%d folds)", companyFolds)}
			for f := 0; f < companyFolds; f++ {
				h, err := score(d, st, "", func(i int) bool {
					k, ok := fold[d.items[i].Group]
					return d.items[i].Source == "twcs" && ok && k == f
				})
				if err != nil {
					return err
				}
				all.scores = append(all.scores, h.scores...)
				all.as = append(all.as, h.as...)
				all.labels = append(all.labels, h.labels...)
				all.texts = append(all.texts, h.texts...)
			}
			results = append(results, all)
		}
	}
	if errors != nil {
		listErrors(errors, results, st.threshold)
	}
	fmt.Fprintf(w, "\nleave one source out, verdict at %.2f:\n", st.threshold)
	fmt.Fprintf(w, "%-28s %6s %5s %6s %7s %9s %6s\n", "held out", "n", "frust", "AUC", "flagged", "precision", "recall")
	for _, h := range results {
		p, r, flagged := verdict(h.as, h.labels, st.threshold)
		npos := 0
		for _, l := range h.labels {
			if l {
				npos++
			}
		}
		fmt.Fprintf(w, "%-28s %6d %5d %6.3f %6.1f%% %9.3f %6.3f\n", h.name, len(h.labels), npos, rank.AUC(h.scores, h.labels), 100*flagged, p, r)
	}
	fmt.Fprintf(w, "\nthe verdict by threshold (precision/recall/flagged%%):\n%-9s", "threshold")
	for _, h := range results {
		fmt.Fprintf(w, " | %-20.20s", h.name)
	}
	fmt.Fprintln(w)
	for t := 0.30; t < 0.951; t += 0.05 {
		fmt.Fprintf(w, "%-9.2f", t)
		for _, h := range results {
			p, r, f := verdict(h.as, h.labels, t)
			fmt.Fprintf(w, " | %.2f/%.2f/%5.1f%%   ", p, r, 100*f)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// score fits on every message but those heldOut selects, and assesses those
// with the fitted model, as the coach would.
func score(d *data, st settings, name string, out func(int) bool) (heldOut, error) {
	w, names := fit(d, st, func(i int) bool { return !out(i) }, nil)
	c, err := coach.NewWithModel(string(write(d, st, w, names)))
	if err != nil {
		return heldOut{}, err
	}
	c = c.WithThreshold(0) // the verdict is taken at each threshold below
	h := heldOut{name: name}
	for i, it := range d.items {
		if !out(i) {
			continue
		}
		a := c.Assess(it.Text)
		h.scores = append(h.scores, a.Score)
		h.as = append(h.as, a)
		h.labels = append(h.labels, it.Frustrated)
		h.texts = append(h.texts, it.Text)
	}
	return h, nil
}

// verdict returns precision, recall and the share flagged when messages
// with a score of at least t are frustrated, as the coach decides.
func verdict(as []coach.Assessment, labels []bool, t float64) (p, r, flagged float64) {
	var tp, fp, fn int
	for i, a := range as {
		f := a.FrustratedAt(t)
		switch {
		case f && labels[i]:
			tp++
		case f:
			fp++
		case labels[i]:
			fn++
		}
	}
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	return p, r, float64(tp+fp) / float64(len(as))
}

// companyFold assigns each company of source src to one of k folds, by
// their sorted names in turn.
func companyFold(items []corpus.Item, src string, k int) map[string]int {
	set := map[string]bool{}
	for _, it := range items {
		if it.Source == src && it.Group != "" {
			set[it.Group] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	fold := map[string]int{}
	for i, n := range names {
		fold[n] = i % k
	}
	return fold
}

// listErrors writes, for each held-out set, the messages its verdict at t
// gets wrong, with the score and what it quoted: to read what the model
// misses on data it did not see.
func listErrors(w io.Writer, results []heldOut, t float64) {
	for _, h := range results {
		for i, a := range h.as {
			if a.FrustratedAt(t) == h.labels[i] {
				continue
			}
			what := "false alarm"
			if h.labels[i] {
				what = "missed"
			}
			var ev []string
			for _, c := range a.Cues {
				ev = append(ev, fmt.Sprintf("%s %q %+.2f", c.Kind, c.Evidence, c.Weight))
			}
			fmt.Fprintf(w, "%s\t%s\t%.3f\t%s\t[%s]\n", h.name, what, a.Score, strings.ReplaceAll(h.texts[i], "\n", " "), strings.Join(ev, ", "))
		}
	}
}

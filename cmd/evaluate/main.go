// Command evaluate measures how well the coach ranks frustrated messages, next to
// VADER (github.com/jonreiter/govader) on the same data, so both figures come
// from one command:
//
//	go run ./cmd/evaluate ../shared/data/goemotions/dev.tsv
//	go run ./cmd/evaluate -format support internal/coach/testdata/messages.tsv
//	go run ./cmd/evaluate -format twcs ../shared/data/twcs/twcs-support-labelled.jsonl
//	go run ./cmd/evaluate -loso    # the leave-one-source-out table (fits a model per source)
//	go run ./cmd/evaluate -outcomes ../shared/data/twcs/twcs-support-labelled.jsonl
//
// For each scorer it prints ROC AUC, the best recall at precision ≥ 0.90, and
// precision and recall at the scorer's own cut-off (the coach's threshold; VADER's
// standard compound ≤ -0.05 for negative). GoEmotions files count anger (2),
// annoyance (3) and disappointment (9) as frustrated; support files are
// "label<TAB>text" with 1 for frustrated.
//
// -parts keeps the parts of a file with "# Part N." headers (probes.tsv) whose
// numbers it lists, and -errors lists the messages the coach gets wrong at
// its threshold, the most confident first, with the evidence it saw:
//
//	go run ./cmd/evaluate -format support -parts 15-22,25 -errors internal/coach/testdata/probes.tsv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/jonreiter/govader"

	"empathybot/internal/coach"
	"empathybot/internal/corpus"
	"empathybot/internal/learn"
	"empathybot/internal/rank"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}

type item struct {
	text  string
	label bool
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	format := fs.String("format", "goemotions", "goemotions (text, labels, id), support (label, text), slack (JSON Lines with text and frustrated), twcs (customer tweets of shared/data/twcs) or tweeteval (*_text.txt beside *_labels.txt)")
	precision := fs.Float64("precision", 0.90, "precision floor for the recall figure")
	partsFlag := fs.String("parts", "", `only these parts of a file with "# Part N." headers, e.g. "15-22,25"`)
	showErrors := fs.Bool("errors", false, "list the coach's errors at its threshold, most confident first")
	sweep := fs.Bool("sweep", false, "print the verdict's precision, recall and flag rate at thresholds from 0.30 to 0.95")
	loso := fs.Bool("loso", false, "print the leave-one-source-out table of the model's sources (internal/learn, as cmd/train -loso): each source scored by a model fitted on the others; reads ../shared, takes no FILE")
	outcomesFile := fs.Bool("outcomes", false, "replay the conversations of a twcs FILE through the bot's outcome code and print the results of the frustrated moments")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *outcomesFile {
		if fs.NArg() != 1 {
			return fmt.Errorf("-outcomes takes one twcs FILE")
		}
		return outcomes(fs.Arg(0), stdout)
	}
	if *loso {
		if fs.NArg() != 0 {
			return fmt.Errorf("-loso takes no FILE: it reads the model's own sources")
		}
		d, err := learn.Load(learn.StandardSources())
		if err != nil {
			return err
		}
		return learn.LeaveOneOut(stdout, d, learn.DefaultSettings(), learn.CompanyFolds, nil)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: evaluate [-format goemotions|support|slack|twcs|tweeteval] [-parts LIST] [-errors] FILE")
	}
	parts, err := parseParts(*partsFlag)
	if err != nil {
		return err
	}
	items, err := load(fs.Arg(0), *format, parts)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%s: no messages (wrong -parts?)", fs.Arg(0))
	}
	c := coach.Default()
	sia := govader.NewSentimentIntensityAnalyzer()
	as := assessAll(c, items)
	ours := make([]float64, len(items))
	vader := make([]float64, len(items))
	labels := make([]bool, len(items))
	npos := 0
	for i, it := range items {
		ours[i] = as[i].Score
		// VADER's compound is in [-1, 1]; more negative = more frustrated.
		vader[i] = -sia.PolarityScores(it.text).Compound
		labels[i] = it.label
		if it.label {
			npos++
		}
	}
	fmt.Fprintf(stdout, "%s: %d messages, %d frustrated (%.1f%%)\n", fs.Arg(0), len(items), npos, 100*float64(npos)/float64(len(items)))
	report(stdout, "empathybot", ours, labels, c.Threshold, *precision)
	flagReport(stdout, c.Threshold, as, labels)
	report(stdout, "VADER", vader, labels, 0.05, *precision)
	if *sweep {
		for t := 0.30; t < 0.951; t += 0.05 {
			flagReport(stdout, t, assessAll(c.WithThreshold(t), items), labels)
		}
	}
	if *showErrors {
		listErrors(stdout, c.Threshold, items, as)
	}
	return nil
}

// assessAll assesses each item once.
func assessAll(c *coach.Coach, items []item) []coach.Assessment {
	as := make([]coach.Assessment, len(items))
	for i, it := range items {
		as[i] = c.Assess(it.text)
	}
	return as
}

// listErrors prints the messages the coach's verdict gets wrong, the
// furthest from the threshold first: a missed complaint with its score, a
// false alarm with the evidence of its cues.
func listErrors(w io.Writer, threshold float64, items []item, as []coach.Assessment) {
	var wrong []int
	for i, it := range items {
		if as[i].Frustrated != it.label {
			wrong = append(wrong, i)
		}
	}
	sort.SliceStable(wrong, func(a, b int) bool {
		return math.Abs(as[wrong[a]].Score-threshold) > math.Abs(as[wrong[b]].Score-threshold)
	})
	fmt.Fprintf(w, "%d errors at the threshold %.2f:\n", len(wrong), threshold)
	for _, i := range wrong {
		what := "false alarm"
		if items[i].label {
			what = "missed"
		}
		var ev []string
		for _, cue := range as[i].Cues {
			ev = append(ev, fmt.Sprintf("%s %q", cue.Kind, cue.Evidence))
		}
		fmt.Fprintf(w, "%-11s %.3f  %s  [%s]\n", what, as[i].Score, items[i].text, strings.Join(ev, ", "))
	}
}

// parseParts reads a list of part numbers and ranges ("15-22,25"); an empty
// list keeps every part.
func parseParts(list string) (map[int]bool, error) {
	if list == "" {
		return nil, nil
	}
	parts := map[int]bool{}
	for _, f := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(f), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("-parts: %q is not a part number or range", f)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("-parts: %q is not a part number or range", f)
			}
		}
		for n := a; n <= b; n++ {
			parts[n] = true
		}
	}
	return parts, nil
}

func report(w io.Writer, name string, scores []float64, labels []bool, cut, floor float64) {
	auc := rank.AUC(scores, labels)
	rec, thr := rank.RecallAtPrecision(scores, labels, floor)
	p, r := rank.AtCut(scores, labels, cut)
	fmt.Fprintf(w, "%-11s AUC %.3f | recall %.3f at precision >= %.2f (score >= %.3f) | at its cut-off: precision %.3f recall %.3f\n",
		name, auc, rec, floor, thr, p, r)
}

// flagReport prints what the coach's verdict at threshold makes of the
// assessments as (made by a coach with that threshold): precision, recall,
// the share of messages flagged, how many flagged messages have no cue to
// show, and how many it left unscored (a language it does not read).
func flagReport(w io.Writer, threshold float64, as []coach.Assessment, labels []bool) {
	c := learn.CountAt(as, labels, threshold)
	fmt.Fprintf(w, "verdict at %.2f: flagged %d of %d (%.1f%%): precision %.3f recall %.3f (%d right, %d false alarms, %d missed) | flagged with no cue %d | unscored %d\n",
		threshold, c.TP+c.FP, c.N, 100*c.Flagged(), c.Precision(), c.Recall(), c.TP, c.FP, c.FN, c.NoCue, c.Unscored)
}

// load reads the messages of path in format. With parts (support files
// only), only those under a "# Part N." header whose N is in parts.
func load(path, format string, parts map[int]bool) ([]item, error) {
	if parts != nil && format != "support" {
		return nil, fmt.Errorf("-parts: only support files have parts")
	}
	if parts != nil {
		return loadParts(path, parts)
	}
	cs, err := corpus.Load(path, format, format)
	if err != nil {
		return nil, err
	}
	items := make([]item, len(cs))
	for i, c := range cs {
		items[i] = item{c.Text, c.Frustrated}
	}
	return items, nil
}

// loadParts reads a support file's "label<TAB>text" lines that are under a
// "# Part N." header whose N is in parts.
func loadParts(path string, parts map[int]bool) ([]item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []item
	part := 0 // the part the lines are in; 0 before the first header
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if num, ok := strings.CutPrefix(line, "# Part "); ok {
			if p, err := strconv.Atoi(strings.TrimSuffix(num, ".")); err == nil {
				part = p
			}
		}
		if line == "" || strings.HasPrefix(line, "#") || !parts[part] {
			continue
		}
		l, text, ok := strings.Cut(line, "\t")
		if !ok || (l != "0" && l != "1") {
			return nil, fmt.Errorf("%s:%d: want 0|1<TAB>text", path, n)
		}
		items = append(items, item{text, l == "1"})
	}
	return items, sc.Err()
}

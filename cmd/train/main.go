// Command train fits the coach's scoring model and writes it to
// internal/coach/model/weights.tsv, where the coach embeds it.
//
// It reads two labelled sets:
//
//   - GoEmotions train (shared/data/goemotions/train.tsv: text, label ids, comment id),
//     where a message counts as frustrated when it carries anger (2), annoyance (3)
//     or disappointment (9);
//   - internal/coach/traindata/support.tsv: support-style messages written for this
//     project ("label<TAB>text"), weighted up because they are the target domain.
//
// The model is a logistic regression over coach.Features (cue kinds, cue phrases,
// words, adjacent word pairs, punctuation), fitted by AdaGrad with L2
// regularisation and balanced class weights, from a fixed seed: the same inputs
// give the same weights. Each reportable cue kind's weight is kept at least
// -kind-floor (a prior: the lexicons list evidence of frustration, whatever
// off-domain data says).
//
//	go run ./cmd/train
//
// The settings were chosen with -validate 5, which holds out every fifth
// GoEmotions comment, trains on the rest and prints the AUC on the held-out
// ones, so that neither the fit nor cmd/evaluate's dev and test sets choose
// them (measured in session 12, AUC on the held-out fifth):
//
//	words and cues only, words seen in >= 4 messages        0.8035
//	+ word pairs seen in >= 4 messages                      0.8063
//	+ word pairs seen in >= 20 messages instead             0.8120
//	+ words seen in >= 10 messages (the default)            0.8175
//
// A word or pair seen in few messages learns the topic of those few sentences,
// the more so in a support example, which counts 10 times.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"

	"empathybot/internal/coach"
	"empathybot/internal/corpus"
)

// domainSupport is the feature every support example carries and no
// GoEmotions comment does: a second intercept, for the support domain. The
// support examples are half frustrated, the GoEmotions comments one in eight,
// so without it the words that mark a message as a support message ("app",
// "order", "flight", "engineer") learn that difference as frustration, and a
// thank-you that names the engineer reads as a complaint. The coach only
// scores support messages, so it adds this weight to the bias.
const domainSupport = "domain:support"

type example struct {
	feats  []int
	vals   []float64
	label  float64
	weight float64
}

// source is one labelled set the model learns from.
type source struct {
	name, format, path string
	// weight is each message's weight relative to a GoEmotions comment.
	weight float64
	// support: the messages are written to a support team (a support
	// inbox, a help channel), so they carry the support domain's intercept.
	support bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

// settings are what the fit takes beside the data.
type settings struct {
	epochs                   int
	l2, phrasePenalty        float64
	pairPenalty, kindFloor   float64
	minDF, pairMinDF         int
	pairMinWeight, threshold float64
	roomFloor                float64
	balance                  float64
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	shared := "../shared/data/"
	goemo := fs.String("goemotions", shared+"goemotions/train.tsv", "GoEmotions train TSV (empty: not used)")
	support := fs.String("support", "internal/coach/traindata/support.tsv", "support-style examples written for this project, label<TAB>text (empty: not used)")
	twcs := fs.String("twcs", shared+"twcs/twcs-support-labelled.jsonl", "labelled customer tweets to support accounts (empty: not used)")
	slack := fs.String("slack", shared+"slackchats/clojurians-2019-labelled.jsonl", "labelled Slack help-channel messages (empty: not used)")
	tweeteval := fs.String("tweeteval", shared+"tweeteval-sentiment/val_text.txt,"+shared+"tweeteval-sentiment/test_text.txt", "TweetEval sentiment splits, comma-separated; negative counts as frustrated (empty: not used)")
	weightsFlag := fs.String("source-weights", "goemotions=0.5,support=10,twcs=20,slack=8,tweeteval=1", "each source's weight per message, relative to a GoEmotions comment")
	out := fs.String("out", "internal/coach/model/weights.tsv", "where to write the weights")
	var st settings
	fs.IntVar(&st.epochs, "epochs", 12, "passes over the data")
	fs.Float64Var(&st.l2, "l2", 2e-5, "L2 penalty per update")
	fs.Float64Var(&st.phrasePenalty, "phrase-penalty", 5, "L2 multiplier for single phrases, relative to words")
	fs.IntVar(&st.minDF, "min-df", 10, "drop words seen in fewer messages than this")
	fs.Float64Var(&st.pairPenalty, "pair-penalty", 1, "L2 multiplier for word pairs, relative to words")
	fs.IntVar(&st.pairMinDF, "pair-min-df", 20, "drop word pairs seen in fewer messages than this")
	fs.Float64Var(&st.pairMinWeight, "pair-min-weight", 0.05, "drop word pairs that weigh less than this either way")
	fs.Float64Var(&st.kindFloor, "kind-floor", 0.3, "least weight of each reportable cue kind (see below)")
	fs.Float64Var(&st.balance, "balance", 1, "how far classes are balanced within each source: 1 fully, 0 not at all")
	fs.Float64Var(&st.roomFloor, "room-floor", 0.6, "least weight of the cue kinds a support room knows as upset (see roomKinds)")
	fs.Float64Var(&st.threshold, "threshold", coach.DefaultThreshold, "the verdict's threshold, for the -loso table")
	check := fs.Bool("check", false, "write nothing; fail unless -out holds exactly what training writes (the model is up to date with its data, lexicons and code)")
	loso := fs.Bool("loso", false, "write nothing; for each source, fit on the others and measure on it (leave one source out), and measure twcs by company (-company-folds)")
	errorsTo := fs.String("errors", "", "with -loso: write each held-out set's errors at -threshold to this file (it holds the messages' text: keep it out of the repository)")
	companyFolds := fs.Int("company-folds", 5, "with -loso: folds of twcs companies, each scored by a fit on every other source and the other companies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	weights, err := parseWeights(*weightsFlag)
	if err != nil {
		return err
	}
	var sources []source
	add := func(name, format, path string, support bool) {
		for _, p := range strings.Split(path, ",") {
			if p != "" {
				sources = append(sources, source{name, format, p, weights[name], support})
			}
		}
	}
	add("goemotions", "goemotions", *goemo, false)
	add("support", "support", *support, true)
	add("twcs", "twcs", *twcs, true)
	add("slack", "slack", *slack, true)
	add("tweeteval", "tweeteval", *tweeteval, false)
	for _, s := range sources {
		if s.weight <= 0 {
			return fmt.Errorf("-source-weights: no weight for %s", s.name)
		}
	}
	d, err := load(sources)
	if err != nil {
		return err
	}
	if *loso {
		var errs io.Writer
		if *errorsTo != "" {
			f, err := os.Create(*errorsTo)
			if err != nil {
				return err
			}
			defer f.Close()
			errs = f
		}
		return leaveOneOut(stdout, d, st, *companyFolds, errs)
	}
	w, names := fit(d, st, func(int) bool { return true }, stdout)
	buf := write(d, st, w, names)
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, buf) {
			return fmt.Errorf("%s is not what training writes now: run go run ./cmd/train and commit the result", *out)
		}
		fmt.Fprintf(stdout, "%s is up to date\n", *out)
		return nil
	}
	if err := os.WriteFile(*out, buf, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// roomKinds are what a customer says to a support team when upset, whatever
// else the message says: a wait, a second or third ask, a broken promise, a
// threat to leave or to escalate. Their weights keep at least -room-floor:
// off-domain data (Reddit, general tweets) sees these words in calm
// sentences ("I asked twice", "waiting for the weekend") and would pull
// them down.
var roomKinds = map[coach.CueKind]bool{
	coach.RepeatedContact: true, coach.Waiting: true, coach.BrokenPromise: true,
	coach.ChurnThreat: true, coach.Escalation: true,
}

// parseWeights reads "name=w,name=w".
func parseWeights(s string) (map[string]float64, error) {
	m := map[string]float64{}
	for _, f := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		w, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || w <= 0 {
			return nil, fmt.Errorf("-source-weights: %q is not name=weight", f)
		}
		m[name] = w
	}
	return m, nil
}

// data is the labelled messages of every source with their features.
type data struct {
	items  []corpus.Item
	weight []float64 // per message, before class balancing
	feats  []map[string]float64
	names  []string // the sources, in the order first read
}

func load(sources []source) (*data, error) {
	d := &data{}
	seen := map[string]bool{}
	for _, s := range sources {
		items, err := corpus.Load(s.path, s.format, s.name)
		if err != nil {
			return nil, err
		}
		if !seen[s.name] {
			seen[s.name] = true
			d.names = append(d.names, s.name)
		}
		for _, it := range items {
			f := coach.Features(it.Text)
			if s.support {
				f[domainSupport] = 1
			}
			d.items = append(d.items, it)
			d.weight = append(d.weight, s.weight)
			d.feats = append(d.feats, f)
		}
	}
	return d, nil
}

// fit fits the model to the messages i for which use(i) holds and returns
// its weights with their feature names.
func fit(d *data, st settings, use func(int) bool, log io.Writer) ([]float64, []string) {
	var train []int
	for i := range d.items {
		if use(i) {
			train = append(train, i)
		}
	}
	// The words and pairs frequent enough to keep, counted on what is fitted.
	df := map[string]int{}
	for _, i := range train {
		for k := range d.feats[i] {
			df[k]++
		}
	}
	index := map[string]int{"bias": 0}
	names := []string{"bias"}
	pos, neg := map[string]float64{}, map[string]float64{} // by source
	exs := make([]example, len(train))
	for n, i := range train {
		ex := example{label: 0, weight: d.weight[i]}
		if d.items[i].Frustrated {
			ex.label = 1
			pos[d.items[i].Source] += d.weight[i]
		} else {
			neg[d.items[i].Source] += d.weight[i]
		}
		ex.feats = append(ex.feats, 0)
		ex.vals = append(ex.vals, 1)
		keys := make([]string, 0, len(d.feats[i]))
		for k := range d.feats[i] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if isWordFeature(k) && df[k] < st.minDF || strings.HasPrefix(k, "b:") && df[k] < st.pairMinDF {
				continue
			}
			id, ok := index[k]
			if !ok {
				id = len(names)
				index[k] = id
				names = append(names, k)
			}
			ex.feats = append(ex.feats, id)
			ex.vals = append(ex.vals, d.feats[i][k])
		}
		exs[n] = ex
	}
	// Balanced classes within each source: in each, either class carries
	// half the source's total weight, so no source's base rate is learned
	// (a help channel is 2% frustrated, a support inbox a third) and a
	// score of 0.5 means even odds on a message of either kind.
	for n, i := range train {
		src := d.items[i].Source
		if pos[src] == 0 || neg[src] == 0 {
			continue
		}
		if exs[n].label == 1 {
			exs[n].weight *= math.Pow((pos[src]+neg[src])/(2*pos[src]), st.balance)
		} else {
			exs[n].weight *= math.Pow((pos[src]+neg[src])/(2*neg[src]), st.balance)
		}
	}

	// Cue kinds are lightly penalised; single phrases and words more, so a phrase
	// that is rare in the data keeps close to its kind's weight.
	penalty := make([]float64, len(names))
	for i, n := range names {
		switch {
		case i == 0, n == domainSupport:
			penalty[i] = 0
		case strings.HasPrefix(n, "phrase:"):
			penalty[i] = st.phrasePenalty
		case strings.HasPrefix(n, "b:"):
			penalty[i] = st.pairPenalty
		case isWordFeature(n):
			penalty[i] = 1
		default:
			penalty[i] = 0.1
		}
	}
	// A prior: every reportable cue kind is, by how its lexicon was built,
	// evidence of frustration, so its weight stays at least kindFloor. Without
	// it, off-domain data decides alone: on Reddit "great, just great" is as
	// often glee as anger, and GoEmotions pulls sarcasm to 0.09.
	floor := make([]float64, len(names))
	for i, n := range names {
		floor[i] = math.Inf(-1)
		if k, ok := strings.CutPrefix(n, "kind:"); ok && coach.ValidCueKind(coach.CueKind(k)) {
			floor[i] = st.kindFloor
			if roomKinds[coach.CueKind(k)] {
				floor[i] = max(st.kindFloor, st.roomFloor)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	w := make([]float64, len(names))
	g2 := make([]float64, len(names))
	const lr = 0.1
	for ep := 0; ep < st.epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var loss float64
		for _, i := range order {
			ex := exs[i]
			z := 0.0
			for k, f := range ex.feats {
				z += w[f] * ex.vals[k]
			}
			p := 1 / (1 + math.Exp(-z))
			loss -= ex.weight * (ex.label*math.Log(p+1e-12) + (1-ex.label)*math.Log(1-p+1e-12))
			g := ex.weight * (p - ex.label)
			for k, f := range ex.feats {
				grad := g*ex.vals[k] + st.l2*float64(len(exs))*w[f]*penalty[f]
				g2[f] += grad * grad
				w[f] -= lr * grad / (math.Sqrt(g2[f]) + 1e-8)
				w[f] = max(w[f], floor[f])
			}
		}
		if log != nil {
			fmt.Fprintf(log, "epoch %d: weighted log-loss %.4f\n", ep+1, loss/float64(len(exs)))
		}
	}
	return w, names
}

// write renders the weights as the model file the coach embeds.
func write(d *data, st settings, w []float64, names []string) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Written by `go run ./cmd/train` from %d messages of %s; do not edit by hand.\n", len(d.items), strings.Join(d.names, ", "))
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	for _, i := range order {
		if isWordFeature(names[i]) && math.Abs(w[i]) < 0.02 || strings.HasPrefix(names[i], "b:") && math.Abs(w[i]) < st.pairMinWeight {
			continue
		}
		fmt.Fprintf(&buf, "%s\t%.4f\n", names[i], w[i])
	}
	return buf.Bytes()
}

// isWordFeature reports whether the feature named n is a word or a word pair:
// those are many, each seen in few messages, so the rare ones are dropped.
func isWordFeature(n string) bool {
	return strings.HasPrefix(n, "w:") || strings.HasPrefix(n, "nw:") || strings.HasPrefix(n, "b:")
}

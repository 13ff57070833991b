// Package learn fits the coach's scoring model to labelled messages of
// several sources, writes it in the form the coach embeds, and measures it
// the way its settings are chosen: leave one source out. cmd/train writes
// the model with it; cmd/train -loso and cmd/evaluate -loso print the
// table.
//
// The model is a logistic regression over coach.Features (cue kinds, cue
// phrases, words, adjacent word pairs, punctuation), fitted by AdaGrad with
// L2 regularisation and classes balanced within each source, from a fixed
// seed: the same inputs give the same weights.
package learn

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"empathybot/internal/coach"
	"empathybot/internal/corpus"
	"empathybot/internal/rank"
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

// Source is one labelled set the model learns from.
type Source struct {
	Name, Format, Path string
	// weight is each message's weight relative to a GoEmotions comment.
	Weight float64
	// Support: the messages are written to a support team (a support
	// inbox, a help channel), so they carry the support domain's intercept.
	Support bool
}

// Settings are what the fit takes beside the data (see cmd/train's flags).
type Settings struct {
	Epochs                   int
	L2, PhrasePenalty        float64
	PairPenalty, KindFloor   float64
	MinDF, PairMinDF         int
	PairMinWeight, Threshold float64
	RoomFloor                float64
	Balance                  float64
}

// DefaultSettings are the Settings the committed model was fitted with.
func DefaultSettings() Settings {
	return Settings{Epochs: 12, L2: 2e-5, PhrasePenalty: 5, PairPenalty: 1, KindFloor: 0.3, MinDF: 10, PairMinDF: 20,
		PairMinWeight: 0.05, Threshold: coach.DefaultThreshold, RoomFloor: 1.7, Balance: 1}
}

// roomKinds are what a customer says to a support team when upset, whatever
// else the message says: a wait, a second or third ask, a broken promise, a
// threat to leave or to escalate. The weights of their strong matches
// ("kind:", not the weak "wkind:") keep at least -room-floor:
// off-domain data (Reddit, general tweets) sees these words in calm
// sentences ("I asked twice", "waiting for the weekend") and would pull
// them down.
var roomKinds = map[coach.CueKind]bool{
	coach.RepeatedContact: true, coach.Waiting: true, coach.BrokenPromise: true,
	coach.ChurnThreat: true, coach.Escalation: true,
}

// Data is the labelled messages of every source with their features.
type Data struct {
	items  []corpus.Item
	weight []float64 // per message, before class balancing
	feats  []map[string]float64
	names  []string // the sources, in the order first read
}

func Load(sources []Source) (*Data, error) {
	d := &Data{}
	seen := map[string]bool{}
	for _, s := range sources {
		items, err := corpus.Load(s.Path, s.Format, s.Name)
		if err != nil {
			return nil, err
		}
		if !seen[s.Name] {
			seen[s.Name] = true
			d.names = append(d.names, s.Name)
		}
		for _, it := range items {
			f := coach.Features(it.Text)
			if s.Support {
				f[domainSupport] = 1
			}
			d.items = append(d.items, it)
			d.weight = append(d.weight, s.Weight)
			d.feats = append(d.feats, f)
		}
	}
	return d, nil
}

// Fit fits the model to the messages i for which use(i) holds and returns
// its weights with their feature names.
func Fit(d *Data, st Settings, use func(int) bool, log io.Writer) ([]float64, []string) {
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
			if isWordFeature(k) && df[k] < st.MinDF || strings.HasPrefix(k, "b:") && df[k] < st.PairMinDF {
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
			exs[n].weight *= math.Pow((pos[src]+neg[src])/(2*pos[src]), st.Balance)
		} else {
			exs[n].weight *= math.Pow((pos[src]+neg[src])/(2*neg[src]), st.Balance)
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
			penalty[i] = st.PhrasePenalty
		case strings.HasPrefix(n, "b:"):
			penalty[i] = st.PairPenalty
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
			floor[i] = st.KindFloor
			if roomKinds[coach.CueKind(k)] {
				floor[i] = max(st.KindFloor, st.RoomFloor)
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
	for ep := 0; ep < st.Epochs; ep++ {
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
				grad := g*ex.vals[k] + st.L2*float64(len(exs))*w[f]*penalty[f]
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

// Write renders the weights as the model file the coach embeds.
func Write(d *Data, st Settings, w []float64, names []string) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Written by `go run ./cmd/train` from %d messages of %s; do not edit by hand.\n", len(d.items), strings.Join(d.names, ", "))
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	for _, i := range order {
		if isWordFeature(names[i]) && math.Abs(w[i]) < 0.02 || strings.HasPrefix(names[i], "b:") && math.Abs(w[i]) < st.PairMinWeight {
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

// heldOut is what a model fitted without some messages made of them.
type heldOut struct {
	name   string
	scores []float64
	as     []coach.Assessment
	labels []bool
	texts  []string
}

// LeaveOneOut prints, for each source, what a model fitted on every other
// source makes of it (AUC, and the verdict at st.Threshold: flag rate,
// precision, recall), then the same for the twcs companies in folds, each
// fold scored by a model fitted on everything but that fold's companies;
// then each held-out set's verdict at a sweep of thresholds. It writes no
// model: these figures are for choosing Settings and the threshold on data
// the fit did not see.
func LeaveOneOut(w io.Writer, d *Data, st Settings, companyFolds int, errors io.Writer) error {
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
		listErrors(errors, results, st.Threshold)
	}
	fmt.Fprintf(w, "\nleave one source out, verdict at %.2f:\n", st.Threshold)
	fmt.Fprintf(w, "%-28s %6s %5s %6s %7s %9s %6s\n", "held out", "n", "frust", "AUC", "flagged", "precision", "recall")
	for _, h := range results {
		c := CountAt(h.as, h.labels, st.Threshold)
		p, r, flagged := c.Precision(), c.Recall(), c.Flagged()
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
			c := CountAt(h.as, h.labels, t)
			p, r, f := c.Precision(), c.Recall(), c.Flagged()
			fmt.Fprintf(w, " | %.2f/%.2f/%5.1f%%   ", p, r, 100*f)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// score fits on every message but those heldOut selects, and assesses those
// with the fitted model, as the coach would.
func score(d *Data, st Settings, name string, out func(int) bool) (heldOut, error) {
	w, names := Fit(d, st, func(i int) bool { return !out(i) }, nil)
	c, err := coach.NewWithModel(string(Write(d, st, w, names)))
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

// Counts is how the coach's verdict at a threshold fares against labels.
type Counts struct {
	TP, FP, FN, N int
	NoCue         int // flagged with no evidence to quote (the coach never does it)
	Unscored      int // left unscored: a language the coach does not read
}

// CountAt counts the verdict on as at threshold t (Assessment.FrustratedAt,
// the coach's own rule) against labels.
func CountAt(as []coach.Assessment, labels []bool, t float64) Counts {
	c := Counts{N: len(as)}
	for i, a := range as {
		f := a.FrustratedAt(t)
		if a.Unscored() {
			c.Unscored++
		}
		if f && len(a.Cues) == 0 {
			c.NoCue++
		}
		switch {
		case f && labels[i]:
			c.TP++
		case f:
			c.FP++
		case labels[i]:
			c.FN++
		}
	}
	return c
}

// Precision, Recall and Flagged (the share of messages flagged) are 0 when
// undefined.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Counts) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Counts) Flagged() float64   { return ratio(c.TP+c.FP, c.N) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
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

// Where the sources are by default, seen from the repository's root: the
// shared data beside the clone, and the project's own examples.
const (
	SharedData      = "../shared/data/"
	SupportExamples = "internal/coach/traindata/support.tsv"
)

// CompanyFolds is how many folds the twcs companies are held out in by
// default: each fold is scored by a model fitted without its companies.
const CompanyFolds = 5

// DefaultWeights is each source's weight per message, relative to a
// GoEmotions comment, as the committed model was fitted.
const DefaultWeights = "goemotions=0.5,support=30,twcs=25,slack=8,tweeteval=1"

// sourceFormats names the sources Sources knows, in the order they are
// read, with their formats and whether they are support rooms.
var sourceFormats = []struct {
	name, format string
	support      bool
}{
	{"goemotions", "goemotions", false},
	{"support", "support", true},
	{"twcs", "twcs", true},
	{"slack", "slack", true},
	{"tweeteval", "tweeteval", false},
}

// Sources lists the sources at paths (by source name; a path may list
// several files, comma-separated; an empty one leaves the source out),
// each with its weight.
func Sources(paths map[string]string, weights map[string]float64) ([]Source, error) {
	var out []Source
	for _, sf := range sourceFormats {
		for _, p := range strings.Split(paths[sf.name], ",") {
			if p == "" {
				continue
			}
			if weights[sf.name] <= 0 {
				return nil, fmt.Errorf("no weight for %s", sf.name)
			}
			out = append(out, Source{Name: sf.name, Format: sf.format, Path: p, Weight: weights[sf.name], Support: sf.support})
		}
	}
	return out, nil
}

// StandardPaths are where the sources the committed model learns from are,
// by source name.
var StandardPaths = map[string]string{
	"goemotions": SharedData + "goemotions/train.tsv",
	"support":    SupportExamples,
	"twcs":       SharedData + "twcs/twcs-support-labelled.jsonl",
	"slack":      SharedData + "slackchats/clojurians-2019-labelled.jsonl",
	"tweeteval":  SharedData + "tweeteval-sentiment/val_text.txt," + SharedData + "tweeteval-sentiment/test_text.txt",
}

// StandardSources are the sources the committed model learns from, at
// StandardPaths with DefaultWeights.
func StandardSources() []Source {
	w, err := ParseWeights(DefaultWeights)
	if err != nil {
		panic("learn: DefaultWeights: " + err.Error())
	}
	s, err := Sources(StandardPaths, w)
	if err != nil {
		panic("learn: DefaultWeights: " + err.Error())
	}
	return s
}

// ParseWeights reads "name=w,name=w".
func ParseWeights(s string) (map[string]float64, error) {
	m := map[string]float64{}
	for _, f := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		w, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || w <= 0 {
			return nil, fmt.Errorf("source weights: %q is not name=weight", f)
		}
		m[name] = w
	}
	return m, nil
}

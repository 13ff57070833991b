package coach

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// The support domain's intercept is part of every score: the coach only
// ever reads support messages. A message with no known word, cue or
// punctuation scores the bias plus that intercept.
func TestModelAddsTheSupportIntercept(t *testing.T) {
	for _, tt := range []struct {
		tsv  string
		want float64 // log-odds of a one-word message the model knows nothing of
	}{
		{"bias\t-1\n", -1},
		{"bias\t-1\ndomain:support\t0.75\n", -0.25},
		{"domain:support\t0.75\nbias\t-1\n", -0.25}, // in either order
	} {
		lx, err := loadLexicon()
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseModel(lx, tt.tsv)
		if err != nil {
			t.Fatalf("%q: %v", tt.tsv, err)
		}
		c := &Coach{Threshold: DefaultThreshold, model: m}
		got := c.Assess("zyzzyva").Score
		if want := 1 / (1 + math.Exp(-tt.want)); math.Abs(got-want) > 1e-9 {
			t.Errorf("%q: score %v, want %v", tt.tsv, got, want)
		}
	}
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseModel(lx, "bias\t-1\ndomain:reddit\t0.5\n"); err == nil || !strings.Contains(err.Error(), "reddit") {
		t.Errorf("unknown domain: err = %v, want one naming it", err)
	}
}

// Features is what cmd/train fits the weights to, and Assess is what scores
// with them: the two must read a message alike, or the model learns one
// thing and the bot applies another. Summing the embedded weights over
// Features must give Assess's log-odds, for words, word pairs across and
// within clauses, negation, cues, emoji, numbers and long messages alike.
func TestFeaturesScoreAsAssessDoes(t *testing.T) {
	weights := map[string]float64{}
	bias := 0.0
	for _, line := range strings.Split(weightsTSV, "\n") {
		name, val, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		w, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatal(err)
		}
		if name == "bias" || name == "domain:support" {
			bias += w
			continue
		}
		weights[name] = w
	}
	pairs := 0
	for name := range weights {
		if strings.HasPrefix(name, "b:") {
			pairs++
		}
	}
	if pairs == 0 {
		t.Fatal("the model has no word pairs: this test would not check them")
	}
	c := Default()
	texts := []string{
		"I hate it when the export fails",
		"how dare you close my ticket",
		"Shut up and fix it!!!",
		"can i get an update, the new build is fine",
		"my bad, I did not hate it at all",
		"It's not that I hate it, can we talk?",
		"Error 500 again :rage: :sweat_smile: since Monday",
		"THIS IS THE THIRD TIME I ASK. Why are you ignoring me?",
		"Per my last message, we still need the export fixed.",
		"thats too bad; the problem is someone to blame",
		strings.Repeat("why are we still waiting for the fix? ", 30),
		"", "   ", "\xff\xfe hate it",
	}
	matched := 0
	for _, text := range texts {
		a := c.Assess(text)
		if a.Unscored() {
			t.Fatalf("%q: unscored", text)
		}
		z := bias
		for name, v := range Features(text) {
			w, ok := weights[name]
			if ok && strings.HasPrefix(name, "b:") {
				matched++
			}
			z += w * v
		}
		got := math.Log(a.Score / (1 - a.Score))
		if math.Abs(got-z) > 1e-9 {
			t.Errorf("%q: Assess log-odds %.12f, Features give %.12f", text, got, z)
		}
	}
	if matched < 5 {
		t.Errorf("only %d word pairs of the model occur in the texts: the check is too weak", matched)
	}
}

// A weak match of a kind (a lexicon line marked "~ ") carries the kind's
// weak weight (wkind:), a strong match its strong weight (kind:), each
// counted apart; Features names them the same way for the fit.
func TestWeakMatchesHaveTheirOwnKindWeight(t *testing.T) {
	c, err := NewWithModel("bias\t0\nkind:waiting\t2\nwkind:waiting\t0.25\n")
	if err != nil {
		t.Fatal(err)
	}
	logit := func(text string) float64 {
		s := c.Assess(text).Score
		return math.Log(s / (1 - s))
	}
	if got := logit("been waiting"); math.Abs(got-2) > 1e-9 {
		t.Errorf("a strong waiting match: log-odds %v, want 2", got)
	}
	if got := logit("3 hours"); math.Abs(got-0.25) > 1e-9 {
		t.Errorf("a weak waiting match: log-odds %v, want 0.25", got)
	}
	if got := logit("been waiting 3 hours"); math.Abs(got-2.25) > 1e-9 {
		t.Errorf("one of each: log-odds %v, want 2.25", got)
	}
	f := Features("been waiting 3 hours")
	if f["kind:waiting"] != 1 || f["wkind:waiting"] != 1 {
		t.Errorf("features %v: want kind:waiting 1 and wkind:waiting 1", f)
	}
}

// A tone span is evidence for a frustrated verdict: the same heavy word is
// quoted in a message that scores high and not in one that scores calm.
func TestToneSpansOnlyForAFrustratedVerdict(t *testing.T) {
	for _, tt := range []struct {
		bias  float64
		quote bool
	}{{-3, false}, {0, true}} {
		c, err := NewWithModel("bias\t" + strconv.FormatFloat(tt.bias, 'f', -1, 64) + "\nw:zyzzyva\t1\n")
		if err != nil {
			t.Fatal(err)
		}
		a := c.Assess("zyzzyva")
		if quoted := len(a.Cues) == 1 && a.Cues[0].Kind == Tone; quoted != tt.quote || a.Frustrated != tt.quote {
			t.Errorf("bias %v: score %.2f, frustrated %v, cues %v; want a tone span %v", tt.bias, a.Score, a.Frustrated, a.Cues, tt.quote)
		}
	}
}

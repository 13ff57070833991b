package coach

import (
	"math"
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

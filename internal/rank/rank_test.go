package rank

import (
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	for _, tt := range []struct {
		scores []float64
		labels []bool
		want   float64
	}{
		{[]float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1},
		{[]float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 0},
		// Positives 1 and 2, negatives 0 and 2: 1>0 and 2>0 right, 1<2
		// wrong, 2=2 half.
		{[]float64{1, 2, 0, 2}, []bool{true, true, false, false}, 2.5 / 4},
		{[]float64{0.5, 0.5, 0.5}, []bool{true, false, false}, 0.5},
	} {
		if got := AUC(tt.scores, tt.labels); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("AUC(%v, %v) = %v, want %v", tt.scores, tt.labels, got, tt.want)
		}
	}
	if got := AUC([]float64{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("AUC of one class = %v, want NaN", got)
	}
}

func TestRecallAtPrecisionAndAtCut(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.5}
	labels := []bool{true, true, false, true, false}
	if r, cut := RecallAtPrecision(scores, labels, 0.9); r != 2.0/3 || cut != 0.8 {
		t.Errorf("recall at precision 0.9 = %v at %v, want 2/3 at 0.8", r, cut)
	}
	if r, cut := RecallAtPrecision(scores, labels, 0.75); r != 1 || cut != 0.6 {
		t.Errorf("recall at precision 0.75 = %v at %v, want 1 at 0.6", r, cut)
	}
	if p, r := AtCut(scores, labels, 0.7); p != 2.0/3 || r != 2.0/3 {
		t.Errorf("at 0.7: precision %v recall %v, want 2/3 and 2/3", p, r)
	}
	if p, r := AtCut(scores, labels, 0.95); p != 0 || r != 0 {
		t.Errorf("nothing flagged: %v %v, want 0 0", p, r)
	}
}

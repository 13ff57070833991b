// Package rank measures how well scores rank labelled examples: ROC AUC,
// recall at a precision floor, and precision and recall at a cut-off. It is
// shared by cmd/evaluate, which reports them, and cmd/train, which chooses
// its settings by them.
package rank

import (
	"math"
	"sort"
)

// AUC is the ROC AUC of scores for labels: the chance that a positive
// example outscores a negative one, ties counting half (Mann–Whitney U). It
// is NaN when either class is missing.
func AUC(scores []float64, labels []bool) float64 {
	idx := sortedDesc(scores)
	var pos, neg float64
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	var below, negAbove float64 // pairs ranked wrong (a negative above a positive), ties half
	for i := 0; i < len(idx); {
		j := i
		var p, n float64
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if labels[idx[j]] {
				p++
			} else {
				n++
			}
			j++
		}
		below += p * (negAbove + n/2)
		negAbove += n
		i = j
	}
	return 1 - below/(pos*neg)
}

// RecallAtPrecision returns the best recall over the cut-offs whose
// precision is at least floor, and that cut-off (1 when none reaches it).
func RecallAtPrecision(scores []float64, labels []bool, floor float64) (recall, cut float64) {
	idx := sortedDesc(scores)
	var pos float64
	for _, l := range labels {
		if l {
			pos++
		}
	}
	var tp, fp float64
	cut = 1
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if labels[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		if tp/(tp+fp) >= floor && tp/pos > recall {
			recall, cut = tp/pos, scores[idx[i]]
		}
		i = j
	}
	return recall, cut
}

// AtCut returns the precision and recall of calling every score at or above
// cut positive; 0, 0 when none is.
func AtCut(scores []float64, labels []bool, cut float64) (precision, recall float64) {
	var tp, fp, fn float64
	for i, s := range scores {
		switch {
		case s >= cut && labels[i]:
			tp++
		case s >= cut:
			fp++
		case labels[i]:
			fn++
		}
	}
	if tp+fp == 0 {
		return 0, 0
	}
	return tp / (tp + fp), tp / (tp + fn)
}

func sortedDesc(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

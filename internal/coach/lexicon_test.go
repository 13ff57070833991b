package coach

import (
	"slices"
	"strings"
	"testing"
)

// A phrase lives in one list only. Where two lists held the same words, the
// earlier list always won the match and the later entry never fired, so the
// loader refuses the second copy, in any list, naming where the first is.
func TestLexiconRefusesAPhraseTwice(t *testing.T) {
	_, err := loadPhraseLists([]listFile{
		{kind: Waiting, file: "waiting.txt"},
		{kind: Failure, file: "waiting.txt"},
	})
	if err == nil || !strings.Contains(err.Error(), "already in waiting.txt") {
		t.Errorf("the same list loaded twice: err = %v, want one naming the first copy", err)
	}
	if _, err := loadLexicon(); err != nil {
		t.Errorf("the embedded lexicon: %v", err)
	}
}

// softened_by_request.txt names cue phrases; a line that is in no cue list
// would soften nothing, so the loader refuses it.
func TestSoftenedPhrasesMustBeCues(t *testing.T) {
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	if err := lx.markSoftened([]string{"again"}); err != nil {
		t.Errorf("a cue phrase: %v", err)
	}
	err = lx.markSoftened([]string{"fresh bread"})
	if err == nil || !strings.Contains(err.Error(), `"fresh bread" is in no cue list`) {
		t.Errorf("a line in no cue list: err = %v, want one naming it", err)
	}
	// A request opener is a phrase, but of no cue kind.
	if err := lx.markSoftened([]string{"how do i"}); err == nil {
		t.Errorf("a request opener listed as softened: no error")
	}
}

// Every phrase matches its own words: the candidate filter (the phrases
// that start with a word, by the second word they need) and the matcher
// must never skip one. Where a phrase of the same length or longer wins the
// words instead, that is the lexicon's order, and still a match at the start.
func TestEveryPhraseMatchesItsOwnWords(t *testing.T) {
	lx := Default().model.lx
	s := new(scratch)
	for _, p := range lx.phrases {
		if p.impact || slices.Contains(lx.special[:], p) {
			continue // impact phrases need a complaint beside them; "<caps>" and the like are detectors
		}
		words := make([]string, len(p.words))
		for i, w := range p.words {
			switch w {
			case numberToken:
				words[i] = "3"
			case anyToken:
				words[i] = "thing"
			default:
				words[i] = w
			}
		}
		text := strings.Join(words, " ")
		lx.scan(s, text)
		ok := false
		for _, m := range s.matches {
			if m.start == 0 && len(lx.phrases[m.pid].ids) >= len(p.ids) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("phrase %q (%s): no match of its length at the start of %q", p.key, p.kind, text)
		}
	}
}

// Assess counts matches per kind in fixed arrays of 16 (and a 32-bit set of
// the kinds seen); a kind past them would panic on the first match of it.
func TestKindsFitAssessArrays(t *testing.T) {
	if len(allKinds) > len(negatableIdx) {
		t.Errorf("%d kinds, but Assess's per-kind arrays hold %d", len(allKinds), len(negatableIdx))
	}
}

package coach

import (
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

package coach

import (
	"fmt"
	"strings"
)

// Coach assesses customer messages, picks empathy tips and reviews agent replies.
// Build one with New (or use Default); it is safe for concurrent use.
type Coach struct {
	// Threshold is the score at or above which a message counts as frustrated.
	Threshold float64

	model  *model
	review *lexicon
	tips   []Tip
	own    map[string]bool // the lexicon's own cue phrases without placeholders, normalised (see Basis)
}

// New builds a coach from the embedded lexicons, model and tip catalogue.
func New() (*Coach, error) {
	return NewWithModel(weightsTSV)
}

// NewWithModel builds a coach like New, with the model weights tsv (in the
// format cmd/train writes) instead of the embedded ones: for cmd/train to
// measure a model it has just fitted, as the coach would use it.
func NewWithModel(tsv string) (*Coach, error) {
	lx, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	m, err := parseModel(lx, tsv)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	rv, err := loadPhraseLists(reviewFiles)
	if err != nil {
		return nil, fmt.Errorf("review phrases: %w", err)
	}
	rv.finish()
	tips, err := parseTips(tipsTXT)
	if err != nil {
		return nil, err
	}
	own := map[string]bool{}
	for _, p := range lx.phrases {
		if !strings.Contains(p.key, "<") && reportable(int8(p.kindIdx)) {
			own[strings.Join(p.words, " ")] = true
		}
	}
	return &Coach{Threshold: DefaultThreshold, model: m, review: rv, tips: tips, own: own}, nil
}

// WithThreshold returns a copy of c that uses threshold t.
func (c *Coach) WithThreshold(t float64) *Coach {
	cc := *c
	cc.Threshold = t
	return &cc
}

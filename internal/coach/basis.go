package coach

import "strings"

// Basis is what a nudge needs from an assessment, without the customer's
// words: it may wait in a durable queue (Redis), where no customer text is
// ever kept. A Basis holds a score, a cue kind, and at most two phrases of
// our own making: the cue's evidence when it is one of the lexicon's own
// phrases, and the wait in our wording ("3 days", "since Monday").
type Basis struct {
	Score float64 `json:"s"`
	Kind  CueKind `json:"k,omitempty"` // the primary cue's kind; "" when none
	Quote string  `json:"q,omitempty"` // the primary cue's evidence as the lexicon writes it; "" when it is not a lexicon phrase
	Wait  string  `json:"w,omitempty"` // how long the customer says they waited, or ""
}

// Basis keeps what a nudge about a needs.
func (c *Coach) Basis(a Assessment) Basis {
	b := Basis{Score: a.Score, Wait: waitOf(a)}
	if cue, ok := a.Primary(); ok {
		b.Kind = cue.Kind
		if q := strings.Join(normaliseWords(strings.ToValidUTF8(cue.Evidence, "")), " "); c.own[q] {
			b.Quote = q
		}
	}
	return b
}

// SuggestFor is Suggest for a Basis: the tip for its cue (avoiding the
// recent ones) and an opening line with its wait woven in. The
// suggestion's Cue carries the Basis's kind, and its quote as Evidence.
func (c *Coach) SuggestFor(b Basis, recent []string) Suggestion {
	return c.suggest(Cue{Kind: b.Kind, Evidence: b.Quote}, b.Wait, recent)
}

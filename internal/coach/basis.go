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
		b.Quote = c.ownQuote(cue.Evidence)
	}
	return b
}

// ownQuote returns evidence as our own words: one of the lexicon's phrases,
// or words the model knows (a Tone span), normalised ("per my last
// message", "customer service"); an emoji or short code of the lexicon as
// it is ("😤", ":rage:"); or "" when it is none of these, and must not be
// kept.
func (c *Coach) ownQuote(evidence string) string {
	lx := c.model.lx
	if lx.emoji[evidence] {
		return evidence
	}
	words := normaliseWords(strings.ToValidUTF8(evidence, ""))
	q := strings.Join(words, " ")
	if q == "" || c.own[q] {
		return q
	}
	for _, w := range words {
		if _, ok := lx.voc.index[canonical(w)]; !ok {
			return ""
		}
	}
	return q
}

// SuggestFor is Suggest for a Basis: the tip for its cue (avoiding the
// recent ones) and an opening line with its wait woven in. The
// suggestion's Cue carries the Basis's kind, and its quote as Evidence.
func (c *Coach) SuggestFor(b Basis, recent []string) Suggestion {
	return c.suggest(Cue{Kind: b.Kind, Evidence: b.Quote}, b.Wait, recent)
}

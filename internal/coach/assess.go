package coach

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// CueKind names one kind of frustration cue.
type CueKind string

// The cue kinds Assess can report.
const (
	RepeatedContact CueKind = "repeated_contact"
	Waiting         CueKind = "waiting"
	BrokenPromise   CueKind = "broken_promise"
	ChurnThreat     CueKind = "churn_threat"
	Escalation      CueKind = "escalation"
	Shouting        CueKind = "shouting"
	Profanity       CueKind = "profanity"
	Sarcasm         CueKind = "sarcasm"
	NegativeEmotion CueKind = "negative_emotion"
	Urgency         CueKind = "urgency"
	Failure         CueKind = "failure"

	// calmKind marks gratitude and reassurance; it lowers the score and is never reported.
	calmKind CueKind = "calm"
	// requestKind marks the opening of a plain request for information ("how
	// do I", "can I change"). It is never reported, and its weight is learned
	// like any other: a question opener makes calm likelier, but complaints
	// are asked as questions too ("when will this be fixed??? it's been 3
	// days"), so it must not count as calm outright.
	requestKind CueKind = "request"
	// ownKind marks the customer's own action ("I cancelled my order by
	// mistake"). It is never reported, its weight is learned, and its
	// phrases take their words before a failure phrase can: "cancelled my
	// order" is a failure when the company did it, not when the customer did.
	ownKind CueKind = "own"
)

// CueKinds lists every reportable cue kind, in a stable order.
var CueKinds = []CueKind{
	RepeatedContact, Waiting, BrokenPromise, ChurnThreat, Escalation, Shouting,
	Profanity, Sarcasm, NegativeEmotion, Urgency, Failure,
}

// allKinds is CueKinds, then the kinds never reported (calmKind,
// requestKind, ownKind); a kind's index here indexes Model arrays.
var allKinds = append(append([]CueKind{}, CueKinds...), calmKind, requestKind, ownKind)

// reportable reports whether the kind at index ki of allKinds is a cue kind.
func reportable(ki int8) bool { return int(ki) < len(CueKinds) }

func kindIndex(k CueKind) int {
	for i, x := range allKinds {
		if x == k {
			return i
		}
	}
	return -1
}

// ValidCueKind reports whether k is a cue kind Assess or InThread can report.
func ValidCueKind(k CueKind) bool {
	if k == Trajectory || k == Tone {
		return true
	}
	i := kindIndex(k)
	return i >= 0 && i < len(CueKinds)
}

// DefaultThreshold is the model's probability at or above which a message
// counts as frustrated. It was chosen leaving one source out (cmd/evaluate
// -loso): one threshold has to serve a help channel, where 2% of messages
// are frustrated, and a support inbox, where a third are; 0.65 maximises the
// worst of the goals' ratios over the twcs companies (held out in folds) and
// the Slack help channel (held out of the fit).
const DefaultThreshold = 0.65

// MaxCues bounds how many cues one Assessment lists; a 40,000-character rant
// still gets a short, readable explanation.
const MaxCues = 24

// Cue is one piece of evidence of frustration found in a message.
type Cue struct {
	Kind CueKind
	// Evidence is the exact text that triggered the cue: Evidence == text[Start:End].
	Evidence string
	Start    int
	End      int
	// Weight is the cue's contribution to the score, in log-odds.
	Weight float64
	// Weak: a weak sign ("again", "2 hours", one word in capitals). It
	// adds to the score like any other, but the coaching answers a
	// strong cue first.
	Weak bool
}

// Assessment is what Assess makes of one message.
type Assessment struct {
	// Score is the probability-like frustration score in [0, 1].
	Score float64
	// Frustrated reports whether Score is at or above the coach's threshold.
	Frustrated bool
	// Cues are the frustration cues found, in order of position in the text.
	Cues []Cue
	// Language is the message's language as far as the coach can tell:
	// "en", or another ("es", "de", "fr", "pt", "it", "nl"), which it leaves
	// unscored (see Unscored).
	Language string

	text string // the message, for the opening line (Suggest); never shown
}

// Has reports whether the assessment contains a cue of kind k.
func (a Assessment) Has(k CueKind) bool {
	for _, c := range a.Cues {
		if c.Kind == k {
			return true
		}
	}
	return false
}

// Strongest returns the cue with the largest weight, and false when there is none.
func (a Assessment) Strongest() (Cue, bool) {
	best := -1
	for i, c := range a.Cues {
		if best < 0 || c.Weight > a.Cues[best].Weight {
			best = i
		}
	}
	if best < 0 {
		return Cue{}, false
	}
	return a.Cues[best], true
}

// priority orders cue kinds by how much they tell an agent what to do: a
// specific situation (asked three times, a broken promise) beats a general tone.
var priority = map[CueKind]int{
	Trajectory: 10, RepeatedContact: 9, BrokenPromise: 9, ChurnThreat: 8, Escalation: 8, Waiting: 7,
	Urgency: 6, Failure: 5, Sarcasm: 4, NegativeEmotion: 3, Profanity: 2, Shouting: 1,
}

// Primary returns the cue the coaching should answer: a strong cue before a
// weak one ("failed" before the "2 hours" the job ran, which is no wait for
// an answer), then the most specific kind present (of repeated contact, a
// second ask before a problem that came back), then the strongest of that
// kind; false when there are no cues.
func (a Assessment) Primary() (Cue, bool) {
	best := -1
	for i, c := range a.Cues {
		if best < 0 {
			best = i
			continue
		}
		b := a.Cues[best]
		if c.Weak != b.Weak {
			if !c.Weak {
				best = i
			}
			continue
		}
		if c.Kind == RepeatedContact && b.Kind == RepeatedContact && recurring(c.Evidence) != recurring(b.Evidence) {
			// Having to ask again says more to the agent than the problem
			// coming back: "third time I'm asking… still broken".
			if !recurring(c.Evidence) {
				best = i
			}
			continue
		}
		if priority[c.Kind] > priority[b.Kind] || priority[c.Kind] == priority[b.Kind] && c.Weight > b.Weight {
			best = i
		}
	}
	if best < 0 {
		return Cue{}, false
	}
	return a.Cues[best], true
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Assess scores one message with the default coach.
func Assess(text string) Assessment {
	return Default().Assess(text)
}

// Assess scores one message: the model's probability that it is
// frustrated, whether that reaches the coach's threshold, and the evidence:
// the lexicon's cues found in it and the spans of its words that raised the
// score most. It is safe for concurrent use and accepts any input, including
// invalid UTF-8.
func (c *Coach) Assess(text string) Assessment {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	m := c.model
	m.lx.scan(s, text)

	// The words: each token's weight, and the weight of the pair it closes
	// (scaled alike; see wordScale).
	scale := wordScale(len(s.tokens))
	s.wordW, s.pairW = s.wordW[:0], s.pairW[:0]
	z := m.bias
	known := 0
	for i := range s.tokens {
		t := &s.tokens[i]
		if t.id != 0 {
			known++
		}
		w, p := m.wordWeight(t)*scale, 0.0
		if i > 0 {
			p = m.pairWeight(&s.tokens[i-1], t) * scale
		}
		s.wordW, s.pairW = append(s.wordW, w), append(s.pairW, p)
		z += w + p
	}
	if lang := language(text, len(s.tokens), known); lang != "en" {
		// Not English: the lexicons and weights would give a number that
		// means nothing. Unscored, never given a random score.
		return Assessment{Language: lang}
	}

	// The lexicon's matches: each phrase's weight, and each kind's weight
	// (strong or weak) once per match, at most three times.
	var kindCount, weakCount, negCount [16]int
	cues := s.hits[:0]
	for i := range s.matches {
		mt := &s.matches[i]
		ki := mt.kindIdx
		if mt.negated {
			if negCount[ki] < 3 {
				z += m.negKind[ki]
			}
			negCount[ki]++
			continue
		}
		w := m.phraseWeight(mt)
		kindW, count := m.kind, &kindCount // a weak match has its kind's weak weight
		if mt.weak {
			kindW, count = m.weakKind, &weakCount
		}
		if count[ki] < 3 {
			w += kindW[ki]
		}
		count[ki]++
		z += w
		if reportable(ki) && w > 0 {
			cues = append(cues, hit{kind: allKinds[ki], start: mt.start, end: mt.end, w: w, weak: mt.weak})
		}
	}
	z += m.excl*float64(min(s.excl, 3)) + m.quest*float64(min(s.quest, 3))

	a := Assessment{Score: sigmoid(z), Language: "en", text: text}
	// The heaviest MaxCues cues (the first by position among equals), each
	// with the weight of the words inside it, then the tone spans outside
	// them.
	s.hits = cues[:0] // keep the buffer for the next message
	cues = heaviest(cues, MaxCues)
	for i := range cues {
		cues[i].w += s.within(cues[i].start, cues[i].end)
	}
	// Tone spans are evidence for a frustrated verdict: a calm message
	// quotes only its lexicon cues (a topic word that leans a little, "the
	// app", is no sign of anything in a calm question).
	all := cues
	if a.Score >= c.Threshold {
		all = s.toneSpans(cues)
	}
	all = heaviest(all, MaxCues)
	slices.SortFunc(all, func(x, y hit) int { return cmp.Or(cmp.Compare(x.start, y.start), cmp.Compare(x.end, y.end)) })
	if len(all) > 0 {
		a.Cues = make([]Cue, len(all))
		for i, h := range all {
			a.Cues[i] = Cue{Kind: h.kind, Evidence: text[h.start:h.end], Start: int(h.start), End: int(h.end), Weight: h.w, Weak: h.weak}
		}
	}
	a.Frustrated = a.FrustratedAt(c.Threshold)
	return a
}

// heaviest returns the n heaviest of hs (the first by position among
// equals), heaviest first: one pass that keeps the best n so far, since a
// long message has thousands of hits and keeps a few.
func heaviest(hs []hit, n int) []hit {
	if len(hs) <= n {
		return hs
	}
	better := func(x, y hit) bool { return x.w > y.w || x.w == y.w && x.start < y.start }
	top := make([]hit, 0, n+1)
	for _, h := range hs {
		if len(top) == n && !better(h, top[n-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return better(h, top[i]) })
		top = slices.Insert(top, i, h)
		if len(top) > n {
			top = top[:n]
		}
	}
	return top
}

// hit is a cue before it is shown: its text is taken only for the cues
// kept.
type hit struct {
	kind       CueKind
	start, end int32
	w          float64
	weak       bool
}

// FrustratedAt reports whether a is frustrated at threshold t: a score of
// at least t, and evidence to quote (a cue, or a span of words that raised
// the score). A scored message that reaches t always has some, unless its
// score came from many words each too light to quote; that message is not
// called frustrated, since a nudge must say why.
func (a Assessment) FrustratedAt(t float64) bool {
	return !a.Unscored() && a.Score >= t && len(a.Cues) > 0
}

// wordWeight is the model's weight of token t's word, negated or not.
func (m *model) wordWeight(t *token) float64 {
	i := 2 * int(t.id)
	if t.negated {
		i++
	}
	if i < len(m.lx.voc.weights) {
		return m.lx.voc.weights[i]
	}
	return 0
}

// phraseWeight is what match mt adds to the score beside its kind's weight.
func (m *model) phraseWeight(mt *match) float64 {
	w := m.phrase[mt.pid]
	if mt.intens {
		w += m.intens
	}
	return w
}

// within is the weight of the words (and of the word pairs) wholly inside
// text[start:end], as the last Assess summed them: a cue spans a few
// tokens, found by binary search.
func (s *scratch) within(start, end int32) float64 {
	lo, _ := slices.BinarySearchFunc(s.tokens, start, func(t token, x int32) int { return cmp.Compare(t.start, x) })
	w := 0.0
	for i := lo; i < len(s.tokens) && s.tokens[i].end <= end; i++ {
		w += s.wordW[i]
		if i > lo {
			w += s.pairW[i]
		}
	}
	return w
}

// Tone is the kind of a span of words that raised the score but is no
// lexicon cue ("rapidly losing faith", "wasnt helpful"): the model learned
// it from labelled messages. It shows why the score is high; the coaching
// answers it with a general acknowledgement.
const Tone CueKind = "tone"

// minTone is the least weight, in log-odds, of a span of words shown as
// evidence: lighter words are part of the score but say too little alone.
const minTone = 0.45

// minOnly is the least weight of a span shown when the message has no
// other evidence (see toneSpans).
const minOnly = 0.2

// maxTone bounds how many tone spans an assessment quotes.
const maxTone = 3

// toneSpans appends to the cues of a message that scored high the spans of
// one word or two adjacent words of a clause that raised the score most,
// outside the cues, at most maxTone of them, each weighing at least minTone
// (or, when there are no cues, the heaviest, from minOnly).
func (s *scratch) toneSpans(cues []hit) []hit {
	n := len(cues)
	overlaps := func(start, end int32) bool {
		for _, c := range cues {
			if start < c.end && c.start < end {
				return true
			}
		}
		return false
	}
	least := minTone
	if n == 0 {
		// A message the words alone scored high shows its heaviest span
		// whatever its weight, from minOnly, so that it still says which
		// words did.
		least = minOnly
	}
	for len(cues)-n < maxTone {
		// The heaviest span left, by one pass over the tokens.
		best := hit{kind: Tone, w: least}
		found := false
		for i := range s.tokens {
			t := &s.tokens[i]
			if w := s.wordW[i]; w >= best.w && !overlaps(t.start, t.end) && (!found || w > best.w) {
				best.start, best.end, best.w, found = t.start, t.end, w, true
			}
			if i > 0 && s.pairW[i] != 0 && s.tokens[i-1].clause == t.clause {
				a := &s.tokens[i-1]
				if w := s.wordW[i-1] + s.wordW[i] + s.pairW[i]; w >= best.w && !overlaps(a.start, t.end) && (!found || w > best.w) {
					best.start, best.end, best.w, found = a.start, t.end, w, true
				}
			}
		}
		if !found {
			break
		}
		cues = append(cues, best)
		if least == minOnly {
			least = minTone
		}
	}
	return cues
}

// wordScale is the factor on a message's summed word weights: 1 up to
// longMessage tokens, then longMessage/n, so that a long message counts its
// words like an average window of that length. The model was fitted on short
// messages (GoEmotions: median 13 tokens, 99th percentile 27), and a plain
// sum over thousands of words drifts to 0 or 1 whatever they say. The cues
// are not scaled: each kind counts at most 3 times anyway.
func wordScale(n int) float64 {
	if n <= longMessage {
		return 1
	}
	return longMessage / float64(n)
}

const longMessage = 40

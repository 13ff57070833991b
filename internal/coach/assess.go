package coach

import (
	"math"
	"math/bits"
	"slices"
	"unsafe"
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
	if k == Trajectory {
		return true
	}
	i := kindIndex(k)
	return i >= 0 && i < len(CueKinds)
}

// DefaultThreshold is the score at or above which a message with an emotion
// cue counts as frustrated. It was chosen on real Slack traffic (1,496
// labelled help-channel messages, 27 frustrated: shared/data/slackchats) for
// precision first: at 0.60 the verdict flags 1.9% of them with precision 0.72
// and recall 0.78; at 0.45, 2.6% with precision 0.59; at 0.65 recall falls to
// 0.59. See cmd/evaluate -sweep.
const DefaultThreshold = 0.60

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
	// Weak: context, not evidence ("again", "2 hours", one word in
	// capitals). It adds to the score, but never makes a message
	// frustrated on its own, and the coaching answers a strong cue first.
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
// an answer), then the most specific kind present, then the strongest of
// that kind; false when there are no cues.
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
		if priority[c.Kind] > priority[b.Kind] || priority[c.Kind] == priority[b.Kind] && c.Weight > b.Weight {
			best = i
		}
	}
	if best < 0 {
		return Cue{}, false
	}
	return a.Cues[best], true
}

func sigmoid(z float64) float64 {
	if z > 35 {
		return 1
	}
	if z < -35 {
		return 0
	}
	return 1 / (1 + expSmall(-z))
}

// exp2Table[j] is 2^(j/64).
var exp2Table = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// expSmall is e^x for |x| ≤ 36, within 1e-13 relative error of math.Exp and
// with a shorter dependency chain, which is what Assess waits on at its end:
// x = (k + j/64)·ln2 + r with |r| ≤ ln2/128, e^x = 2^k · 2^(j/64) · e^r, and e^r
// is a degree-4 polynomial evaluated in two halves (Estrin's scheme).
func expSmall(x float64) float64 {
	const (
		ln2Over64 = 0.6931471805599453 / 64
		inv       = 64 / 0.6931471805599453
	)
	n := int64(math.Floor(x*inv + 0.5)) // x ≈ n·ln2/64
	r := x - float64(n)*ln2Over64
	r2 := r * r
	p := (1 + r) + r2*((0.5+r*(1.0/6))+r2*(1.0/24))
	k, j := n>>6, n&63 // n = 64k + j, 0 ≤ j < 64 (arithmetic shift floors)
	return p * exp2Table[j] * math.Float64frombits(uint64(k+1023)<<52)
}

// Assess scores one message with the default coach.
func Assess(text string) Assessment {
	return Default().Assess(text)
}

// Assess scores one message: a score in [0, 1], whether it reaches the coach's
// threshold, and the cues that explain it. It is safe for concurrent use and
// accepts any input, including invalid UTF-8.
func (c *Coach) Assess(text string) Assessment {
	s := scratchPool.Get().(*scratch)
	m := c.model
	lx := m.lx
	lx.scan(s, text)

	z := m.bias
	var kindCount [16]int32
	var negCount [16]int32
	var seen uint32     // bit ki: kind ki matched, negated or not
	idx := s.cueIdx[:0] // the matches that are cues
	evidence := false   // a cue of a kind that shows an emotion (see evidenceKinds)
	for i := range s.matches {
		mt := &s.matches[i]
		ki := mt.kindIdx
		seen |= 1 << ki
		if mt.negated {
			negCount[ki]++
			continue
		}
		kindCount[ki]++
		w := m.phraseWeight(mt)
		z += w
		if m.isCue(mt, w) {
			idx = append(idx, int32(i))
			if evidenceIdx[ki] && !mt.weak {
				evidence = true
			}
		}
	}
	for ; seen != 0; seen &= seen - 1 {
		ki := bits.TrailingZeros32(seen)
		z += m.kind[ki]*float64(min(kindCount[ki], 3)) + m.negKind[ki]*float64(min(negCount[ki], 3))
	}
	pairSum, known := m.readWords(s.tokens)
	z += (s.wordSum + pairSum) * wordScale(len(s.tokens))
	z += m.excl*float64(min(s.excl, 3)) + m.quest*float64(min(s.quest, 3))

	if lang := language(text, len(s.tokens), known); lang != "en" {
		// Not English: the lexicons and weights would give a number that
		// means nothing. Unscored, never given a random score.
		s.cueIdx = idx
		scratchPool.Put(s)
		return Assessment{Language: lang}
	}
	a := Assessment{Score: sigmoid(z), Language: "en", text: text}
	// No cue that shows an emotion, no verdict: whatever the words, a
	// message with nothing to quote is not frustrated (issue 15). The score
	// stays the model's, to rank messages by.
	a.Frustrated = evidence && a.Score >= c.Threshold
	if len(idx) > 0 {
		a.Cues = s.cues(text, m, idx)
	}
	s.cueIdx = idx
	scratchPool.Put(s)
	return a
}

// phraseWeight is what match mt adds to the score beside its kind's weight.
func (m *model) phraseWeight(mt *match) float64 {
	w := m.phrase[mt.pid]
	if mt.intens {
		w += m.intens
	}
	return w
}

// isCue reports whether match mt, whose phrase weight is w, is a cue to
// show: not negated, of a reportable kind, and pushing towards frustration.
func (m *model) isCue(mt *match, w float64) bool {
	return !mt.negated && reportable(mt.kindIdx) && m.kind[mt.kindIdx]+w > 0
}

// cues returns the cues of the matches idx, the first MaxCues by position
// (ties in match order, as a stable sort leaves them). The matches arrive
// nearly sorted (the special detectors' hits come last), so the usual few are
// sorted by insertion; the indexes are sorted and only the cues kept are
// built, since moving finished Cues, which hold strings, costs write barriers.
func (s *scratch) cues(text string, m *model, idx []int32) []Cue {
	if len(idx) <= 16 {
		for i := 1; i < len(idx); i++ {
			for j := i; j > 0 && s.matches[idx[j-1]].start > s.matches[idx[j]].start; j-- {
				idx[j-1], idx[j] = idx[j], idx[j-1]
			}
		}
	} else {
		slices.SortStableFunc(idx, func(x, y int32) int { return int(s.matches[x].start - s.matches[y].start) })
	}
	idx = idx[:min(len(idx), MaxCues)]
	cs := s.newCues(len(idx))
	for k, i := range idx {
		mt := &s.matches[i]
		cs[k] = Cue{Kind: allKinds[mt.kindIdx], Evidence: text[mt.start:mt.end], Start: int(mt.start), End: int(mt.end), Weight: m.kind[mt.kindIdx] + m.phraseWeight(mt), Weak: mt.weak}
	}
	return cs
}

// newCues returns a slice of n cues for an Assessment to keep. Cues are
// carved from chunks of cueChunk, so that one allocation serves many messages
// (measured: 303 → 290 ns per message on the benchmark corpus). A chunk is
// written once, front to back, and each slice's capacity ends at its length,
// so an Assessment never sees another's cues change. The price:
// an Assessment kept long keeps its whole chunk alive (3.5 KiB), and with it
// the texts of the other messages whose cues share the chunk. The bot keeps
// none: it acts on an Assessment and drops it.
func (s *scratch) newCues(n int) []Cue {
	if cap(s.cueBuf)-len(s.cueBuf) < n {
		s.cueBuf = make([]Cue, 0, max(cueChunk, n))
	}
	k := len(s.cueBuf)
	s.cueBuf = s.cueBuf[:k+n]
	return s.cueBuf[k : k+n : k+n]
}

const cueChunk = 64

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

// unsafeString views b as a string without copying; b must not change while the
// string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

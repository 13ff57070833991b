package coach

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
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

// ValidCueKind reports whether k is a cue kind Assess or AssessInThread can report.
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
// precision first: at 0.60 the verdict flags 1.8% of them with precision 0.74
// and recall 0.74; at 0.45, 2.7% with precision 0.56. See cmd/evaluate -sweep.
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

// Primary returns the cue the coaching should answer: the most specific kind
// present, the strongest of that kind; false when there are no cues.
func (a Assessment) Primary() (Cue, bool) {
	best := -1
	for i, c := range a.Cues {
		if best < 0 || priority[c.Kind] > priority[a.Cues[best].Kind] ||
			priority[c.Kind] == priority[a.Cues[best].Kind] && c.Weight > a.Cues[best].Weight {
			best = i
		}
	}
	if best < 0 {
		return Cue{}, false
	}
	return a.Cues[best], true
}

// token is one word of the input.
// Offsets and counts are int32 to keep tokens small; Assess reads at most
// maxAssessBytes of a message.
type token struct {
	start, end int32 // byte offsets in the input
	clause     int32 // index of the clause (split at , ; : . ! ? and newlines)
	sentence   int32 // index of the sentence (split at . ! ? and newlines)
	letters    int32
	id         int32 // vocab ID, 0 if unknown
	caps       bool
	flags      uint8 // vocab flags, plus fNumber for numerals
	negated    bool  // a negator precedes it within three words of its clause; never a negator itself
}

// maxAssessBytes bounds how much of a message the tokenizer reads, so that token
// offsets fit in an int32. It is far beyond any chat message.
const maxAssessBytes = 1 << 30

// match is one lexicon hit or special detector hit.
// It holds no pointers, so that recording one costs no GC write barrier.
type match struct {
	pid        int32 // the phrase: lexicon.phrases[pid]
	start, end int32 // byte offsets in the input
	kindIdx    int8  // the phrase's kindIdx
	weak       bool  // the phrase's weak: context, not evidence
	negated    bool
	intens     bool
	impact     bool // the phrase's impact
}

// newMatch is a match of phrase p over text[start:end].
func newMatch(p *phrase, start, end int32) match {
	return match{pid: int32(p.id), kindIdx: int8(p.kindIdx), start: start, end: end, impact: p.impact, weak: p.weak}
}

type scratch struct {
	norm    []byte // the normalised form of the word being looked up, on the byte-by-byte path
	tokens  []token
	matches []match
	excl    int
	quest   int
	extra   []match // hits of the special detectors, found while tokenizing
	slow    bool    // tokenize byte by byte only (tests compare both paths)
	cueIdx  []int32 // scratch for ordering many cues
	cueBuf  []Cue   // where newCues carves Assessments' cues from

	anyCaps bool // some token is in capitals
	lastNeg int  // the index of the last negator token, for the tokenizer
	// wordSum is the sum of the tokens' word weights in the model, each
	// plain or negated as the token is (see entry).
	wordSum float64

	// Tokenizer state the separators change.
	specials         *lexicon // nil: no special detectors
	clause, sentence int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// word returns token i's normalised word, as the tokenizer read it from text
// (the text last tokenized); the result is valid until the next call.
func (s *scratch) word(text string, i int) string {
	t := s.tokens[i]
	_, s.norm, _, _ = slowWord(text[:t.end], int(t.start), s.norm[:0])
	return unsafeString(s.norm)
}

// tokenize splits text into words, normalising them to lower case and dropping
// apostrophes inside words ("Don't" → "dont"). It never fails: invalid UTF-8 is
// treated as a separator.
func (s *scratch) tokenize(text string) {
	s.tokenizeWith(text, nil)
}

func (s *scratch) tokenizeWith(text string, lx *lexicon) {
	if len(text) > maxAssessBytes {
		text = text[:maxAssessBytes]
	}
	specials := lx
	if lx != nil && lx.special[0] == nil {
		specials = nil // a lexicon without special detectors (the review phrases)
	}
	if s.specials != specials {
		s.specials = specials // (a pointer store costs a write barrier check)
	}
	s.tokens = s.tokens[:0]
	s.extra = s.extra[:0]
	s.excl, s.quest = 0, 0
	s.clause, s.sentence = 0, 0
	s.anyCaps = false
	s.lastNeg, s.wordSum = -10, 0
	if lx == nil || s.slow {
		for i := 0; i < len(text); {
			i = s.step(text, i, lx)
		}
		return
	}
	// The hot loop reads the commonest words, ASCII words of up to 8 bytes
	// that start with a letter, 8 bytes at a time, and looks each up by its
	// bytes packed into a uint64. Everything else (separators, longer or
	// non-ASCII words, numerals, URLs, a full token slice) goes to step,
	// which keeps its state in s. The loop's own state is stored to s
	// around that call, so nothing is live across it: the compiler then
	// keeps the loop in registers instead of spilling them on every word.
	voc := lx.voc
	tokens, lastNeg, wordSum := s.tokens, s.lastNeg, s.wordSum
	i := 0
	for i < len(text) {
		c := text[i]
		if c == ' ' {
			i++ // the commonest separator, and one with no meaning here
			continue
		}
		if c < utf8.RuneSelf && byteClass[c]&clLetter != 0 && len(tokens) < cap(tokens) {
			x := load8(text, i)
			letter, alnum := classify8(x)
			// A letter's case is its bit 5 (0x20), which x<<2 moves to bit 7:
			// letter&(x<<2) marks the lower-case letters, and setting bit 5 on
			// every letter (x | letter>>2) lower-cases the word.
			stop := ^alnum & hi8 // the bytes that are no letter or digit
			n := bits.TrailingZeros64(stop) >> 3
			// n == 8 when all 8 bytes are letters or digits; the word may go on.
			e := i + n
			var ent *entry
			var letters int
			var caps bool
			if end := endOf(text, e); end == wordEnd || end == urlEnd && !maybeURL(text, i) {
				m := firstBytes(stop)
				key := (x | (letter&m)>>2) & m
				letters = count8(letter & m)
				caps = letters >= 2 && letter&m&(x<<2) == 0
				ent = voc.findKey(key)
			} else if n == 8 {
				// A word of 9 to 16 bytes: its next 8 bytes likewise.
				x2 := load8(text, e)
				letter2, alnum2 := classify8(x2)
				stop2 := ^alnum2 & hi8
				n2 := bits.TrailingZeros64(stop2) >> 3
				if e += n2; n2 < 8 && endOf(text, e) != notEnd {
					m2 := firstBytes(stop2)
					letters = count8(letter) + count8(letter2&m2)
					caps = letters >= 2 && (letter&(x<<2)|letter2&m2&(x2<<2)) == 0
					ent = voc.findMid(x|letter>>2, (x2|(letter2&m2)>>2)&m2)
				}
			} else if text[e] == '\'' && e+1 < len(text) && isWordByte(text[e+1]) {
				// One apostrophe inside a word of up to 8 bytes without it:
				// "don't" reads "dont", and a possessive's s goes ("it's",
				// "customer's"), as slowWord does.
				x2 := load8(text, e+1)
				letter2, alnum2 := classify8(x2)
				stop2 := ^alnum2 & hi8
				n2 := bits.TrailingZeros64(stop2) >> 3
				if e2 := e + 1 + n2; n+n2 <= 8 && endOf(text, e2) != notEnd {
					m := firstBytes(stop)
					key := (x | (letter&m)>>2) & m
					letters = count8(letter & m)
					caps = letter&m&(x<<2) == 0
					if n2 == 1 && x2&0xdf == 'S' {
						// The possessive's s: neither in the word nor counted.
					} else {
						m2 := firstBytes(stop2)
						key |= (x2 | (letter2&m2)>>2) & m2 << (8 * n)
						letters += count8(letter2 & m2)
						caps = caps && letter2&m2&(x2<<2) == 0
					}
					caps = caps && letters >= 2
					ent = voc.findKey(key)
					e = e2
				}
			}
			if ent != nil {
				if caps {
					s.anyCaps = true
				}
				k := len(tokens)
				tokens = tokens[:k+1]
				t := &tokens[k] // every field is set: the slot may hold an old token
				t.start, t.end = int32(i), int32(e)
				t.clause, t.sentence = s.clause, s.sentence
				t.letters, t.caps = int32(letters), caps
				t.id, t.flags = ent.id, ent.flags
				var w float64
				t.negated, lastNeg, w = negation(tokens, k, lastNeg, ent)
				wordSum += w
				i = e
				if i < len(text) && text[i] == ' ' {
					i++ // saves a turn of the loop for the commonest separator
				}
				continue
			}
		}
		if s.plainSeparator(text, i) { // the commonest separators, with no call
			i++
			continue
		}
		s.tokens, s.lastNeg, s.wordSum = tokens, lastNeg, wordSum
		i = s.step(text, i, lx)
		tokens, lastNeg, wordSum = s.tokens, s.lastNeg, s.wordSum
	}
	s.tokens, s.lastNeg, s.wordSum = tokens, lastNeg, wordSum
}

// negation decides for token k of toks, whose vocabulary entry is e (the
// token's flags may add fNumber, never fNegator), whether it is negated: a
// negator precedes it within three words of its clause, and it is not a
// negator itself. It returns that, the index of the last negator after
// token k (lastNeg is the one before it), and the word's weight as negated
// or not.
func negation(toks []token, k, lastNeg int, e *entry) (negated bool, last int, w float64) {
	if e.flags&fNegator != 0 {
		return false, k, e.w[0]
	}
	if k-lastNeg <= 3 && toks[lastNeg].clause == toks[k].clause {
		return true, lastNeg, e.w[1]
	}
	return false, lastNeg, e.w[0]
}

// step reads what starts at text[i] (a separator, a URL, a word) byte by
// byte, records it in s, and returns where the next may start. It is the
// tokenizer's reference: the hot loop of tokenizeWith must do what it does
// for the words it takes (FuzzTokenizerPaths compares them).
func (s *scratch) step(text string, i int, lx *lexicon) int {
	c := text[i]
	if c < utf8.RuneSelf && byteClass[c] == 0 {
		return s.separator(text, i, s.tokens)
	}
	if maybeURL(text, i) {
		if j := skipURL(text, i); j > i {
			return j
		}
	}
	start := i
	i, norm, letters, uppers := slowWord(text, i, s.norm[:0])
	if i == start {
		return s.separator(text, i, s.tokens) // not a letter: a symbol or emoji
	}
	s.norm = norm
	caps := letters >= 2 && uppers == letters
	if caps {
		s.anyCaps = true
	}
	tok := token{start: int32(start), end: int32(i), clause: s.clause, sentence: s.sentence, letters: int32(letters), caps: caps}
	e := &unknown
	if lx != nil {
		e = lx.voc.find(unsafeString(norm))
		tok.id, tok.flags = e.id, e.flags
		// A numeral counts as a number whether or not the model knows it as a word.
		if c >= '0' && c <= '9' && isNumber(unsafeString(norm)) {
			tok.flags |= fNumber
		}
	}
	s.tokens = append(s.tokens, tok)
	if lx != nil {
		var w float64
		k := len(s.tokens) - 1
		s.tokens[k].negated, s.lastNeg, w = negation(s.tokens, k, s.lastNeg, e)
		s.wordSum += w
	}
	if i < len(text) && text[i] == ' ' {
		i++
	}
	return i
}

// slowWord reads the word at text[i:] byte by byte, appending its normalised
// form to norm, and returns where it ends (i itself when text[i] starts no
// word) with its letter and upper-case counts.
func slowWord(text string, i int, norm []byte) (int, []byte, int, int) {
	start := i
	letters, uppers := 0, 0
	var enc [utf8.UTFMax]byte
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if k := byteClass[c]; k != 0 {
				if k == clUpper {
					uppers++
					c += 'a' - 'A'
				}
				letters += int(k & clLetter)
				norm = append(norm, c)
				i++
				continue
			}
			if c == '\'' && i > start && i+1 < len(text) && isWordByte(text[i+1]) {
				i++
				if possessive(text, i) {
					i++ // "daughter's" → "daughter"
				}
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\u2019' && i > start && i+size < len(text) && isWordByte(text[i+size]) {
			i += size
			if possessive(text, i) {
				i++
			}
			continue
		}
		if r != utf8.RuneError && unicode.IsLetter(r) {
			n := utf8.EncodeRune(enc[:], unicode.ToLower(r))
			norm = append(norm, enc[:n]...)
			letters++
			i += size
			continue
		}
		break
	}
	return i, norm, letters, uppers
}

// plainSeparator does what separator does for the commonest separators, '.'
// and ',' and a '?' or '!' alone (a run of them may be shouting), and
// reports whether text[i] was one. The tokenizer's hot loop calls it inline.
func (s *scratch) plainSeparator(text string, i int) bool {
	switch text[i] {
	case '.':
		s.sentence++
	case ',':
	case '?', '!':
		if i+1 < len(text) && (text[i+1] == '?' || text[i+1] == '!') {
			return false
		}
		if text[i] == '?' {
			s.quest++
		} else {
			s.excl++
		}
		s.sentence++
	default:
		return false
	}
	s.clause++
	return true
}

// separator handles the separator at text[i], which starts no word: it
// advances the clause and sentence counts, counts ! and ?, and records the
// special detectors' hits (punctuation runs, censored swearing, emoji). It
// returns where the next token may start.
func (s *scratch) separator(text string, i int, tokens []token) int {
	if s.plainSeparator(text, i) {
		return i + 1
	}
	lx := s.specials
	c := text[i]
	switch c {
	case '!', '?':
		j := i
		bang, q := 0, 0
		for j < len(text) && (text[j] == '!' || text[j] == '?') {
			if text[j] == '!' {
				bang++
			} else {
				q++
			}
			j++
		}
		s.excl += bang
		s.quest += q
		switch {
		case lx == nil:
		case q >= 2 && s.pingBefore(text, i, tokens):
			prev := tokens[len(tokens)-1]
			s.extra = append(s.extra, newMatch(lx.special[specialPing], prev.start, int32(j)))
		case bang+q >= 3 || (bang > 0 && q > 0):
			s.extra = append(s.extra, newMatch(lx.special[specialPunct], int32(i), int32(j)))
		}
		s.clause++
		s.sentence++
		return j
	case '\n':
		s.clause++
		s.sentence++
	case ';', ':', '(', ')', '-':
		s.clause++
	case '<', '`', '@', '[', '&', '>':
		if j := skipQuote(text, i); j > i {
			return j
		}
		if j := skipMarkup(text, i); j > i {
			return j
		}
	case '*':
		// Censored swearing: "f**k", "sh*t".
		if lx != nil && len(tokens) > 0 {
			prev := tokens[len(tokens)-1]
			if prev.end == int32(i) && prev.end-prev.start <= 3 && prev.letters > 0 {
				j := i
				for j < len(text) && text[j] == '*' && j-i < 4 {
					j++
				}
				k := j
				for k < len(text) && isWordByte(text[k]) && k-j < 4 {
					k++
				}
				// Letters after the stars ("f**k", "sh*t"), or one or two
				// before at least two stars ("f***"); not Slack bold ("*now*").
				censored := k > j || prev.end-prev.start <= 2 && j-i >= 2
				if censored && (k == len(text) || !isWordByte(text[k])) {
					s.extra = append(s.extra, newMatch(lx.special[specialCensored], prev.start, int32(k)))
					return k
				}
			}
		}
	}
	if (c == ':' || c == ';') && lx != nil {
		if j := s.emoticon(text, i); j > i {
			return j
		}
	}
	if c < utf8.RuneSelf {
		return i + 1
	}
	_, size := utf8.DecodeRuneInString(text[i:])
	if lx != nil && size >= 3 {
		s.emojiAt(text, i, i+size, i+size)
	}
	return i + size
}

// emoticon reads a Slack short code (":rage:", ":face_palm::skin-tone-3:")
// or an emoticon (":(", ":-)", ";)") at text[i], records it when the
// lexicon knows its mood, and returns where it ends, or i when there is
// none. A short code is never read as words: ":sweat_smile:" says nothing
// of sweat.
func (s *scratch) emoticon(text string, i int) int {
	j := i + 1
	if text[i] == ':' {
		for j < len(text) && j-i < 60 && (isWordByte(text[j]) || text[j] == '_' || text[j] == '-' || text[j] == '+' || text[j] == '\'') {
			j++
		}
		if j < len(text) && text[j] == ':' && j > i+1 {
			nameEnd, end := j+1, j+1
			// A skin tone is a short code of its own right after the face:
			// ":face_palm::skin-tone-3:".
			const tone = ":skin-tone-"
			if strings.HasPrefix(text[end:], tone) {
				if e := strings.IndexByte(text[end+len(tone):], ':'); e >= 0 && e <= 2 {
					end += len(tone) + e + 1
				}
			}
			s.emojiAt(text, i, nameEnd, end)
			return end
		}
	}
	// An emoticon: ":(", ":-(", ":'(", ":)", ":-)", ":D", ";)", ";-)".
	j = i + 1
	if j < len(text) && (text[j] == '-' || text[j] == '\'') {
		j++
	}
	if j < len(text) && (text[j] == '(' || text[j] == ')' || text[j] == 'D' || text[j] == 'P' || text[j] == '/') {
		if j+1 < len(text) && isWordByte(text[j+1]) {
			return i // "re:Dashboard", "s:Panel"
		}
		if text[j] == '/' && j+1 < len(text) && text[j+1] == '/' {
			return i // "https://"
		}
		s.emojiAt(text, i, j+1, j+1)
		return j + 1
	}
	return i
}

// emojiAt records the emoji text[start:end] as an angry or a calm one when
// the lexicon lists its name, text[start:nameEnd] (a skin tone after the
// name is part of the emoji but not of its name).
func (s *scratch) emojiAt(text string, start, nameEnd, end int) {
	lx := s.specials
	switch name := text[start:nameEnd]; {
	case lx.emoji[name]:
		s.extra = append(s.extra, newMatch(lx.special[specialEmoji], int32(start), int32(end)))
	case lx.calmEmoji[name]:
		s.extra = append(s.extra, newMatch(lx.special[specialCalmEmoji], int32(start), int32(end)))
	}
}

// pingBefore reports whether the word just before text[i] is one of
// pingWords, written right against it ("hello??").
func (s *scratch) pingBefore(text string, i int, tokens []token) bool {
	if len(tokens) == 0 || tokens[len(tokens)-1].end != int32(i) {
		return false
	}
	w := text[tokens[len(tokens)-1].start:i]
	for _, p := range pingWords {
		if strings.EqualFold(w, p) {
			return true
		}
	}
	return false
}

// skipQuote returns where a quoted line that starts at text[i] ends (Slack
// sends a quote, "> words", as "&gt; words"), or i when text[i] starts none. Quoted
// words are someone else's, not the writer's tone.
func skipQuote(text string, i int) int {
	if i > 0 && text[i-1] != '\n' {
		return i
	}
	rest := text[i:]
	if !strings.HasPrefix(rest, "&gt;") {
		// A bare ">" cannot start a line of a Slack message: Slack escapes
		// it. Elsewhere (a Reddit comment) it may be the writer's own.
		return i
	}
	if e := strings.IndexByte(rest, '\n'); e >= 0 {
		return i + e
	}
	return len(text)
}

// skipMarkup returns where the markup starting at text[i] ends, or i when
// there is none. Markup is text that is not the customer's own words, so it
// says nothing about their mood and must not read as shouting or failure:
// Slack's <@U024BE7LH> mentions, <#C…|channel> links, <!here>, and
// <https://…|label> links; `code` and ```code blocks``` (pasted error logs
// are full of capitals and "error"); @handles ("@AmazonHelp") and the
// domain of an e-mail address; bare URLs (see skipURL); and the placeholders
// of anonymised text, a bracketed upper-case word such as "[NAME]" (which
// read as shouting in every GoEmotions comment that names someone); and HTML
// entities ("&amp;", "&#39;"), which scraped tweets are full of.
func skipMarkup(text string, i int) int {
	const maxSpan = 2000 // a longer "span" is not markup: the text goes on as usual
	rest := text[i+1:]
	switch text[i] {
	case '<':
		if rest == "" || !(rest[0] == '@' || rest[0] == '#' || rest[0] == '!' ||
			hasPrefixFold(rest, "http") || hasPrefixFold(rest, "mailto:")) {
			return i
		}
		for j := 0; j < len(rest) && j < maxSpan; j++ {
			switch rest[j] {
			case '>':
				return i + 1 + j + 1
			case '<', '\n':
				return i
			}
		}
	case '`':
		if strings.HasPrefix(rest, "``") {
			if end := strings.Index(rest[2:], "```"); end >= 0 {
				return i + 3 + end + 3
			}
			return i
		}
		for j := 0; j < len(rest) && j < maxSpan; j++ {
			switch rest[j] {
			case '`':
				return i + 1 + j + 1
			case '\n':
				return i
			}
		}
	case '&': // "&amp;", "&#39;"
		return skipShortToken(text, i, 8, ';', func(c byte, j int) bool {
			return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '#' && j == 0
		})
	case '[': // "[NAME]"
		return skipShortToken(text, i, 20, ']', func(c byte, _ int) bool {
			return c >= 'A' && c <= 'Z' || c == '_'
		})
	case '@':
		j := i + 1
		if i > 0 && (isWordByte(text[i-1]) || text[i-1] == '_' || text[i-1] == '.') {
			// An e-mail address: skip its domain ("ACME.COM" is not shouting).
			for j < len(text) && (isWordByte(text[j]) || text[j] == '.' || text[j] == '-') {
				j++
			}
			return j
		}
		for j < len(text) && (isWordByte(text[j]) || text[j] == '_') {
			j++
		}
		return j
	}
	return i
}

// skipShortToken returns where the token opened at text[i] ends: 1 to max
// bytes that ok accepts (given each byte and its index), then the close byte;
// or i when the text there is anything else.
func skipShortToken(text string, i, max int, close byte, ok func(c byte, j int) bool) int {
	rest := text[i+1:]
	for j := 0; j < len(rest) && j <= max; j++ {
		switch c := rest[j]; {
		case c == close && j > 0:
			return i + 1 + j + 1
		case !ok(c, j):
			return i
		}
	}
	return i
}

// firstBytes returns the mask of the bytes below the lowest byte that stop
// marks (0x80 in each byte it marks), all of them when it marks none: the
// lowest set bit, 1<<(8n+7), becomes 1<<(8n), less one; with no bit set,
// 0 - 1. (uint64(1)<<(8*n) - 1 costs a test for shifts of 64 or more.)
func firstBytes(stop uint64) uint64 {
	return (stop&-stop)>>7 - 1
}

// How the byte after a run of ASCII letters and digits ends it (endOf).
const (
	notEnd  = 0 // an apostrophe or a non-ASCII byte: the word may go on
	wordEnd = 1 // an ASCII separator, or the end of the text
	urlEnd  = 2 // ':' or '.', which may end a URL's "http", "https" or "www"
)

var endClass = func() (t [256]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		if byteClass[c] == 0 && c != '\'' {
			t[c] = wordEnd
		}
	}
	t[':'], t['.'] = urlEnd, urlEnd
	return t
}()

// endOf classifies how text[e], the byte after a run of ASCII letters and
// digits, ends it; the end of the text is a wordEnd.
func endOf(text string, e int) uint8 {
	if e == len(text) {
		return wordEnd
	}
	return endClass[text[e]]
}

// maybeURL is a quick test, cheap enough for every word, of whether text[i:]
// may start a URL ("http:", "https:", "www.").
func maybeURL(text string, i int) bool {
	switch text[i] | 0x20 {
	case 'h':
		return i+5 < len(text) && (text[i+4] == ':' || text[i+5] == ':')
	case 'w':
		return i+3 < len(text) && text[i+3] == '.'
	}
	return false
}

// skipURL returns where the bare URL starting at text[i] ends ("https://…",
// "www.…": at the next space or angle bracket), or i when there is none.
func skipURL(text string, i int) int {
	rest := text[i:]
	if !(hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://") || hasPrefixFold(rest, "www.")) {
		return i
	}
	j := i
	for j < len(text) && text[j] != ' ' && text[j] != '\n' && text[j] != '\t' && text[j] != '\r' && text[j] != '<' && text[j] != '>' {
		j++
	}
	return j
}

// hasPrefixFold reports whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// load8 returns the 8 bytes of text at i as a little-endian uint64, padded
// with zero bytes past the end of text.
func load8(text string, i int) uint64 {
	if i+8 <= len(text) {
		return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(text[i:]), 8))
	}
	if len(text) >= 8 {
		// The last 8 bytes of text, shifted down so that text[i] is lowest:
		// a load, not a copy (the last word of nearly every message is here).
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(text[len(text)-8:]), 8))
		return x >> (8 * (8 - (len(text) - i)))
	}
	var x uint64
	for k := len(text) - 1; k >= i; k-- {
		x = x<<8 | uint64(text[k])
	}
	return x
}

// count8 counts the bytes of x that have 0x80 set; x has no other bits.
// (A multiply, not bits.OnesCount64, which checks for POPCNT at run time on
// the default GOAMD64=v1 and keeps a call in the tokenizer's loop.)
func count8(x uint64) int {
	return int((x >> 7) * ones8 >> 56)
}

const (
	ones8 = 0x0101010101010101
	hi8   = 0x8080808080808080
)

// classify8 classifies the 8 bytes of x at once: each result has 0x80 in the
// bytes that are an ASCII letter, and an ASCII letter or digit.
func classify8(x uint64) (letter, alnum uint64) {
	// (y + (0x80-c)*ones8) & hi8 has 0x80 in each byte whose low 7 bits y are
	// at least c; no sum carries into the next byte, since y ≤ 0x7f and
	// 0x80-c ≤ 0x50. Setting bit 5 folds A-Z onto a-z, and nothing else
	// onto them.
	y := x &^ hi8
	ascii := ^x & hi8
	l := y | 0x20*ones8
	letter = (l + (0x80-'a')*ones8) &^ (l + (0x80-'z'-1)*ones8) & ascii
	digit := (y + (0x80-'0')*ones8) &^ (y + (0x80-'9'-1)*ones8) & ascii
	return letter, letter | digit
}

// Byte classes for the ASCII path of the tokenizer.
const (
	clLetter = 1 // bit set for letters
	clLower  = 1
	clUpper  = 3
	clDigit  = 2
)

var byteClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clDigit
	}
	return t
}()

// possessive reports whether text[i:] is the "s" of a possessive or "it's":
// an s (either case) that ends the word.
func possessive(text string, i int) bool {
	return i < len(text) && (text[i] == 's' || text[i] == 'S') && (i+1 == len(text) || !isWordByte(text[i+1]))
}

// Special detectors report through pseudo-phrases so that they carry weights too.
const (
	specialCaps = iota
	specialCapsWord
	specialPunct
	specialCensored
	specialEmoji
	specialSarcasm
	specialCalmEmoji
	specialPing
	numSpecials
)

var specialDefs = [numSpecials]struct {
	kind CueKind
	name string
	weak bool
}{
	{Shouting, "<caps>", false},
	// One capitalised word may be emphasis ("it is BROKEN") or a name the
	// acronym list lacks ("CIDER", "JATS"): context, not evidence.
	{Shouting, "<caps word>", true},
	{Shouting, "<punctuation>", false},
	{Profanity, "<censored>", false},
	{NegativeEmotion, "<emoji>", false},
	{Sarcasm, "<praise amid complaint>", false},
	{calmKind, "<calm emoji>", false},
	// "hello??", "anyone??", "update?!": a ping after silence.
	{Waiting, "<ping>", false},
}

// pingWords are the words that, followed by "??" or more, chase an answer.
var pingWords = []string{"hello", "helloo", "hellooo", "hi", "hey", "anyone", "anybody", "someone", "somebody", "update", "updates", "news", "ping", "bump", "guys", "team", "there"}

// sarcasmContext lists the kinds of complaint that turn praise into sarcasm.
var sarcasmContext = map[CueKind]bool{
	Failure: true, Waiting: true, RepeatedContact: true, BrokenPromise: true, NegativeEmotion: true,
	ChurnThreat: true, Escalation: true, Urgency: true,
}

// negatable lists the kinds a preceding "not"/"never"/"don't" cancels.
var negatable = map[CueKind]bool{
	NegativeEmotion: true, Urgency: true, Escalation: true, Failure: true, Profanity: true,
}

// evidenceKinds are the cue kinds that show an emotion, so that one of them
// can make a message frustrated. A failure ("the export fails with error
// 413") and urgency ("we go live tomorrow") are what a calm problem report
// names too: they add to the score of a frustrated message but never make one.
var evidenceKinds = map[CueKind]bool{
	RepeatedContact: true, Waiting: true, BrokenPromise: true, ChurnThreat: true, Escalation: true,
	Shouting: true, Profanity: true, Sarcasm: true, NegativeEmotion: true,
}

var evidenceIdx = func() (ev [16]bool) {
	for i, k := range allKinds {
		ev[i] = evidenceKinds[k]
	}
	return ev
}()

// requestIdx is requestKind's index in allKinds.
var requestIdx = kindIndex(requestKind)

// The two maps above by kind index, for the matcher.
var negatableIdx, sarcasmContextIdx = func() (neg, sarc [16]bool) {
	for i, k := range allKinds {
		neg[i], sarc[i] = negatable[k], sarcasmContext[k]
	}
	return neg, sarc
}()

// scan tokenizes text and finds every phrase and special match.
func (lx *lexicon) scan(s *scratch, text string) {
	s.tokenizeWith(text, lx)
	s.matches = s.matches[:0]
	toks := s.tokens
	// What the loop rarely needs is in st, in memory: the loop keeps its
	// registers for finding phrases, and record keeps the rest.
	st := scanState{hypoClause: -1, reqClause: -1, policySent: -1}
	for i := 0; i < len(toks); {
		t := &toks[i]
		if t.flags&(fAux|fPhrase|fNumber|fSarcasm) == 0 {
			i++ // most words start nothing (the branches below all fall through)
			continue
		}
		if t.flags&fAux != 0 && (i == 0 || toks[i-1].sentence != t.sentence) && s.policyQuestion(i) {
			st.policySent = t.sentence
		}
		var best *phrase
		bestEnd := -1
		if t.flags&fPhrase != 0 {
			next := int32(0)
			if i+1 < len(toks) {
				next = toks[i+1].id
			}
			for _, c := range lx.candidates(t.id, next) {
				if end := s.matchAt(i, c.p, int(c.known), lx.ofID); end > 0 {
					best, bestEnd = c.p, end
					break
				}
			}
		}
		if t.flags&fNumber != 0 {
			for _, p := range lx.numberFirst {
				if end := s.matchAt(i, p, 0, lx.ofID); end > bestEnd {
					best, bestEnd = p, end
					break
				}
			}
		}
		if best == nil {
			if t.flags&fSarcasm != 0 && st.nPraise < len(st.praise) {
				st.praise[st.nPraise] = i
				st.nPraise++
			}
			i++
			continue
		}
		i = s.record(&st, i, best, bestEnd)
	}
	praise, nPraise, nImpact := st.praise, st.nPraise, st.nImpact
	if lx.special[0] == nil {
		return // a phrase-only lexicon (the review phrases)
	}
	if s.anyCaps {
		s.shouting(lx, text)
	}
	if len(s.extra) > 0 {
		s.matches = append(s.matches, s.extra...)
	}
	if nPraise > 0 {
		complaint := false
		for _, m := range s.matches {
			if !m.negated && m.kindIdx >= 0 && sarcasmContextIdx[m.kindIdx] {
				complaint = true
				break
			}
		}
		if complaint {
			for _, c := range praise[:nPraise] {
				if c >= 0 {
					s.matches = append(s.matches, newMatch(lx.special[specialSarcasm], toks[c].start, toks[c].end))
				} else {
					m := &s.matches[-1-c]
					*m = newMatch(lx.special[specialSarcasm], m.start, m.end)
				}
			}
		}
	}
	if nImpact > 0 {
		s.dropLoneImpact()
	}
}

// scanState is what scan carries from one phrase to the next.
type scanState struct {
	praise     [8]int // candidate sarcasm tokens (see scan)
	nPraise    int
	nImpact    int
	hypoClause int32 // the clause a hypothetical opener ("what if") governs
	reqClause  int32 // the clause a request opener ("can you") governs
	policySent int32 // a yes/no question with an "if" in it (see policyQuestion)
}

// record records phrase best, matched at token i up to token bestEnd, and
// returns the token to go on from.
func (s *scratch) record(st *scanState, i int, best *phrase, bestEnd int) int {
	toks := s.tokens
	t := &toks[i]
	if best.softened && t.clause == st.reqClause {
		// Part of the request ("can you send it again?"): not evidence
		// either way, and its words are taken.
		return bestEnd
	}
	m := newMatch(best, t.start, toks[bestEnd-1].end)
	if best.kindIdx >= 0 && negatableIdx[best.kindIdx] && (t.negated || t.clause == st.hypoClause || t.sentence == st.policySent) {
		m.negated = true
	}
	if best.hypo {
		st.hypoClause = toks[bestEnd-1].clause
	}
	if best.kindIdx == requestIdx {
		st.reqClause = toks[bestEnd-1].clause
	}
	if i > 0 && toks[i-1].clause == t.clause && toks[i-1].flags&fIntens != 0 {
		m.intens = true
	}
	if n := len(s.matches); n > 0 && s.matches[n-1].impact && s.matches[n-1].end > m.start {
		// This phrase takes in the impact phrase's words ("my flight" in
		// "my flight cancelled") and says more: keep one cue for them.
		s.matches = s.matches[:n-1]
		st.nImpact--
	}
	if best.kind == calmKind && toks[bestEnd-1].flags&fSarcasm != 0 && st.nPraise < len(st.praise) {
		// Praise that ends in a sarcasm candidate ("awesome", "was
		// great") is calm unless the message complains; decide in scan.
		st.praise[st.nPraise] = -1 - len(s.matches)
		st.nPraise++
	}
	s.matches = append(s.matches, m)
	if best.impact {
		// An impact phrase may be dropped in scan, so it takes no words
		// from the phrases after it ("my flight" | "flight cancelled").
		st.nImpact++
		return i + 1
	}
	return bestEnd
}

// policyQuestion reports whether the sentence that token i opens with an
// auxiliary verb has an "if" in it: a yes/no question about a policy, such
// as "is the order cancelled if I don't collect it?" or "will I be refunded
// if the flight is cancelled?". The failure or urgency it names is supposed,
// not reported, so it counts as negated, as after "what happens if".
func (s *scratch) policyQuestion(i int) bool {
	toks := s.tokens
	for j := i + 1; j < len(toks) && toks[j].sentence == toks[i].sentence; j++ {
		if toks[j].flags&fIf != 0 {
			return true
		}
	}
	return false
}

// shouting records the shouting matches: a run of upper-case words with a
// word in it that is no acronym or identifier, when the run has two words
// or more ("FIX IT", "THE APP CRASHED"); a lone such word of four letters or
// more ("BROKEN", but also "CIDER", "IIRC") is weak, context and not
// evidence. Acronyms, log levels and identifiers are not shouting ("SSO via
// SAML", "FATAL", "HTTP_500").
func (s *scratch) shouting(lx *lexicon, text string) {
	toks := s.tokens
	for i := 0; i < len(toks); {
		if !toks[i].caps {
			i++
			continue
		}
		j, plain, long := i, 0, false
		for ; j < len(toks) && toks[j].caps; j++ {
			if !lx.acronyms[text[toks[j].start:toks[j].end]] && !identifier(text, int(toks[j].start), int(toks[j].end)) {
				plain++
				long = long || toks[j].letters >= 4
			}
		}
		switch {
		case plain >= 2 || plain == 1 && j-i >= 2: // "FIX IT", "WHY IS MY ORDER NOT HERE"
			s.matches = append(s.matches, newMatch(lx.special[specialCaps], toks[i].start, toks[j-1].end))
		case plain == 1 && long:
			s.matches = append(s.matches, newMatch(lx.special[specialCapsWord], toks[i].start, toks[j-1].end))
		}
		i = j
	}
}

// identifier reports whether the capitalised word text[start:end] is part
// of an identifier, an error code or a path rather than a word: it is
// joined to its neighbour by '_', '/', '=' or a digit ("HTTP_500",
// "CONTENTFUL_SPACE_ID", "ERR404", "/V2/ORDERS"), or by '-' or '.' with a
// letter or digit on the other side ("US-EAST-1", "APP.CONFIG"). A word
// after a full stop or a dash of prose ("done. WHY", "- WHY") is a word.
func identifier(text string, start, end int) bool {
	glue := func(c byte) bool { return c == '_' || c == '/' || c == '=' || c >= '0' && c <= '9' }
	dot := func(c byte) bool { return c == '-' || c == '.' }
	if start > 0 {
		if c := text[start-1]; glue(c) || dot(c) && start > 1 && isWordByte(text[start-2]) {
			return true
		}
	}
	if end < len(text) {
		if c := text[end]; glue(c) || dot(c) && end+1 < len(text) && isWordByte(text[end+1]) {
			return true
		}
	}
	return false
}

// dropLoneImpact removes the impact matches when nothing else in the message
// complains: "my flight is delayed again" is a complaint with stakes, "can I
// change my flight?" a request.
func (s *scratch) dropLoneImpact() {
	for _, m := range s.matches {
		if !m.impact && !m.negated && reportable(m.kindIdx) {
			return
		}
	}
	s.matches = slices.DeleteFunc(s.matches, func(m match) bool { return m.impact })
}

// matchAt returns the token index just past phrase p matched at token i, or -1.
// A phrase may cross commas but not sentence ends. The first known words of p
// (0, 1 or 2) are known to match by ID already: the candidate lists are
// chosen by the token's word and the next one.
func (s *scratch) matchAt(i int, p *phrase, known int, ofID int32) int {
	toks := s.tokens
	sentence := toks[i].sentence
	ids := p.ids
	j := i + known
	if known == 2 && toks[i+1].sentence != sentence {
		return -1
	}
	for k := known; k < len(ids); k++ {
		if j >= len(toks) {
			return -1
		}
		t := &toks[j]
		if pw := ids[k]; pw > 0 { // a word: the commonest case first
			if t.id != pw {
				return -1
			}
		} else if pw == numberID {
			if t.flags&fNumber == 0 {
				return -1
			}
			if j+1 < len(toks) && toks[j+1].id == ofID && (k+1 >= len(ids) || ids[k+1] != ofID) {
				j++
			}
		} // else anyID: any word
		if t.sentence != sentence {
			return -1
		}
		j++
	}
	return j
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
	z += s.wordSum * wordScale(len(s.tokens))
	z += m.excl*float64(min(s.excl, 3)) + m.quest*float64(min(s.quest, 3))

	if lang := s.language(text); lang != "en" {
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
		cs[k] = Cue{Kind: allKinds[mt.kindIdx], Evidence: text[mt.start:mt.end], Start: int(mt.start), End: int(mt.end), Weight: m.kind[mt.kindIdx] + m.phraseWeight(mt)}
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

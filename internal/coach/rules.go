package coach

import (
	"slices"
	"strings"
)

// The rules: the lexicon scan, negation, sarcasm context, and the special
// detectors (shouting, emoticons and emoji, pings, identifiers).

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

// negation decides for token k of toks, whose vocabulary entry is e (the
// token's flags may add fNumber, never fNegator), whether it is negated: a
// negator precedes it within three words of its clause, and it is not a
// negator itself. It returns that, and the index of the last negator after
// token k (lastNeg is the one before it).
func negation(toks []token, k, lastNeg int, e *entry) (negated bool, last int) {
	if e.flags&fNegator != 0 {
		return false, k
	}
	if k-lastNeg <= 3 && toks[lastNeg].clause == toks[k].clause {
		return true, lastNeg
	}
	return false, lastNeg
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

// negatable lists the kinds a preceding "not"/"never"/"don't" cancels. Calm
// is one: "isn't resolved" and "not sorted" are no reassurance.
var negatable = map[CueKind]bool{
	NegativeEmotion: true, Urgency: true, Escalation: true, Failure: true, Profanity: true, calmKind: true,
}

// evidenceKinds are the cue kinds that show an emotion, so that one of them
// can make a message frustrated. A failure ("the export fails with error
// 413") and urgency ("we go live tomorrow") are what a calm problem report
// names too: they add to the score of a frustrated message but never make one.
var evidenceKinds = map[CueKind]bool{
	RepeatedContact: true, Waiting: true, BrokenPromise: true, ChurnThreat: true, Escalation: true,
	Shouting: true, Profanity: true, Sarcasm: true, NegativeEmotion: true,
}

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
	if best.duration && i > 0 && toks[i-1].clause == t.clause && toks[i-1].flags&(fRate|fNumber) != 0 {
		// A length of time after a rate or an amount ("every 10 minutes",
		// "twice a day", "$4,000 a month") says how often or how much,
		// not how long anyone has waited: no cue, and its words are taken.
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

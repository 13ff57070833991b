package coach

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The tokenizer: it reads a message byte by byte into tokens (words with
// their offsets, clause and sentence) and records the special detectors'
// hits at the separators.

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

type scratch struct {
	norm    []byte // the normalised form of the word being looked up, on the byte-by-byte path
	tokens  []token
	matches []match
	excl    int
	quest   int
	extra   []match // hits of the special detectors, found while tokenizing

	anyCaps bool // some token is in capitals
	lastNeg int  // the index of the last negator token, for the tokenizer
	// wordW and pairW are, by token, the model's weight of its word and of
	// the word pair it closes, as Assess scaled them.
	wordW, pairW []float64
	hits         []hit // the cues of the last Assess, before they were kept

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
	return string(s.norm)
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
	s.lastNeg = -10
	for i := 0; i < len(text); {
		i = s.step(text, i, lx)
	}
}

// step reads what starts at text[i] (a separator, a URL, a word) byte by
// byte, records it in s, and returns where the next may start.
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
		e = lx.voc.findBytes(norm)
		tok.id, tok.flags = e.id, e.flags
		// A numeral counts as a number whether or not the model knows it as a word.
		if c >= '0' && c <= '9' && isNumber(string(norm)) {
			tok.flags |= fNumber
		}
	}
	s.tokens = append(s.tokens, tok)
	if lx != nil {
		k := len(s.tokens) - 1
		s.tokens[k].negated, s.lastNeg = negation(s.tokens, k, s.lastNeg, e)
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
// reports whether text[i] was one.
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
		ping := lx != nil && q >= 2 && s.pingBefore(text, i, tokens)
		if !ping {
			// A ping's marks ("hello??") call for an answer; they ask
			// nothing, so they do not count as questions, which weigh
			// towards calm.
			s.quest += q
		}
		switch {
		case lx == nil:
		case ping:
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

// Byte classes of ASCII, for the tokenizer.
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

package coach

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// The tokenizer: a fast path that reads eight bytes at a time, beside
// slowWord, its byte-by-byte reference (FuzzTokenizerPaths holds them equal).

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

const (
	ones8 = 0x0101010101010101
	hi8   = 0x8080808080808080
)

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

package coach

import (
	"unicode"
	"unicode/utf8"
)

// Languages other than English that the coach recognises in order to leave
// them unscored: its lexicons and weights are English, and a Spanish or
// German message scored by them gets a number that means nothing (measured
// in issue 15: 0.32–0.51 at random). Each is told by its commonest function
// words, which English shares few of.
var stopwords = map[string][]string{
	"es": {"el", "la", "los", "las", "que", "de", "del", "y", "es", "por", "para", "con", "una", "pero", "muy", "no", "mi", "ya", "esto", "esta", "está", "hay", "cuando", "hace", "desde", "también", "porque", "nada", "todavía", "sigue", "funciona", "nos", "lo", "como", "más", "ni"},
	"de": {"der", "die", "das", "und", "ist", "nicht", "ich", "wir", "sie", "es", "ein", "eine", "mit", "auf", "für", "von", "zu", "den", "dem", "noch", "immer", "schon", "seit", "aber", "auch", "bitte", "kein", "keine", "wieder", "funktioniert", "uns", "habe", "haben", "wird", "sind", "was", "wie", "warum"},
	"fr": {"le", "la", "les", "et", "est", "je", "nous", "vous", "pas", "ne", "une", "un", "des", "du", "pour", "avec", "que", "qui", "sur", "dans", "mais", "toujours", "depuis", "encore", "rien", "fonctionne", "marche", "plus", "très", "ça", "cela", "notre", "votre", "mon", "aucune"},
	"pt": {"o", "os", "as", "que", "de", "do", "da", "e", "é", "não", "um", "uma", "para", "com", "por", "mas", "muito", "ainda", "nada", "isso", "está", "estou", "desde", "funciona", "nosso", "nossa", "já", "mais", "nem", "também", "porque"},
	"it": {"il", "lo", "la", "gli", "le", "e", "è", "non", "che", "di", "del", "della", "per", "con", "un", "una", "ma", "ancora", "niente", "sempre", "funziona", "nostro", "sono", "abbiamo", "perché", "già", "più", "anche", "questo"},
	"nl": {"de", "het", "een", "en", "is", "niet", "ik", "wij", "we", "jullie", "van", "voor", "met", "op", "nog", "steeds", "al", "maar", "ook", "geen", "werkt", "ons", "onze", "hebben", "sinds", "waarom", "wat", "dit", "dat"},
}

// english are English function words, counted against the others.
var english = []string{"the", "a", "an", "and", "is", "are", "was", "were", "not", "i", "we", "you", "it", "this", "that", "to", "of", "for", "with", "on", "in", "my", "our", "your", "but", "still", "again", "no", "can", "have", "has", "had", "be", "been", "do", "does", "why", "what", "please", "me", "us",
	// Session 12: a message of short chat words ("Srs it's so bizarre!
	// There's often someone like OP") had more Dutch ("op", "is") than
	// English among them.
	"so", "as", "than", "there", "they", "he", "she", "his", "her", "if", "or", "at", "by", "from", "just", "all", "about", "like", "would", "will", "when", "how", "who", "which", "get", "got",
	"it's", "there's", "that's", "don't", "i'm", "can't", "isn't", "doesn't", "won't", "i've", "you're", "we're", "didn't"}

// langOf maps a function word to the languages it belongs to, as a bit set
// over langNames (bit 0 is English).
var langNames = []string{"en", "es", "de", "fr", "pt", "it", "nl"}

var langOf = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, w := range english {
		m[w] |= 1
	}
	for i, name := range langNames[1:] {
		for _, w := range stopwords[name] {
			m[w] |= 1 << (i + 1)
		}
	}
	return m
}()

// detectLanguage returns the language of text among langNames by its
// function words: another language when at least two of its function words
// are in the text and it has more of them than English has; else "en". A
// message too short to tell is taken as English.
func detectLanguage(text string) string {
	var count [8]int
	var buf [24]byte
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		n, start := 0, i
		for i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && r != '\'' {
				break
			}
			if n+utf8.UTFMax <= len(buf) {
				n += utf8.EncodeRune(buf[n:], unicode.ToLower(r))
			} else {
				n = len(buf) + 1 // too long for a function word
			}
			i += size
		}
		if n > len(buf) || i == start {
			continue
		}
		set := langOf[string(buf[:n])]
		for l := 0; set != 0; l, set = l+1, set>>1 {
			if set&1 != 0 {
				count[l]++
			}
		}
	}
	best := 0 // English, unless another language has two words and more than it
	for lang := 1; lang < len(langNames); lang++ {
		if count[lang] >= 2 && count[lang] > count[best] {
			best = lang
		}
	}
	return langNames[best]
}

// SupportedLanguage reports whether the coach scores messages in language
// lang (as Assessment.Language names it).
func SupportedLanguage(lang string) bool { return lang == "" || lang == "en" }

// Unscored reports whether the message was left unscored: it is in a
// language the coach does not read (Language names it). Its Score is 0 and
// it is never frustrated.
func (a Assessment) Unscored() bool { return !SupportedLanguage(a.Language) }

// language returns the language of text, of which the tokenizer read n words
// and the vocabulary knew known: "en" unless most of its words are unknown
// to the English vocabulary, when its function words decide
// (detectLanguage). Almost every English message stops at the first test.
func language(text string, n, known int) string {
	if n < 4 || 10*known >= 7*n {
		return "en"
	}
	return detectLanguage(text)
}

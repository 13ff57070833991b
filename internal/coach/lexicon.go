package coach

import (
	"bufio"
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed lexicon/*.txt
var lexiconFS embed.FS

// cueFiles maps each cue kind to the embedded list of its phrases.
var cueFiles = []listFile{
	{kind: RepeatedContact, file: "repeated_contact.txt"},
	{kind: Waiting, file: "waiting.txt"},
	{kind: BrokenPromise, file: "broken_promise.txt"},
	{kind: ChurnThreat, file: "churn_threat.txt"},
	{kind: Escalation, file: "escalation.txt"},
	{kind: Profanity, file: "profanity.txt"},
	{kind: Sarcasm, file: "sarcasm.txt"},
	{kind: NegativeEmotion, file: "negative_emotion.txt"},
	{kind: Urgency, file: "urgency.txt"},
	{kind: Urgency, file: "impact.txt", impact: true},
	{kind: Failure, file: "failure.txt"},
	{kind: calmKind, file: "calm.txt"},
	{kind: requestKind, file: "request.txt"},
	{kind: requestKind, file: "hypothetical.txt", hypothetical: true},
	{kind: ownKind, file: "own_action.txt"},
}

// phrase is one lexicon entry: a sequence of normalised words, where numberToken
// stands for any number and anyToken for any one word.
type phrase struct {
	id      int
	kind    CueKind
	kindIdx int
	words   []string
	ids     []int32 // words as vocab IDs, with numberID and anyID
	second  int32   // ids[1] when that is a word, else 0: a quick filter
	key     string  // kind + ":" + normalised text, the name of its model feature
	impact  bool    // from an impact list (see listFile)
	hypo    bool    // from a hypothetical list (see listFile)
	// weak: context, not evidence. The phrase names something a calm
	// message names as often as an upset one ("again", "2 hours", "the same
	// error", a lone capitalised word): it adds its weight to the score and
	// is shown as a cue, but a message with only weak cues is not frustrated.
	// Marked "~ " in its list.
	weak bool
	// softened: a request opener earlier in its clause makes it part of the
	// request ("can you send it again?"); see softened_by_request.txt.
	softened bool
	// duration: a waiting phrase that is a length of time ("3 days", "a
	// week"). After a rate or a price it is not one (see record).
	duration bool
}

// timeUnits are the units a duration phrase ends in.
var timeUnits = map[string]bool{"min": true, "mins": true, "minute": true, "minutes": true, "hour": true, "hours": true, "hrs": true,
	"day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true, "year": true, "years": true}

// rateWords say that the length of time after them is a rate: "every 10
// minutes", "twice a day".
var rateWords = []string{"every", "each", "per", "once", "twice", "thrice"}

const (
	numberToken = "<n>"
	anyToken    = "<w>"
)

// lexicon holds everything the matcher needs, built once from the embedded files.
type lexicon struct {
	voc     *vocab
	phrases []*phrase
	// The phrases to try at a token, longest first (see candidates), by
	// the vocab ID of its word (candIdx) or of its word and the next
	// (pairs), in one array so that trying them touches a few contiguous
	// bytes.
	cands       []cand
	candIdx     []candRange
	pairs       map[[2]int32]candRange
	numberFirst []*phrase // phrases that start with a number
	ofID        int32
	acronyms    map[string]bool
	emoji       map[string]bool // Unicode emoji and :short_codes: of anger, annoyance or despair
	calmEmoji   map[string]bool // those of good humour, which soften a message
	special     [numSpecials]*phrase
}

var numberWords = map[string]bool{
	"two": true, "three": true, "four": true, "five": true, "six": true, "seven": true,
	"eight": true, "nine": true, "ten": true, "eleven": true, "twelve": true, "fifteen": true,
	"twenty": true, "thirty": true, "forty": true, "fifty": true, "hundred": true,
	"couple": true, "few": true, "several": true, "many": true, "multiple": true,
	"second": true, "third": true, "fourth": true, "fifth": true, "sixth": true, "tenth": true,
	"dozen": true, "dozens": true, "hundreds": true, "countless": true, "numerous": true,
}

// isNumber reports whether a normalised word stands for a count: digits
// ("3", "48"), ordinals ("3rd", "10th"), "10x" or a number word.
// text is the phrase in its own words, a placeholder written "…".
func (p *phrase) text() string {
	words := make([]string, len(p.words))
	for i, w := range p.words {
		if w == numberToken || w == anyToken {
			w = "…"
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

func isNumber(w string) bool {
	if numberWords[w] {
		return true
	}
	if w == "" || w[0] < '0' || w[0] > '9' {
		return false
	}
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	switch w[i:] {
	case "", "st", "nd", "rd", "th", "x":
		return true
	}
	return false
}

func readLines(file string) ([]string, error) {
	f, err := lexiconFS.Open("lexicon/" + file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "# ") || line == "#" {
			continue
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

// listFile names one embedded phrase list and the kind its phrases report as.
type listFile struct {
	kind CueKind
	file string
	// impact marks personal stakes ("my wedding", "payroll"): they make a
	// complaint weigh more, but alone they are a plain request's topic ("can
	// I add my wife to the account?"), so they count only beside a complaint.
	impact bool
	// hypothetical marks the openers of a supposition ("what happens if",
	// "in case"): the failure, urgency or emotion named after one in the
	// same clause is supposed, not reported ("what happens if my parcel is
	// lost?"), so it counts as negated.
	hypothetical bool
}

func loadLexicon() (*lexicon, error) {
	lx, err := loadPhraseLists(cueFiles)
	if err != nil {
		return nil, err
	}
	for i, d := range specialDefs {
		p := &phrase{id: len(lx.phrases), kind: d.kind, kindIdx: kindIndex(d.kind), words: []string{d.name}, key: string(d.kind) + ":" + d.name, weak: d.weak}
		lx.phrases = append(lx.phrases, p)
		lx.special[i] = p
	}
	softened, err := readLines(softenedFile)
	if err != nil {
		return nil, fmt.Errorf("lexicon %s: %w", softenedFile, err)
	}
	if err := lx.markSoftened(softened); err != nil {
		return nil, err
	}
	lx.voc.flags[lx.voc.add("if")] |= fIf
	for _, w := range rateWords {
		lx.voc.flags[lx.voc.add(w)] |= fRate
	}
	for w := range numberWords {
		lx.voc.flags[lx.voc.add(w)] |= fNumber
	}
	sets := []struct {
		file string
		set  map[string]bool
		flag uint8
	}{
		{"negators.txt", nil, fNegator},
		{"yes_no_openers.txt", nil, fAux},
		{"intensifiers.txt", nil, fIntens},
		{"sarcasm_context.txt", nil, fSarcasm},
		{"acronyms.txt", lx.acronyms, 0},
		{"emoji.txt", lx.emoji, 0},
		{"calm_emoji.txt", lx.calmEmoji, 0},
	}
	for _, s := range sets {
		lines, err := readLines(s.file)
		if err != nil {
			return nil, fmt.Errorf("lexicon %s: %w", s.file, err)
		}
		for _, line := range lines {
			if s.set != nil {
				s.set[line] = true
				continue
			}
			words := normaliseWords(line)
			if len(words) != 1 {
				return nil, fmt.Errorf("lexicon %s: %q is not one word", s.file, line)
			}
			lx.voc.flags[lx.voc.add(words[0])] |= s.flag
		}
	}
	return lx, nil
}

// finish builds the lookup structures once every word is in the vocabulary.
func (lx *lexicon) finish() {
	firsts := make([][]*phrase, len(lx.voc.words))
	for _, p := range lx.phrases {
		if len(p.ids) == 0 || p.ids[0] < 0 {
			continue
		}
		firsts[p.ids[0]] = append(firsts[p.ids[0]], p)
		lx.voc.flags[p.ids[0]] |= fPhrase
	}
	lx.cands = lx.cands[:0]
	lx.candIdx = make([]candRange, len(lx.voc.words))
	lx.pairs = map[[2]int32]candRange{}
	for id, list := range firsts {
		sortLongestFirst(list)
		// The phrases any next word may continue (one word long, or with
		// a number or any word second)...
		r := candRange{lo: uint32(len(lx.cands))}
		seconds := map[int32]bool{}
		for _, p := range list {
			if p.second == 0 {
				lx.cands = append(lx.cands, cand{p: p, known: 1})
			} else {
				seconds[p.second] = true
			}
		}
		r.hi = uint32(len(lx.cands))
		lx.candIdx[id] = r
		// ...and for each second word a phrase needs, every phrase that
		// word may continue, still longest first.
		for _, sec := range sortedIDs(seconds) {
			pl := candRange{lo: uint32(len(lx.cands))}
			for _, p := range list {
				switch p.second {
				case 0:
					lx.cands = append(lx.cands, cand{p: p, known: 1})
				case sec:
					lx.cands = append(lx.cands, cand{p: p, known: 2})
				}
			}
			pl.hi = uint32(len(lx.cands))
			lx.pairs[[2]int32{int32(id), sec}] = pl
		}
	}
	lx.voc.build() // last: the table carries the flags
}

// sortedIDs returns the IDs in set in increasing order.
func sortedIDs(set map[int32]bool) []int32 {
	ids := make([]int32, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// candidates returns the phrases to try, longest first, at a token whose word
// is first and whose next word is next (0 when unknown or none): those that
// need next as their second word, and those any next word may continue.
func (lx *lexicon) candidates(first, next int32) []cand {
	if r, ok := lx.pairs[[2]int32{first, next}]; ok {
		return lx.cands[r.lo:r.hi]
	}
	r := lx.candIdx[first]
	return lx.cands[r.lo:r.hi]
}

// candRange is where some phrases to try are in lexicon.cands.
type candRange struct {
	lo, hi uint32
}

// cand is a phrase to try at a token that is its first word.
type cand struct {
	p *phrase
	// known is how many of p's first words are known to match where p is a
	// candidate: its first word in every list, and its second too in a list
	// chosen by that word (see finish).
	known uint8
}

// loadPhraseLists builds a lexicon holding the phrases of files, indexed by first word.
func loadPhraseLists(files []listFile) (*lexicon, error) {
	lx := &lexicon{
		voc:       newVocab(),
		acronyms:  map[string]bool{},
		emoji:     map[string]bool{},
		calmEmoji: map[string]bool{},
	}
	lx.ofID = lx.voc.add("of")
	// Each phrase is in one list only: at a token where two lists hold the
	// same words, the earlier list always wins, and the later entry is dead.
	listOf := map[string]string{}
	for _, cf := range files {
		lines, err := readLines(cf.file)
		if err != nil {
			return nil, fmt.Errorf("lexicon %s: %w", cf.file, err)
		}
		for _, line := range lines {
			// "~ phrase" is context: it adds to the score but is never the
			// evidence that makes a message frustrated (see phrase.weak).
			line, weak := strings.CutPrefix(line, "~ ")
			words := normaliseWords(line)
			if len(words) == 0 {
				return nil, fmt.Errorf("lexicon %s: entry %q has no words", cf.file, line)
			}
			text := strings.Join(words, " ")
			canon := make([]string, len(words))
			for i, w := range words {
				canon[i] = canonical(w)
			}
			if other, dup := listOf[strings.Join(canon, " ")]; dup {
				return nil, fmt.Errorf("lexicon %s: %q is already in %s", cf.file, line, other)
			}
			listOf[strings.Join(canon, " ")] = cf.file
			key := string(cf.kind) + ":" + text
			p := &phrase{id: len(lx.phrases), kind: cf.kind, kindIdx: kindIndex(cf.kind), words: words, key: key, impact: cf.impact, hypo: cf.hypothetical, weak: weak}
			for _, w := range words {
				switch w {
				case numberToken:
					p.ids = append(p.ids, numberID)
				case anyToken:
					p.ids = append(p.ids, anyID)
				default:
					p.ids = append(p.ids, lx.voc.add(w))
				}
			}
			if len(p.ids) > 1 && p.ids[1] > 0 {
				p.second = p.ids[1]
			}
			p.duration = cf.kind == Waiting && len(words) == 2 && timeUnits[words[1]] &&
				(words[0] == numberToken || words[0] == "a" || words[0] == "an")
			lx.phrases = append(lx.phrases, p)
			if words[0] == numberToken {
				lx.numberFirst = append(lx.numberFirst, p)
			}
		}
	}
	sortLongestFirst(lx.numberFirst)
	return lx, nil
}

// softenedFile lists the cue phrases a request opener softens.
const softenedFile = "softened_by_request.txt"

// markSoftened flags the cue phrases lines name (the lines of softenedFile).
func (lx *lexicon) markSoftened(lines []string) error {
	for _, line := range lines {
		text := strings.Join(normaliseWords(line), " ")
		found := false
		for _, p := range lx.phrases {
			if reportable(int8(p.kindIdx)) && strings.Join(p.words, " ") == text {
				p.softened, found = true, true
			}
		}
		if !found {
			return fmt.Errorf("lexicon %s: %q is in no cue list", softenedFile, line)
		}
	}
	return nil
}

func sortLongestFirst(list []*phrase) {
	// Insertion sort keeps file order among equal lengths, so the earlier list wins ties.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && len(list[j].ids) > len(list[j-1].ids); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// normaliseWords splits a lexicon line into normalised words the way the
// tokenizer does, keeping the <n> and <w> placeholders.
func normaliseWords(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if f == numberToken || f == anyToken {
			out = append(out, f)
			continue
		}
		var s scratch
		s.tokenize(f)
		for i := range s.tokens {
			out = append(out, string(s.word(f, i)))
		}
	}
	return out
}

// isWordByte reports whether an ASCII byte belongs inside a word.
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

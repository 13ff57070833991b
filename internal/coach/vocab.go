package coach

// vocab interns every word the lexicons and the model know, so that the
// rules work on small integer IDs.
type vocab struct {
	words   []string // by ID; ID 0 is "unknown"
	flags   []uint8  // by ID
	index   map[string]int32
	entries map[string]*entry // built by build: every word and contraction
	weights []float64         // the model's word weights by ID, plain and negated (see parseModel); nil for none
}

// entry is what a lookup finds for a word: its ID and its flags.
type entry struct {
	id    int32
	flags uint8
}

// unknown is the entry of every word the vocabulary does not know.
var unknown entry

// Word flags.
const (
	fNegator uint8 = 1 << iota
	fIntens
	fSarcasm
	fNumber
	fPhrase // some lexicon phrase starts with this word
	fAux    // an auxiliary verb that opens a yes/no question ("is", "will", "can")
	fIf     // "if"
	fRate   // "every", "per", "twice": what follows is how often, not how long
)

// Phrase word IDs that stand for a class of words.
const (
	numberID int32 = -1
	anyID    int32 = -2
)

func newVocab() *vocab {
	return &vocab{words: []string{""}, flags: []uint8{0}, index: map[string]int32{}}
}

// contractions maps a contraction typed without its apostrophe to the word the
// tokenizer makes of it with one: "that's" loses its "'s" (as "daughter's"
// does) and becomes "that", and a customer who types "thats" means the same.
// Without this, a lexicon line "thats frustrating" never matched "that's
// frustrating", nor "whats the point" "what's the point".
var contractions = map[string]string{
	"thats": "that", "whats": "what", "its": "it", "theres": "there", "heres": "here",
	"lets": "let", "hes": "he", "shes": "she", "whos": "who", "wheres": "where", "hows": "how",
}

// canonical is the vocabulary's form of the normalised word w.
func canonical(w string) string {
	if c, ok := contractions[w]; ok {
		return c
	}
	return w
}

// add interns w (in its canonical form) and returns its ID.
func (v *vocab) add(w string) int32 {
	w = canonical(w)
	if id, ok := v.index[w]; ok {
		return id
	}
	id := int32(len(v.words))
	v.words = append(v.words, w)
	v.flags = append(v.flags, 0)
	v.index[w] = id
	v.entries = nil
	return id
}

// build makes the lookup table; call it after the last add and flag change.
func (v *vocab) build() {
	v.entries = make(map[string]*entry, len(v.words)+len(contractions))
	for id := 1; id < len(v.words); id++ {
		v.entries[v.words[id]] = &entry{id: int32(id), flags: v.flags[id]}
	}
	// A contraction without its apostrophe finds its word's entry.
	for alias, w := range contractions {
		if id, ok := v.index[w]; ok {
			v.entries[alias] = v.entries[v.words[id]]
		}
	}
}

// findBytes returns the entry of the normalised word w (&unknown if unknown).
func (v *vocab) findBytes(w []byte) *entry {
	if e, ok := v.entries[string(w)]; ok {
		return e
	}
	return &unknown
}

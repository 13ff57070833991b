package coach

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// weightsTSV is the fitted model, written by `go run ./cmd/train` (see its doc comment
// for the data it reads). Each line is "feature<TAB>weight"; the features are the
// names Features returns plus "bias".
//
//go:embed model/weights.tsv
var weightsTSV string

// model is a logistic regression over the features Features names.
type model struct {
	lx      *lexicon
	bias    float64
	kind    []float64 // by kind index
	negKind []float64 // by kind index
	phrase  []float64 // by phrase id
	intens  float64
	excl    float64
	quest   float64
	// The word weights live in the vocabulary's slots (see entry).
	// pairs holds the weights of two adjacent words of a clause.
	pairs wordPairs
}

func parseModel(lx *lexicon, tsv string) (*model, error) {
	m := &model{
		lx:      lx,
		kind:    make([]float64, len(allKinds)),
		negKind: make([]float64, len(allKinds)),
		phrase:  make([]float64, len(lx.phrases)),
	}
	words := map[int32]float64{}
	negWords := map[int32]float64{}
	type pair struct {
		a, b string
		w    float64
	}
	var pairs []pair
	domain := 0.0
	byKey := make(map[string]int, len(lx.phrases))
	for _, p := range lx.phrases {
		byKey[p.key] = p.id
	}
	for n, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("model line %d: want feature<TAB>weight", n+1)
		}
		w, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, fmt.Errorf("model line %d: %w", n+1, err)
		}
		prefix, rest, _ := strings.Cut(name, ":")
		switch prefix {
		case "bias":
			m.bias = w
		case "domain":
			// The support domain's intercept (see cmd/train): every message
			// the coach scores is a support message.
			if rest != "support" {
				return nil, fmt.Errorf("model line %d: unknown domain %q", n+1, rest)
			}
			domain = w
		case "intens":
			m.intens = w
		case "shape":
			switch rest {
			case "excl":
				m.excl = w
			case "quest":
				m.quest = w
			}
		case "kind":
			if i := kindIndex(CueKind(rest)); i >= 0 {
				m.kind[i] = w
			}
		case "neg":
			if i := kindIndex(CueKind(rest)); i >= 0 {
				m.negKind[i] = w
			}
		case "phrase":
			// A phrase the lexicon no longer has is ignored; retrain to drop it.
			if id, ok := byKey[rest]; ok {
				m.phrase[id] = w
			}
		case "w":
			words[lx.voc.add(rest)] = w
		case "nw":
			negWords[lx.voc.add(rest)] = w
		case "b":
			a, b, ok := strings.Cut(rest, " ")
			if !ok || a == "" || b == "" {
				return nil, fmt.Errorf("model line %d: want b:word word", n+1)
			}
			pairs = append(pairs, pair{a, b, w})
		default:
			return nil, fmt.Errorf("model line %d: unknown feature %q", n+1, name)
		}
	}
	m.bias += domain
	// Both words of a pair get a vocab ID, so that the tokenizer knows them
	// even when their own weights are too small to be written.
	m.pairs = newWordPairs(len(pairs))
	for _, p := range pairs {
		m.pairs.put(lx.voc.add(p.a), lx.voc.add(p.b), p.w)
	}
	if len(lx.voc.words) > maxPairWordID+1 {
		// A token's ID could not be packed with its neighbour's.
		return nil, fmt.Errorf("model: %d words in the vocabulary, at most %d with word pairs", len(lx.voc.words), maxPairWordID+1)
	}
	// wordW holds the word weights by vocab ID, plain and negated side by
	// side: wordW[2*id] is the word's weight, wordW[2*id+1] its weight after
	// a negator. ID 0 (unknown) weighs 0 either way.
	wordW := make([]float64, 2*len(lx.voc.words))
	for id, w := range words {
		wordW[2*id] = w
	}
	for id, w := range negWords {
		wordW[2*id+1] = w
	}
	lx.voc.weights = wordW // the slots carry them; the tokenizer sums them (scratch.wordSum)
	lx.finish()
	return m, nil
}

// Features returns the named model features of text with their values: the
// same analysis Assess scores, for `cmd/train` to fit weights to.
func Features(text string) map[string]float64 {
	lx := Default().model.lx
	s := new(scratch)
	lx.scan(s, text)
	f := map[string]float64{}
	for _, mt := range s.matches {
		p := lx.phrases[mt.pid]
		if mt.negated {
			f["neg:"+string(p.kind)]++
			continue
		}
		f["kind:"+string(p.kind)]++
		f["phrase:"+p.key]++
		if mt.intens {
			f["intens"]++
		}
	}
	for k, v := range f {
		if (strings.HasPrefix(k, "kind:") || strings.HasPrefix(k, "neg:")) && v > 3 {
			f[k] = 3
		}
	}
	scale := wordScale(len(s.tokens)) // as Assess does
	prev := ""
	for i := range s.tokens {
		w := strings.Clone(canonical(s.word(text, i))) // as the vocabulary knows it
		if s.tokens[i].negated {
			f["nw:"+w] += scale
		} else {
			f["w:"+w] += scale
		}
		// A word pair, as Assess reads it (model.readWords): two adjacent
		// words of one clause.
		if i > 0 && s.tokens[i-1].clause == s.tokens[i].clause && prev != "" && w != "" {
			f["b:"+prev+" "+w] += scale
		}
		prev = w
	}
	if s.excl > 0 {
		f["shape:excl"] = float64(min(s.excl, 3))
	}
	if s.quest > 0 {
		f["shape:quest"] = float64(min(s.quest, 3))
	}
	return f
}

// readWords returns the summed weight of the adjacent word pairs of the
// tokens, each pair within one clause, and how many of the tokens the
// vocabulary knows (for the language gate): one pass over the tokens for both.
func (m *model) readWords(tokens []token) (pairSum float64, known int) {
	t := &m.pairs
	for i := range tokens {
		b := &tokens[i]
		if b.id != 0 {
			known++
		}
		if i == 0 {
			continue
		}
		a := &tokens[i-1]
		key := uint32(a.id)<<16 | uint32(b.id)
		// The filter answers "no" for most pairs of a message without a
		// branch on either word (which the CPU would mispredict often).
		if t.maybe(key) && a.clause == b.clause {
			pairSum += t.get(key)
		}
	}
	return pairSum, known
}

// wordPairs maps a pair of vocab IDs to its weight: an open-addressing hash
// table at most half full, probed linearly, behind a one-bit-per-hash filter.
// A message looks a pair up at every word, so the keys are packed apart from
// the weights, 4 bytes each, and the filter (8 KiB) stays in the CPU's
// nearest cache.
type wordPairs struct {
	filter [1 << 16 / 64]uint64 // bit filterHash(key): some pair may have that hash
	keys   []uint32             // first<<16 | second; 0 = empty
	w      []float64
	mask   uint32
}

// maxPairWordID bounds the vocab IDs, so that two pack into 32 bits. A word
// the vocabulary does not know has ID 0, and no pair holds it: its key is
// found in neither the filter nor the table, or, when the filter errs, the
// table says 0.
const maxPairWordID = 1<<16 - 1

func newWordPairs(n int) wordPairs {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return wordPairs{keys: make([]uint32, size), w: make([]float64, size), mask: uint32(size - 1)}
}

func (t *wordPairs) slot(key uint32) uint32 { return (key * 0x9E3779B1 >> 16) & t.mask }

func filterHash(key uint32) uint32 { return key * 0x85EBCA6B >> 16 }

func (t *wordPairs) maybe(key uint32) bool {
	h := filterHash(key)
	return t.filter[h>>6]&(1<<(h&63)) != 0
}

// put records the weight of the pair (a, b) of known words.
func (t *wordPairs) put(a, b int32, w float64) {
	key := uint32(a)<<16 | uint32(b)
	h := filterHash(key)
	t.filter[h>>6] |= 1 << (h & 63)
	for i := t.slot(key); ; i = (i + 1) & t.mask {
		if t.keys[i] == 0 || t.keys[i] == key {
			t.keys[i], t.w[i] = key, w
			return
		}
	}
}

// get returns the weight of the pair key, 0 if the model has none.
func (t *wordPairs) get(key uint32) float64 {
	for i := t.slot(key); ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case key:
			return t.w[i]
		case 0:
			return 0
		}
	}
}

var (
	defaultOnce  sync.Once
	defaultCoach *Coach
)

// Default returns the coach built from the embedded lexicons, model and tips,
// with DefaultThreshold. The embedded data is checked by the package tests, so a
// failure to load it is a build defect and panics.
func Default() *Coach {
	defaultOnce.Do(func() {
		c, err := New()
		if err != nil {
			panic("coach: embedded data: " + err.Error())
		}
		defaultCoach = c
	})
	return defaultCoach
}

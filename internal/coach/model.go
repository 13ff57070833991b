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
	// weakKind is the weight of a weak match of a kind (a phrase its
	// lexicon marks "~ ": context, often calm), learned apart from the
	// kind's strong matches.
	weakKind []float64 // by kind index
	phrase   []float64 // by phrase id
	intens   float64
	excl     float64
	quest    float64
	// The word weights live in the vocabulary's slots (see entry).
	// pairs holds the weights of two adjacent words of a clause, by their
	// vocab IDs.
	pairs map[[2]int32]float64
	// pairFirst[id] reports whether word id is the first word of some pair
	// (most words are not, and need no lookup).
	pairFirst []bool
}

func parseModel(lx *lexicon, tsv string) (*model, error) {
	m := &model{
		lx:       lx,
		kind:     make([]float64, len(allKinds)),
		negKind:  make([]float64, len(allKinds)),
		weakKind: make([]float64, len(allKinds)),
		phrase:   make([]float64, len(lx.phrases)),
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
		case "wkind":
			if i := kindIndex(CueKind(rest)); i >= 0 {
				m.weakKind[i] = w
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
	m.pairs = make(map[[2]int32]float64, len(pairs))
	for _, p := range pairs {
		m.pairs[[2]int32{lx.voc.add(p.a), lx.voc.add(p.b)}] = p.w
	}
	m.pairFirst = make([]bool, len(lx.voc.words))
	for k := range m.pairs {
		m.pairFirst[k[0]] = true
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
		if p.weak {
			f["wkind:"+string(p.kind)]++
		} else {
			f["kind:"+string(p.kind)]++
		}
		f["phrase:"+p.key]++
		if mt.intens {
			f["intens"]++
		}
	}
	for k, v := range f {
		if (strings.HasPrefix(k, "kind:") || strings.HasPrefix(k, "wkind:") || strings.HasPrefix(k, "neg:")) && v > 3 {
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

// pairWeight returns the weight of the adjacent tokens a and b as a word
// pair: 0 unless both are words the vocabulary knows, of one clause, and
// the model has a weight for the pair.
func (m *model) pairWeight(a, b *token) float64 {
	if a.id == 0 || b.id == 0 || a.clause != b.clause || int(a.id) >= len(m.pairFirst) || !m.pairFirst[a.id] {
		return 0
	}
	return m.pairs[[2]int32{a.id, b.id}]
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

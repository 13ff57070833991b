package coach

import "encoding/binary"

// vocab interns every word the lexicons and the model know, so that matching a
// token costs one hash-table probe and everything else works on small integer
// IDs. A word of up to 8 bytes (nearly every word) is its own key: its bytes
// packed into a uint64, which the tokenizer builds eight bytes at a time, so a
// probe is one integer comparison; a word of 9 to 16 bytes is two keys, and
// longer words are found by hash and bytes.
type vocab struct {
	words []string // by ID; ID 0 is "unknown"
	flags []uint8  // by ID
	index map[string]int32
	// short, mid and long are open-addressing hash tables built by build:
	// short for the words of up to 8 bytes, keyed by packWord; mid for those
	// of 9 to 16, by two packed keys; long for the rest, by hash and bytes.
	// Each slot carries the word's entry (ID, flags, weights), so a token's
	// lookup touches one slot.
	short     []slot
	shortMask uint32
	mid       []midSlot
	midMask   uint32
	long      []longSlot
	longMask  uint32
	arena     []byte    // the bytes of the long words
	weights   []float64 // the model's word weights by ID, plain and negated (see parseModel); nil for none
}

// entry is what a lookup finds for a word: its ID, its flags and its weights
// in the model (w[0] plain, w[1] after a negator), so that the tokenizer sums a
// message's word weights as it reads the words, from the slot it probed.
type entry struct {
	w     [2]float64
	id    int32
	flags uint8
}

// unknown is the entry of every word the vocabulary does not know.
var unknown entry

type slot struct {
	key uint64 // packWord(word); 0 = empty
	entry
}

// midSlot holds a word of 9 to 16 bytes, packed as two keys (see packWord).
type midSlot struct {
	key1, key2 uint64 // key2 0 = empty
	entry
}

type longSlot struct {
	hash  uint32
	off   uint32
	n     uint32
	entry // id 0 = empty
}

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
	v.short, v.mid, v.long = nil, nil, nil
	return id
}

// build makes the lookup tables; call it after the last add and flag change.
func (v *vocab) build() {
	nShort, nMid, nLong := len(contractions), 0, 0
	for _, w := range v.words[1:] {
		switch {
		case len(w) <= 8:
			nShort++
		case len(w) <= 16:
			nMid++
		default:
			nLong++
		}
	}
	v.short, v.shortMask = make([]slot, tableSize(nShort)), uint32(tableSize(nShort)-1)
	v.mid, v.midMask = make([]midSlot, tableSize(nMid)), uint32(tableSize(nMid)-1)
	v.long, v.longMask = make([]longSlot, tableSize(nLong)), uint32(tableSize(nLong)-1)
	v.arena = v.arena[:0]
	for id := 1; id < len(v.words); id++ {
		w := v.words[id]
		if len(w) <= 8 {
			v.putShort(packWord(w), int32(id))
			continue
		}
		if len(w) <= 16 {
			k1, k2 := packWord(w[:8]), packWord(w[8:])
			for i := hashMid(k1, k2) & v.midMask; ; i = (i + 1) & v.midMask {
				if v.mid[i].key2 == 0 {
					v.mid[i] = midSlot{key1: k1, key2: k2, entry: v.entryOf(int32(id))}
					break
				}
			}
			continue
		}
		h := hashLong(w)
		for i := h & v.longMask; ; i = (i + 1) & v.longMask {
			if v.long[i].id == 0 {
				v.long[i] = longSlot{hash: h, off: uint32(len(v.arena)), n: uint32(len(w)), entry: v.entryOf(int32(id))}
				v.arena = append(v.arena, w...)
				break
			}
		}
	}
	// A contraction without its apostrophe finds its word's slot contents.
	for alias, w := range contractions {
		if id, ok := v.index[w]; ok {
			v.putShort(packWord(alias), id)
		}
	}
}

// putShort puts word id, of up to 8 bytes packed as key, in the short table.
func (v *vocab) putShort(key uint64, id int32) {
	for i := hashKey(key) & v.shortMask; ; i = (i + 1) & v.shortMask {
		if v.short[i].key == 0 {
			v.short[i] = slot{key: key, entry: v.entryOf(id)}
			return
		}
	}
}

// entryOf is the entry of word id, with its weights when v.weights has them.
func (v *vocab) entryOf(id int32) entry {
	e := entry{id: id, flags: v.flags[id]}
	if 2*int(id)+1 < len(v.weights) {
		e.w = [2]float64{v.weights[2*id], v.weights[2*id+1]}
	}
	return e
}

// tableSize is a power of two at least twice n, so that probes stay short.
func tableSize(n int) int {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return size
}

// find returns the entry of the normalised word w (&unknown if unknown).
func (v *vocab) find(w string) *entry {
	if len(w) <= 8 {
		return v.findKey(packWord(w))
	}
	if len(w) <= 16 {
		return v.findMid(packWord(w[:8]), packWord(w[8:]))
	}
	h := hashLong(w)
	for i := h & v.longMask; ; i = (i + 1) & v.longMask {
		sl := &v.long[i]
		if sl.id == 0 {
			return &unknown
		}
		if sl.hash == h && int(sl.n) == len(w) && string(v.arena[sl.off:sl.off+sl.n]) == w {
			return &sl.entry
		}
	}
}

// findKey returns the entry of the word of up to 8 bytes packed as key
// (&unknown if unknown).
func (v *vocab) findKey(key uint64) *entry {
	for i := hashKey(key) & v.shortMask; ; i = (i + 1) & v.shortMask {
		sl := &v.short[i]
		if sl.key == key {
			return &sl.entry
		}
		if sl.key == 0 {
			return &unknown
		}
	}
}

// findMid returns the entry of the word of 9 to 16 bytes packed as key1
// (its first 8 bytes) and key2 (the rest); &unknown if unknown.
func (v *vocab) findMid(key1, key2 uint64) *entry {
	for i := hashMid(key1, key2) & v.midMask; ; i = (i + 1) & v.midMask {
		sl := &v.mid[i]
		if sl.key1 == key1 && sl.key2 == key2 {
			return &sl.entry
		}
		if sl.key2 == 0 {
			return &unknown
		}
	}
}

func hashMid(k1, k2 uint64) uint32 {
	return uint32(((k1 ^ k2*0xC2B2AE3D27D4EB4F) * 0x9E3779B97F4A7C15) >> 32)
}

// packWord packs a word of 1 to 8 bytes into a uint64, first byte lowest, the
// rest zero. Words hold no zero bytes, so the key is never 0.
func packWord(w string) uint64 {
	var b [8]byte
	copy(b[:], w)
	return binary.LittleEndian.Uint64(b[:])
}

func hashKey(k uint64) uint32 {
	return uint32((k * 0x9E3779B97F4A7C15) >> 32)
}

func hashLong(s string) uint32 {
	const (
		fnvOffset uint32 = 2166136261
		fnvPrime  uint32 = 16777619
	)
	h := fnvOffset
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * fnvPrime
	}
	return h
}

package coach

import "encoding/binary"

// vocab interns every word the lexicons and the model know, so that matching a
// token costs one hash-table probe and everything else works on small integer
// IDs. A word of up to 8 bytes (nearly every word) is its own key: its bytes
// packed into a uint64, which the tokenizer builds eight bytes at a time, so a
// probe is one integer comparison. Longer words are found by hash and bytes.
type vocab struct {
	words []string // by ID; ID 0 is "unknown"
	flags []uint8  // by ID
	index map[string]int32
	// table is an open-addressing hash table, built once by build.
	table []slot
	arena []byte // the bytes of the long words, which slots point into
	mask  uint32
}

// slot is one entry of vocab.table.
type slot struct {
	key  uint64 // packWord of a word of up to 8 bytes; 0 for a long word
	hash uint32
	id   int32 // 0 = empty
	off  uint32
	n    uint32
}

// Word flags.
const (
	fNegator uint8 = 1 << iota
	fIntens
	fSarcasm
	fNumber
	fPhrase // some lexicon phrase starts with this word
)

// Phrase word IDs that stand for a class of words.
const (
	numberID int32 = -1
	anyID    int32 = -2
)

func newVocab() *vocab {
	return &vocab{words: []string{""}, flags: []uint8{0}, index: map[string]int32{}}
}

// add interns w and returns its ID.
func (v *vocab) add(w string) int32 {
	if id, ok := v.index[w]; ok {
		return id
	}
	id := int32(len(v.words))
	v.words = append(v.words, w)
	v.flags = append(v.flags, 0)
	v.index[w] = id
	v.table = nil
	return id
}

// build makes the lookup table; call it after the last add.
func (v *vocab) build() {
	size := 16
	for size < 4*len(v.words) {
		size *= 2
	}
	v.table = make([]slot, size)
	v.mask = uint32(size - 1)
	v.arena = v.arena[:0]
	for id := 1; id < len(v.words); id++ {
		w := v.words[id]
		sl := slot{id: int32(id)}
		if len(w) <= 8 {
			sl.key = packWord(w)
			sl.hash = hashKey(sl.key)
		} else {
			sl.hash = hashLong(w)
			sl.off, sl.n = uint32(len(v.arena)), uint32(len(w))
			v.arena = append(v.arena, w...)
		}
		for i := sl.hash & v.mask; ; i = (i + 1) & v.mask {
			if v.table[i].id == 0 {
				v.table[i] = sl
				break
			}
		}
	}
}

// lookup returns the ID of the normalised word w, or 0.
func (v *vocab) lookup(w string) int32 {
	if len(w) <= 8 {
		return v.lookupKey(packWord(w))
	}
	h := hashLong(w)
	for i := h & v.mask; ; i = (i + 1) & v.mask {
		sl := &v.table[i]
		if sl.id == 0 {
			return 0
		}
		if sl.hash == h && int(sl.n) == len(w) && string(v.arena[sl.off:sl.off+sl.n]) == w {
			return sl.id
		}
	}
}

// lookupKey returns the ID of the word of up to 8 bytes packed as key, or 0.
func (v *vocab) lookupKey(key uint64) int32 {
	for i := hashKey(key) & v.mask; ; i = (i + 1) & v.mask {
		sl := &v.table[i]
		if sl.key == key {
			return sl.id
		}
		if sl.id == 0 {
			return 0
		}
	}
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

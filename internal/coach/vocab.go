package coach

// vocab interns every word the lexicons and the model know, so that matching a
// token costs one hash-table probe: the tokenizer hashes each word while it
// normalises it, and everything else works on small integer IDs.
type vocab struct {
	words  []string // by ID; ID 0 is "unknown"
	hashes []uint32 // by ID
	flags  []uint8  // by ID
	index  map[string]int32
	table  []int32 // open addressing: slot → ID, 0 = empty
	mask   uint32
}

// Word flags.
const (
	fNegator uint8 = 1 << iota
	fIntens
	fSarcasm
	fNumber
)

// Phrase word IDs that stand for a class of words.
const (
	numberID int32 = -1
	anyID    int32 = -2
)

func newVocab() *vocab {
	return &vocab{words: []string{""}, hashes: []uint32{0}, flags: []uint8{0}, index: map[string]int32{}}
}

// add interns w and returns its ID.
func (v *vocab) add(w string) int32 {
	if id, ok := v.index[w]; ok {
		return id
	}
	id := int32(len(v.words))
	v.words = append(v.words, w)
	v.hashes = append(v.hashes, hashString(w))
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
	v.table = make([]int32, size)
	v.mask = uint32(size - 1)
	for id := 1; id < len(v.words); id++ {
		for i := v.hashes[id] & v.mask; ; i = (i + 1) & v.mask {
			if v.table[i] == 0 {
				v.table[i] = int32(id)
				break
			}
		}
	}
}

// lookup returns the ID of the normalised word b with hash h, or 0.
func (v *vocab) lookup(b []byte, h uint32) int32 {
	for i := h & v.mask; ; i = (i + 1) & v.mask {
		id := v.table[i]
		if id == 0 {
			return 0
		}
		if v.hashes[id] == h && v.words[id] == string(b) {
			return id
		}
	}
}

const (
	fnvOffset uint32 = 2166136261
	fnvPrime  uint32 = 16777619
)

func hashString(s string) uint32 {
	h := fnvOffset
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * fnvPrime
	}
	return h
}

package keyed

import "hash/maphash"

// Table indexes records of type V by the key that key(v) returns. The zero
// Table is not usable; make one with New. Not safe for concurrent use.
//
// Iterating (All) while the table changes follows a Go map's rules: a record
// deleted before the iteration reaches it is not produced, one inserted
// during the iteration may or may not be, and no record is produced twice
// (unless the iteration inserts so many that the table must grow under it:
// it defers growing until it is nearly full).
//
// Slots are found by linear probing. Beside each slot a word holds 32 bits of
// the key's hash (or says empty, or deleted), so that a probe reads a
// record, to compare keys, only when the whole word matches, and growing
// never reads a record: the records are where the cache misses are. The
// table grows at 3/4 full (records and the slots of deleted ones) to twice
// its records, so it runs between 3/8 and 3/4 full: 12 bytes per slot, 16-32
// per record.
type Table[K comparable, V any] struct {
	slots     []*V
	hashes    []uint32 // per slot: hashEmpty, hashDeleted, or the record's hash
	live      int      // records
	used      int      // slots not empty (records and deleted)
	iterating int      // iterations under way: the table does not rehash meanwhile
	seed      maphash.Seed
	key       func(*V) K
}

const (
	hashEmpty   = 0
	hashDeleted = 1
	hashMin     = 2 // a key's hash is at least this (see hash)
)

// New returns an empty table of records keyed by key.
func New[K comparable, V any](key func(*V) K) *Table[K, V] {
	return &Table[K, V]{seed: maphash.MakeSeed(), key: key}
}

// Len is the number of records.
func (t *Table[K, V]) Len() int { return t.live }

// hash returns k's 32-bit hash, which is also where its probe starts (modulo
// the table's size). The two values that mark slots are mapped onto others.
func (t *Table[K, V]) hash(k K) uint32 {
	h := uint32(maphash.Comparable(t.seed, k))
	if h < hashMin {
		h += hashMin
	}
	return h
}

// find returns the slot of the record with key k, or -1.
func (t *Table[K, V]) find(k K) int {
	if t.live == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	h := t.hash(k)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch t.hashes[i] {
		case hashEmpty:
			return -1
		case h:
			if t.key(t.slots[i]) == k {
				return i
			}
		}
	}
}

// Get returns the record with key k, or nil.
func (t *Table[K, V]) Get(k K) *V {
	if i := t.find(k); i >= 0 {
		return t.slots[i]
	}
	return nil
}

// Put stores v under its key, replacing (and returning) the record that had
// that key.
func (t *Table[K, V]) Put(v *V) (old *V) {
	if v == nil {
		panic("keyed: Put(nil)")
	}
	if (t.used+1)*4 > len(t.slots)*3 && (t.iterating == 0 || t.used+2 >= len(t.slots)) {
		// A rehash while an iteration is under way would make it produce
		// records twice; it waits until the table is nearly full.
		t.rehash()
	}
	k := t.key(v)
	mask := len(t.slots) - 1
	h := t.hash(k)
	free := -1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch t.hashes[i] {
		case hashEmpty:
			if free < 0 {
				free = i
				t.used++
			}
			t.slots[free], t.hashes[free] = v, h
			t.live++
			return nil
		case hashDeleted:
			if free < 0 {
				free = i
			}
		case h:
			if s := t.slots[i]; t.key(s) == k {
				t.slots[i] = v
				return s
			}
		}
	}
}

// Delete removes the record with key k and returns it, or nil.
func (t *Table[K, V]) Delete(k K) *V {
	i := t.find(k)
	if i < 0 {
		return nil
	}
	s := t.slots[i]
	t.slots[i], t.hashes[i] = nil, hashDeleted
	t.live--
	if t.live == 0 && t.iterating == 0 {
		clear(t.hashes) // no deleted slots left to probe past
		t.used = 0
	}
	return s
}

// All yields every record, in no particular order.
func (t *Table[K, V]) All(yield func(*V) bool) {
	t.iterating++
	defer func() { t.iterating-- }()
	for i := 0; i < len(t.slots); i++ {
		if t.hashes[i] >= hashMin && !yield(t.slots[i]) {
			return
		}
	}
}

// rehash moves the records to a table sized for twice as many, without
// deleted slots. It reads the slots' hashes, not the records.
func (t *Table[K, V]) rehash() {
	size := 8
	for size < (t.live+1)*2 {
		size <<= 1
	}
	oldSlots, oldHashes := t.slots, t.hashes
	t.slots, t.hashes = make([]*V, size), make([]uint32, size)
	t.used = t.live
	mask := size - 1
	for j, h := range oldHashes {
		if h < hashMin {
			continue
		}
		i := int(h) & mask
		for t.hashes[i] != hashEmpty {
			i = (i + 1) & mask
		}
		t.slots[i], t.hashes[i] = oldSlots[j], h
	}
}

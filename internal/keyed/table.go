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
// Slots are found by linear probing. Beside each slot a byte holds 7 bits of
// the key's hash (or says empty, or deleted), so that a probe reads a
// record, to compare keys, only when those bits match: the records are
// where the cache misses are. The table grows at 3/4 full (records and the
// slots of deleted ones) to twice its records, so it runs between 3/8 and 3/4
// full: about 9 bytes per slot, 12-24 per record.
type Table[K comparable, V any] struct {
	slots     []*V
	tags      []uint8 // per slot: tagEmpty, tagDeleted, or 0x80 | 7 hash bits
	live      int     // records
	used      int     // slots not empty (records and deleted)
	iterating int     // iterations under way: the table does not rehash meanwhile
	seed      maphash.Seed
	key       func(*V) K
}

const (
	tagEmpty   = 0
	tagDeleted = 1
)

// New returns an empty table of records keyed by key.
func New[K comparable, V any](key func(*V) K) *Table[K, V] {
	return &Table[K, V]{seed: maphash.MakeSeed(), key: key}
}

// Len is the number of records.
func (t *Table[K, V]) Len() int { return t.live }

// hash returns where k's probe starts and its tag.
func (t *Table[K, V]) hash(k K) (int, uint8) {
	h := maphash.Comparable(t.seed, k)
	return int(h), 0x80 | uint8(h>>57)
}

// find returns the slot of the record with key k, or -1.
func (t *Table[K, V]) find(k K) int {
	if t.live == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	h, tag := t.hash(k)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case tagEmpty:
			return -1
		case tag:
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
	h, tag := t.hash(k)
	free := -1
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case tagEmpty:
			if free < 0 {
				free = i
				t.used++
			}
			t.slots[free], t.tags[free] = v, tag
			t.live++
			return nil
		case tagDeleted:
			if free < 0 {
				free = i
			}
		case tag:
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
	t.slots[i], t.tags[i] = nil, tagDeleted
	t.live--
	if t.live == 0 && t.iterating == 0 {
		clear(t.tags) // no deleted slots left to probe past
		t.used = 0
	}
	return s
}

// All yields every record, in no particular order.
func (t *Table[K, V]) All(yield func(*V) bool) {
	t.iterating++
	defer func() { t.iterating-- }()
	for i := 0; i < len(t.slots); i++ {
		if t.tags[i] >= 0x80 && !yield(t.slots[i]) {
			return
		}
	}
}

// rehash moves the records to a table sized for twice as many, without
// deleted slots.
func (t *Table[K, V]) rehash() {
	size := 8
	for size < (t.live+1)*2 {
		size <<= 1
	}
	oldSlots, oldTags := t.slots, t.tags
	t.slots, t.tags = make([]*V, size), make([]uint8, size)
	t.used = t.live
	mask := size - 1
	for j, s := range oldSlots {
		if oldTags[j] < 0x80 {
			continue
		}
		h, tag := t.hash(t.key(s))
		i := h & mask
		for t.tags[i] != tagEmpty {
			i = (i + 1) & mask
		}
		t.slots[i], t.tags[i] = s, tag
	}
}

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
// Slots are found by linear probing; the table grows at 3/4 full (records
// and the slots of deleted ones) to twice its records, so it runs between
// 3/8 and 3/4 full.
type Table[K comparable, V any] struct {
	slots     []*V // nil: empty; tomb: a deleted record's slot
	tomb      *V
	live      int // records
	used      int // slots not empty (records and tombs)
	iterating int // iterations under way: the table does not rehash meanwhile
	seed      maphash.Seed
	key       func(*V) K
}

// New returns an empty table of records keyed by key.
func New[K comparable, V any](key func(*V) K) *Table[K, V] {
	return &Table[K, V]{tomb: new(V), seed: maphash.MakeSeed(), key: key}
}

// Len is the number of records.
func (t *Table[K, V]) Len() int { return t.live }

// Get returns the record with key k, or nil.
func (t *Table[K, V]) Get(k K) *V {
	if t.live == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := int(maphash.Comparable(t.seed, k)) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil {
			return nil
		}
		if s != t.tomb && t.key(s) == k {
			return s
		}
	}
}

// Put stores v under its key, replacing (and returning) the record that had
// that key.
func (t *Table[K, V]) Put(v *V) (old *V) {
	if v == nil {
		panic("keyed: Put(nil)")
	}
	if (t.used+1)*4 > len(t.slots)*3 && (t.iterating == 0 || (t.used+2) >= len(t.slots)) {
		// A rehash while an iteration is under way would make it produce
		// records twice; it waits until the table is nearly full.
		t.rehash()
	}
	k := t.key(v)
	mask := len(t.slots) - 1
	free := -1
	for i := int(maphash.Comparable(t.seed, k)) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		switch {
		case s == nil:
			if free < 0 {
				free = i
				t.used++
			}
			t.slots[free] = v
			t.live++
			return nil
		case s == t.tomb:
			if free < 0 {
				free = i
			}
		case t.key(s) == k:
			t.slots[i] = v
			return s
		}
	}
}

// Delete removes the record with key k and returns it, or nil.
func (t *Table[K, V]) Delete(k K) *V {
	if t.live == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := int(maphash.Comparable(t.seed, k)) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == nil {
			return nil
		}
		if s != t.tomb && t.key(s) == k {
			t.slots[i] = t.tomb
			t.live--
			if t.live == 0 && t.iterating == 0 {
				clear(t.slots) // no tombs to probe past
				t.used = 0
			}
			return s
		}
	}
}

// All yields every record, in no particular order.
func (t *Table[K, V]) All(yield func(*V) bool) {
	t.iterating++
	defer func() { t.iterating-- }()
	for i := 0; i < len(t.slots); i++ {
		if s := t.slots[i]; s != nil && s != t.tomb && !yield(s) {
			return
		}
	}
}

// rehash moves the records to a table sized for twice as many, without tombs.
func (t *Table[K, V]) rehash() {
	size := 8
	for size < (t.live+1)*2 {
		size <<= 1
	}
	old := t.slots
	t.slots = make([]*V, size)
	t.used = t.live
	mask := size - 1
	for _, s := range old {
		if s == nil || s == t.tomb {
			continue
		}
		i := int(maphash.Comparable(t.seed, t.key(s))) & mask
		for t.slots[i] != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

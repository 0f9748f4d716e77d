package stack

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"sync/atomic"
)

// hostIndex is the table's exact-match index for host-pair routes, the
// (G/128, S/128) entries of (S,G) forwarding state. A /128 destination with a
// /128 source is the longest match any key can have, so a hit here is the
// answer of a Lookup without touching the prefix tries: (S,G) forwarding costs
// one hash probe, like a forwarding cache, while the table keeps its
// (dst, src) semantics.
//
// It is an open-addressing hash in the style of a Swiss table: groups of 8
// slots with one control byte per slot (empty, or full with 7 bits of the
// hash), keys stored in the slots so that a probe compares words without
// visiting routes. Readers never lock. Only the writer (under Table.mu)
// changes the index, in ways a concurrent reader can follow:
//
//   - a slot's key is written once, before its control byte turns full with an
//     atomic store of the control word; a reader reads keys only of slots whose
//     byte it saw full, so keys never change under a reader;
//   - a slot stays bound to its key for the life of the index: replacing a route
//     swaps the slot's route pointer atomically, deleting stores nil (a dead
//     slot), and inserting the key again revives the same slot;
//   - when live and dead slots reach 7/8 of the capacity, the writer builds a
//     new index of the live routes and publishes it with an atomic pointer
//     swap; readers still on the old one see the state from just before.
//
// (A variant that kept only route pointers, one cache line per group, and
// compared keys on the routes was measured slower: the route's lines are then
// on the critical path of every probe.)
type hostIndex struct {
	// ctrl[g] is group g's control word: byte i describes slots[g*8+i]
	// (0 = empty, 0x80|7 hash bits = bound). The control words sit apart from
	// the slots so that they stay in cache (8 bytes per 8 slots) and a probe
	// costs one miss, on the slot.
	ctrl  []atomic.Uint64
	slots []hostSlot
	mask  uint64 // len(ctrl) - 1; len(ctrl) is a power of two
	seed  uint64

	// Writer-only bookkeeping.
	used int // slots bound to a key (live + dead)
	live int // slots holding a route
}

const (
	hostGroupSlots = 8
	ctrlLSB        = 0x0101010101010101
	ctrlMSB        = 0x8080808080808080
)

type hostSlot struct {
	key hostKey
	r   atomic.Pointer[Route] // nil while the key's route is deleted
}

// hostKey is (destination address, source address, zone) as plain words, to
// hash.
type hostKey struct {
	d0, d1, s0, s1 uint64
	zone           int
}

func makeHostKey(dst, src netip.Addr, zone int) hostKey {
	d, s := dst.As16(), src.As16()
	return hostKey{
		d0:   binary.BigEndian.Uint64(d[:8]),
		d1:   binary.BigEndian.Uint64(d[8:]),
		s0:   binary.BigEndian.Uint64(s[:8]),
		s1:   binary.BigEndian.Uint64(s[8:]),
		zone: zone,
	}
}

// hash mixes the key with a per-index random seed (wyhash-style multiply
// folding), so that sources an outsider chooses cannot be aimed at one probe
// chain.
func (k *hostKey) hash(seed uint64) uint64 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
		p3 = 0x589965cc75374cc3
	)
	a := mix64(k.d0^seed^p0, k.d1^p1)
	b := mix64(k.s0^p2, k.s1^seed^uint64(k.zone))
	return mix64(a^p3, b^seed)
}

// equal compares word by word (a struct == may call memequal).
func (k *hostKey) equal(o *hostKey) bool {
	return k.d0 == o.d0 && k.d1 == o.d1 && k.s0 == o.s0 && k.s1 == o.s1 && k.zone == o.zone
}

func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func newHostIndex(groups int, seed uint64) *hostIndex {
	return &hostIndex{
		ctrl:  make([]atomic.Uint64, groups),
		slots: make([]hostSlot, groups*hostGroupSlots),
		mask:  uint64(groups - 1),
		seed:  seed,
	}
}

func randomSeed() uint64 {
	var h maphash.Hash // seeded randomly by the runtime
	return h.Sum64()
}

// matchTag returns a bit set (the top bit of each byte) for the control bytes
// that may equal tag; candidates are confirmed byte by byte.
func matchTag(ctrl, tag uint64) uint64 {
	x := ctrl ^ (ctrlLSB * tag)
	return (x - ctrlLSB) &^ x & ctrlMSB
}

// hasEmpty reports whether a control word has an empty (zero) byte.
func hasEmpty(ctrl uint64) bool {
	return (ctrl-ctrlLSB)&^ctrl&ctrlMSB != 0
}

func ctrlByte(ctrl uint64, i uint) uint64 { return (ctrl >> (i * 8)) & 0xff }

// find returns the slot bound to k, or nil. Safe for concurrent readers.
func (ix *hostIndex) find(k *hostKey) *hostSlot {
	h := k.hash(ix.seed)
	tag := 0x80 | h&0x7f
	g := (h >> 7) & ix.mask
	for step := uint64(1); ; step++ {
		ctrl := ix.ctrl[g].Load()
		for m := matchTag(ctrl, tag); m != 0; m &= m - 1 {
			i := uint64(bits.TrailingZeros64(m)) >> 3
			if ctrlByte(ctrl, uint(i)) != tag {
				continue // a false candidate of the bit trick; the slot may be empty
			}
			if s := &ix.slots[g*hostGroupSlots+i]; s.key.equal(k) {
				return s
			}
		}
		if hasEmpty(ctrl) {
			return nil
		}
		g = (g + step) & ix.mask
	}
}

// lookup returns the live route (dst/128, src/128, zone), or nil: get written
// out in one function for the forwarder's hot path (the calls of the general
// form cost it a measurable share). Safe for concurrent readers.
func (ix *hostIndex) lookup(dst, src netip.Addr, zone int) *Route {
	d, s := dst.As16(), src.As16()
	k := hostKey{
		d0:   binary.BigEndian.Uint64(d[:8]),
		d1:   binary.BigEndian.Uint64(d[8:]),
		s0:   binary.BigEndian.Uint64(s[:8]),
		s1:   binary.BigEndian.Uint64(s[8:]),
		zone: zone,
	}
	h := k.hash(ix.seed)
	tag := 0x80 | h&0x7f
	g := (h >> 7) & ix.mask
	for step := uint64(1); ; step++ {
		ctrl := ix.ctrl[g].Load()
		for m := matchTag(ctrl, tag); m != 0; m &= m - 1 {
			i := uint64(bits.TrailingZeros64(m)) >> 3
			if ctrlByte(ctrl, uint(i)) != tag {
				continue
			}
			if sl := &ix.slots[g*hostGroupSlots+i]; sl.key.equal(&k) {
				return sl.r.Load()
			}
		}
		if hasEmpty(ctrl) {
			return nil
		}
		g = (g + step) & ix.mask
	}
}

// get returns the live route under k, or nil. Safe for concurrent readers.
func (ix *hostIndex) get(k *hostKey) *Route {
	if s := ix.find(k); s != nil {
		return s.r.Load()
	}
	return nil
}

// add binds a new slot to k (which has none) and stores r in it: the first
// empty slot of the first group on k's probe sequence that has one, which is
// where find stops. Writer only.
func (ix *hostIndex) add(k *hostKey, r *Route) {
	h := k.hash(ix.seed)
	tag := 0x80 | h&0x7f
	g := (h >> 7) & ix.mask
	for step := uint64(1); ; step++ {
		ctrl := ix.ctrl[g].Load()
		if hasEmpty(ctrl) {
			for i := uint(0); i < hostGroupSlots; i++ {
				if ctrlByte(ctrl, i) == 0 {
					s := &ix.slots[g*hostGroupSlots+uint64(i)]
					s.key = *k
					s.r.Store(r)
					ix.ctrl[g].Store(ctrl | tag<<(i*8)) // publishes key and route
					ix.used++
					ix.live++
					return
				}
			}
		}
		g = (g + step) & ix.mask
	}
}

// remove deletes the route (dst/128, src/128, zone) and returns it, or nil.
// Writer only.
func (ix *hostIndex) remove(dst, src netip.Addr, zone int) *Route {
	k := makeHostKey(dst, src, zone)
	s := ix.find(&k)
	if s == nil {
		return nil
	}
	old := s.r.Swap(nil)
	if old != nil {
		ix.live--
	}
	return old
}

// grown returns a new index holding the live routes of ix, sized so that it is
// at most half full after adding extra more keys.
func (ix *hostIndex) grown(extra int) *hostIndex {
	want := (ix.live + extra) * 2
	groups := 1
	for groups*hostGroupSlots < want {
		groups <<= 1
	}
	nx := newHostIndex(groups, ix.seed)
	for g := range ix.ctrl {
		ctrl := ix.ctrl[g].Load()
		for i := uint(0); i < hostGroupSlots; i++ {
			if ctrlByte(ctrl, i) == 0 {
				continue
			}
			s := &ix.slots[g*hostGroupSlots+int(i)]
			if r := s.r.Load(); r != nil {
				nx.add(&s.key, r)
			}
		}
	}
	return nx
}

// each calls f for every live route until f returns false.
func (ix *hostIndex) each(f func(*Route) bool) bool {
	for g := range ix.ctrl {
		ctrl := ix.ctrl[g].Load()
		for i := uint(0); i < hostGroupSlots; i++ {
			if ctrlByte(ctrl, i) == 0 {
				continue
			}
			if r := ix.slots[g*hostGroupSlots+int(i)].r.Load(); r != nil && !f(r) {
				return false
			}
		}
	}
	return true
}

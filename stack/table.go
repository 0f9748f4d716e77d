package stack

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gaissmai/bart"
)

// Table is the router's one routing table, keyed by (destination prefix, source
// prefix, zone), with Linux-subtree semantics: longest match on the destination,
// then longest match on the source inside that destination's subtree, falling
// back to a shorter destination when the subtree has no match.
//
// Zones: a route with a non-zero Zone (only link-scoped destinations may have
// one) is seen only by lookups of link-scoped destinations in that same zone. A
// route with Zone 0 is not tied to a link and is seen by every lookup, zoned or
// not; at equal destination prefixes a zoned route comes before the unzoned one.
// Lookups of destinations that are not link-scoped ignore the zone argument.
//
// Concurrency: any number of readers (Lookup, RPF, Get, Len) run at the same
// time as a writer and never wait for it; writers (Insert, Delete, the batch
// forms, Walk's collection) take turns on a mutex. Readers see each write
// either entirely or not at all.
//
// Layout (read-copy-update):
//   - (G/128, S/128) host-pair routes live in hostIndex, a lock-free hash whose
//     hit is always the best match (see table_host.go);
//   - every other route lives in a subtree (its destination's sources, see
//     table_subtree.go) stored in a persistent prefix trie per zone. A write
//     builds a new trie sharing all untouched nodes and swaps the root pointer.
//
// The tries are github.com/gaissmai/bart (BART, a multibit trie with stride 8 on
// Knuth's Allotment Routing Table and popcount-compressed nodes): lookups in a
// handful of node visits without allocation, little memory per prefix, and
// InsertPersist/DeletePersist that copy only the path to the changed node,
// which is what read-copy-update needs and what a trie of our own would
// otherwise have to get right.
type Table struct {
	mu    sync.Mutex // serialises writers
	root  atomic.Pointer[tableRoot]
	hosts atomic.Pointer[hostIndex]
	n     atomic.Int64
}

// tableRoot is one immutable version of the prefix tries.
type tableRoot struct {
	main  *bart.Table[*subtree]         // routes with Zone 0
	zoned map[int]*bart.Table[*subtree] // routes of link-scoped prefixes, by zone
}

func (root *tableRoot) trie(zone int) *bart.Table[*subtree] {
	if zone == 0 {
		return root.main
	}
	return root.zoned[zone] // nil if the zone has no routes
}

// withTrie returns a copy of root where zone's trie is t.
func (root *tableRoot) withTrie(zone int, t *bart.Table[*subtree]) *tableRoot {
	if zone == 0 {
		return &tableRoot{main: t, zoned: root.zoned}
	}
	nz := maps.Clone(root.zoned)
	if nz == nil {
		nz = make(map[int]*bart.Table[*subtree])
	}
	if t.Size() == 0 {
		delete(nz, zone)
	} else {
		nz[zone] = t
	}
	return &tableRoot{main: root.main, zoned: nz}
}

// RouteKey names one route of the table.
type RouteKey struct {
	Dst, Src netip.Prefix
	Zone     int
}

// NewTable returns an empty table.
func NewTable() *Table {
	t := &Table{}
	t.root.Store(&tableRoot{main: new(bart.Table[*subtree])})
	t.hosts.Store(newHostIndex(1, randomSeed()))
	return t
}

func isHostPair(dst, src netip.Prefix) bool {
	return dst.Bits() == 128 && src.Bits() == 128
}

// prepare checks r and returns the copy the table will own.
func prepare(r Route) (*Route, error) {
	if err := check(&r); err != nil {
		return nil, err
	}
	return own(r), nil
}

// check says why the table refuses r, if it does.
func check(r *Route) error {
	if err := r.validate(); err != nil {
		return err
	}
	if r.Zone < 0 {
		return fmt.Errorf("route %v: negative zone %d", r.Dst, r.Zone)
	}
	return nil
}

// own returns the copy of a checked route that the table keeps.
func own(r Route) *Route {
	// The table hands the route out to concurrent readers: it must not share
	// slices the caller may still change.
	r.NextHops = slices.Clone(r.NextHops)
	r.OIFs = slices.Clone(r.OIFs)
	r.Stats = nil
	return &r
}

// Insert adds r, replacing any route with the same key. A replaced route's
// counters carry over to the new one. An invalid route is refused with an
// error that says why, and the table is left unchanged.
func (t *Table) Insert(r Route) error {
	_, err := t.InsertUnless(r, nil)
	return err
}

// InsertBatch inserts routes as Insert does, publishing the prefix tries once
// for the whole batch: loading a full kernel table this way costs far less
// than route by route. Every route is checked first; if one is invalid the
// error names its index and nothing is inserted. Readers may see a part of the
// batch before the rest.
func (t *Table) InsertBatch(routes []Route) error {
	owned := make([]*Route, len(routes))
	for i := range routes {
		nr, err := prepare(routes[i])
		if err != nil {
			return fmt.Errorf("route %d of %d: %w", i, len(routes), err)
		}
		owned[i] = nr
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	root := t.root.Load()
	// A batch that is large next to the tries it changes is cheaper applied in
	// place to private deep copies than path by path to shared ones.
	private := false
	var prefixRoutes int
	for _, r := range owned {
		if !isHostPair(r.Dst, r.Src) {
			prefixRoutes++
		}
	}
	if prefixRoutes > 0 && prefixRoutes >= t.prefixCount(root)/4 {
		root = cloneRoot(root)
		private = true
	}
	for _, r := range owned {
		root = t.insertLocked(root, r, private)
	}
	t.root.Store(root)
	return nil
}

// prefixCount is the number of destination prefixes in the tries.
func (t *Table) prefixCount(root *tableRoot) int {
	n := root.main.Size()
	for _, z := range root.zoned {
		n += z.Size()
	}
	return n
}

// cloneRoot deep-copies the tries (not the subtrees, which are immutable).
func cloneRoot(root *tableRoot) *tableRoot {
	nr := &tableRoot{main: root.main.Clone()}
	if root.zoned != nil {
		nr.zoned = make(map[int]*bart.Table[*subtree], len(root.zoned))
		for z, tr := range root.zoned {
			nr.zoned[z] = tr.Clone()
		}
	}
	return nr
}

// insertLocked adds r and returns the root to publish. With private set, root
// is a copy no reader has seen and its tries are changed in place.
func (t *Table) insertLocked(root *tableRoot, r *Route, private bool) *tableRoot {
	if isHostPair(r.Dst, r.Src) {
		k := makeHostKey(r.Dst.Addr(), r.Src.Addr(), r.Zone)
		t.putHostLocked(&k, r, t.hosts.Load().find(&k))
		return root
	}

	tr := root.trie(r.Zone)
	if tr == nil {
		tr = new(bart.Table[*subtree])
		private = true // a new trie is nobody else's yet
	}
	sub, _ := tr.Get(r.Dst)
	nsub, old := sub.with(r)
	if old != nil {
		r.Stats = old.Stats
	} else {
		r.Stats = new(RouteStats)
		t.n.Add(1)
	}
	if private {
		tr.Insert(r.Dst, nsub)
	} else {
		tr = tr.InsertPersist(r.Dst, nsub)
	}
	if root.trie(r.Zone) == tr {
		return root
	}
	return root.withTrie(r.Zone, tr)
}

// putHostLocked publishes the host-pair route r under k, whose slot in the
// current host index is s (nil: none yet). Writer only.
func (t *Table) putHostLocked(k *hostKey, r *Route, s *hostSlot) {
	// Stats are set before the route is published to readers.
	if s != nil {
		if old := s.r.Load(); old != nil {
			r.Stats = old.Stats
			s.r.Store(r)
			return
		}
		r.Stats = new(RouteStats)
		t.n.Add(1)
		s.r.Store(r) // the key's slot, revived
		t.hosts.Load().live++
		return
	}
	r.Stats = new(RouteStats)
	t.n.Add(1)
	ix := t.hosts.Load()
	if (ix.used+1)*8 > len(ix.slots)*7 {
		ix = ix.grown(1)
		ix.add(k, r)
		t.hosts.Store(ix)
		return
	}
	ix.add(k, r)
}

// InsertUnless inserts r as Insert does, unless the table's route under r's
// key satisfies keep (which must not change it; nil keeps nothing): then the
// table is left as it is, and InsertUnless reports false. It costs one probe
// for a host-pair route, where a Get and an Insert by key would cost three:
// the multicast FIB installs every (S,G) this way.
func (t *Table) InsertUnless(r Route, keep func(old *Route) bool) (inserted bool, err error) {
	if err := check(&r); err != nil {
		return false, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if isHostPair(r.Dst, r.Src) {
		k := makeHostKey(r.Dst.Addr(), r.Src.Addr(), r.Zone)
		s := t.hosts.Load().find(&k)
		if s != nil && keep != nil {
			if old := s.r.Load(); old != nil && keep(old) {
				return false, nil
			}
		}
		t.putHostLocked(&k, own(r), s)
		return true, nil
	}
	if keep != nil {
		if old, ok := t.Get(r.Dst, r.Src, r.Zone); ok && keep(old) { // Get takes no lock
			return false, nil
		}
	}
	root := t.root.Load()
	if nroot := t.insertLocked(root, own(r), false); nroot != root {
		t.root.Store(nroot)
	}
	return true, nil
}

// Delete removes the route with the given key and reports whether it existed.
func (t *Table) Delete(dst, src netip.Prefix, zone int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	root := t.root.Load()
	nroot, ok := t.deleteLocked(root, RouteKey{dst, src, zone}, false)
	if nroot != root {
		t.root.Store(nroot)
	}
	return ok
}

// DeleteBatch removes the routes with the given keys, publishing the prefix
// tries once, and returns how many existed.
func (t *Table) DeleteBatch(keys []RouteKey) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	root := t.root.Load()
	private := false
	if len(keys) > 0 && len(keys) >= t.prefixCount(root)/4 {
		root = cloneRoot(root) // as in InsertBatch
		private = true
	}
	n := 0
	for _, k := range keys {
		var ok bool
		root, ok = t.deleteLocked(root, k, private)
		if ok {
			n++
		}
	}
	t.root.Store(root)
	return n
}

// deleteLocked removes the route k and returns the root to publish. With
// private set, root's tries are a copy no reader has seen, changed in place.
func (t *Table) deleteLocked(root *tableRoot, k RouteKey, private bool) (*tableRoot, bool) {
	if !k.Dst.IsValid() || !k.Src.IsValid() {
		return root, false
	}
	if isHostPair(k.Dst, k.Src) {
		ix := t.hosts.Load()
		if ix.remove(k.Dst.Addr(), k.Src.Addr(), k.Zone) == nil {
			return root, false
		}
		t.n.Add(-1)
		// Deleted slots count towards the load limit; shrink when most are.
		if ix.used > 64 && ix.live*4 < ix.used {
			t.hosts.Store(ix.grown(0))
		}
		return root, true
	}
	tr := root.trie(k.Zone)
	if tr == nil {
		return root, false
	}
	sub, ok := tr.Get(k.Dst)
	if !ok || sub.dst != k.Dst {
		return root, false
	}
	nsub, old := sub.without(k.Src)
	if old == nil {
		return root, false
	}
	t.n.Add(-1)
	switch {
	case private && nsub == nil:
		tr.Delete(k.Dst)
	case private:
		tr.Insert(k.Dst, nsub)
	case nsub == nil:
		tr = tr.DeletePersist(k.Dst)
	default:
		tr = tr.InsertPersist(k.Dst, nsub)
	}
	if root.trie(k.Zone) == tr && tr.Size() > 0 {
		return root, true
	}
	return root.withTrie(k.Zone, tr), true
}

// Get returns the route with exactly this key.
func (t *Table) Get(dst, src netip.Prefix, zone int) (*Route, bool) {
	if !dst.IsValid() || !src.IsValid() {
		return nil, false
	}
	if isHostPair(dst, src) {
		k := makeHostKey(dst.Addr(), src.Addr(), zone)
		r := t.hosts.Load().get(&k)
		return r, r != nil
	}
	tr := t.root.Load().trie(zone)
	if tr == nil {
		return nil, false
	}
	sub, ok := tr.Get(dst)
	if !ok || sub.dst != dst {
		return nil, false
	}
	r := sub.get(src)
	return r, r != nil
}

// Lookup finds the route for a packet from src to dst. zone is the link the
// packet concerns (arrival link); it is used only when dst is link-scoped.
// Any zone carried by the addresses themselves is ignored. It does not
// allocate.
func (t *Table) Lookup(dst, src netip.Addr, zone int) (*Route, bool) {
	if zone == 0 {
		// The forwarder's case, kept short: an (S,G) hit is one hash probe.
		// Address zones are not part of the key words, and the checks of the
		// address family wait until there is a hit.
		if r := t.hosts.Load().lookup(dst, src, 0); r != nil {
			if dst.Is6() && src.Is6() {
				return r, true
			}
			return nil, false
		}
		if !dst.Is6() || !src.Is6() {
			return nil, false
		}
		r := lookupTrie(t.root.Load().main, dst.WithZone(""), src.WithZone(""))
		return r, r != nil
	}
	return t.lookupGeneral(dst, src, zone)
}

func (t *Table) lookupGeneral(dst, src netip.Addr, zone int) (*Route, bool) {
	if !dst.Is6() || !src.Is6() {
		return nil, false
	}
	dst, src = dst.WithZone(""), src.WithZone("")
	if zone != 0 && !scopedAddr(dst) {
		zone = 0
	}
	hosts, root := t.hosts.Load(), t.root.Load()
	// A host pair in the lookup's own zone is the longest match there can be.
	k := makeHostKey(dst, src, zone)
	if r := hosts.get(&k); r != nil {
		return r, true
	}
	var r *Route
	if zone == 0 {
		r = lookupTrie(root.main, dst, src)
	} else {
		r = lookupZoned(root, hosts, dst, src, zone)
	}
	return r, r != nil
}

// lookupTrie walks the destinations of one trie that contain dst, longest
// first, and returns the first whose subtree has a source match. Not inlined:
// its trie walk keeps a stack of nodes that would otherwise be cleared on
// every (S,G) hit as well.
//
//go:noinline
func lookupTrie(tr *bart.Table[*subtree], dst, src netip.Addr) *Route {
	sub, ok := tr.Lookup(dst)
	for ok {
		if r := sub.match(src); r != nil {
			return r
		}
		sub, ok = nextShorter(tr, dst, sub.dst.Bits())
	}
	return nil
}

// nextShorter returns the longest destination in tr that contains dst and is
// shorter than bits.
func nextShorter(tr *bart.Table[*subtree], dst netip.Addr, bits int) (*subtree, bool) {
	if tr == nil || bits <= 0 {
		return nil, false
	}
	p, _ := dst.Prefix(bits - 1)
	_, sub, ok := tr.LookupPrefixLPM(p)
	return sub, ok
}

// lookupZoned merges the candidates of the lookup's zone with the unzoned ones:
// longer destinations first, a zoned one before an unzoned one of the same
// length. The zoned host pair was already tried by Lookup; the unzoned host
// pair (dst/128, src/128, 0) ranks right after the zoned dst/128 subtree.
func lookupZoned(root *tableRoot, hosts *hostIndex, dst, src netip.Addr, zone int) *Route {
	zt := root.zoned[zone]
	var zs, us *subtree
	var zok, uok bool
	if zt != nil {
		zs, zok = zt.Lookup(dst)
	}
	us, uok = root.main.Lookup(dst)
	unzonedHostTried := false
	for {
		if !unzonedHostTried && (!zok || zs.dst.Bits() < 128) {
			unzonedHostTried = true
			k := makeHostKey(dst, src, 0)
			if r := hosts.get(&k); r != nil {
				return r
			}
		}
		var sub *subtree
		switch {
		case zok && (!uok || zs.dst.Bits() >= us.dst.Bits()):
			sub = zs
			zs, zok = nextShorter(zt, dst, zs.dst.Bits())
		case uok:
			sub = us
			us, uok = nextShorter(root.main, dst, us.dst.Bits())
		default:
			return nil
		}
		if r := sub.match(src); r != nil {
			return r
		}
	}
}

// RPF returns the unicast route toward src (the reverse path), looked up as a
// destination with any source.
func (t *Table) RPF(src netip.Addr, zone int) (*Route, bool) {
	return t.Lookup(src, netip.IPv6Unspecified(), zone)
}

// Walk calls f for every route until f returns false. The routes are a
// consistent snapshot taken when Walk starts, in no particular order; f may
// use the table, including writing to it.
func (t *Table) Walk(f func(*Route) bool) {
	t.mu.Lock()
	root, hosts := t.root.Load(), t.hosts.Load()
	rs := make([]*Route, 0, t.n.Load())
	collect := func(r *Route) bool { rs = append(rs, r); return true }
	hosts.each(collect)
	t.mu.Unlock()
	// The tries are immutable: read them outside the lock.
	tries := []*bart.Table[*subtree]{root.main}
	for _, z := range slices.Sorted(maps.Keys(root.zoned)) {
		tries = append(tries, root.zoned[z])
	}
	for _, tr := range tries {
		for _, sub := range tr.All() {
			sub.each(collect)
		}
	}
	for _, r := range rs {
		if !f(r) {
			return
		}
	}
}

// Len returns the number of routes.
func (t *Table) Len() int {
	return int(t.n.Load())
}

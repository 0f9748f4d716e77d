package stack

import (
	"net/netip"
	"sync"
)

// Table is the router's one routing table, keyed by (destination prefix, source
// prefix, zone), with Linux-subtree semantics: longest match on the destination,
// then longest match on the source inside that destination's subtree, falling
// back to a shorter destination when the subtree has no match.
//
// Readers never block on the writer. (This first version is a plain scan under a
// read lock; it fixes the API and the semantics that the tests pin down.)
type Table struct {
	mu     sync.RWMutex
	routes map[routeKey]*Route
}

type routeKey struct {
	dst, src netip.Prefix
	zone     int
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{routes: make(map[routeKey]*Route)}
}

// Insert adds r, replacing any route with the same key. A replaced route's
// counters carry over to the new one.
func (t *Table) Insert(r Route) error {
	if err := r.validate(); err != nil {
		return err
	}
	k := routeKey{r.Dst, r.Src, r.Zone}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.routes[k]; ok {
		r.Stats = old.Stats
	} else {
		r.Stats = new(RouteStats)
	}
	t.routes[k] = &r
	return nil
}

// Delete removes the route with the given key and reports whether it existed.
func (t *Table) Delete(dst, src netip.Prefix, zone int) bool {
	k := routeKey{dst, src, zone}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.routes[k]
	delete(t.routes, k)
	return ok
}

// Get returns the route with exactly this key.
func (t *Table) Get(dst, src netip.Prefix, zone int) (*Route, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.routes[routeKey{dst, src, zone}]
	return r, ok
}

// Lookup finds the route for a packet from src to dst. zone is the link the
// packet concerns (arrival link); it is used only when dst is link-scoped.
func (t *Table) Lookup(dst, src netip.Addr, zone int) (*Route, bool) {
	dst, src = dst.WithZone(""), src.WithZone("")
	if !scopedAddr(dst) {
		zone = 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var best *Route
	for k, r := range t.routes {
		if k.zone != zone || !k.dst.Contains(dst) || !k.src.Contains(src) {
			continue
		}
		if best == nil || k.dst.Bits() > best.Dst.Bits() ||
			(k.dst.Bits() == best.Dst.Bits() && k.src.Bits() > best.Src.Bits()) {
			best = r
		}
	}
	return best, best != nil
}

// RPF returns the unicast route toward src (the reverse path), looked up as a
// destination with any source.
func (t *Table) RPF(src netip.Addr, zone int) (*Route, bool) {
	return t.Lookup(src, netip.IPv6Unspecified(), zone)
}

// Walk calls f for every route until f returns false. The routes are a snapshot.
func (t *Table) Walk(f func(*Route) bool) {
	t.mu.RLock()
	rs := make([]*Route, 0, len(t.routes))
	for _, r := range t.routes {
		rs = append(rs, r)
	}
	t.mu.RUnlock()
	for _, r := range rs {
		if !f(r) {
			return
		}
	}
}

// Len returns the number of routes.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.routes)
}

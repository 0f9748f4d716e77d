package stack

import (
	"net/netip"
)

// refTable is the brute-force statement of the table's semantics, for the
// differential tests: a route matches when its prefixes contain the addresses
// and it is unzoned or in the lookup's zone; the best match is the greatest by
// (destination length, zoned before unzoned, source length). That is the
// subtree rule with backtracking, written as a plain maximum.
type refTable struct {
	routes map[RouteKey]*Route
}

func newRefTable() *refTable { return &refTable{routes: make(map[RouteKey]*Route)} }

func (t *refTable) insert(r *Route) { t.routes[RouteKey{r.Dst, r.Src, r.Zone}] = r }

func (t *refTable) delete(k RouteKey) bool {
	_, ok := t.routes[k]
	delete(t.routes, k)
	return ok
}

func (t *refTable) lookup(dst, src netip.Addr, zone int) *Route {
	if !scopedAddr(dst) {
		zone = 0
	}
	var best *Route
	for k, r := range t.routes {
		if !k.Dst.Contains(dst) || !k.Src.Contains(src) {
			continue
		}
		if k.Zone != 0 && k.Zone != zone {
			continue
		}
		if best == nil || refBetter(r, best) {
			best = r
		}
	}
	return best
}

func refBetter(a, b *Route) bool {
	if a.Dst.Bits() != b.Dst.Bits() {
		return a.Dst.Bits() > b.Dst.Bits()
	}
	if (a.Zone != 0) != (b.Zone != 0) {
		return a.Zone != 0
	}
	return a.Src.Bits() > b.Src.Bits()
}

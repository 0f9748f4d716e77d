package stack

import (
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// subtreeListMax is how many sources a destination's subtree keeps in a plain
// list before it moves them into a prefix trie of their own. Almost every
// subtree holds one source (::/0), where a list is the fastest there is.
const subtreeListMax = 16

// subtree is the immutable set of routes that share one destination prefix and
// zone, the "source subtree" of Linux's IPv6 FIB. Writers replace a subtree
// with a modified copy; readers that hold the old one keep a consistent view.
type subtree struct {
	dst  netip.Prefix
	zone int
	// srcs is ordered by source prefix length, longest first, so the first
	// source that contains an address is its longest match. Nil when big is set.
	srcs []*Route
	big  *bart.Table[*Route] // keyed by source prefix; used past subtreeListMax
}

// match returns the route whose source prefix is the longest to contain src.
func (s *subtree) match(src netip.Addr) *Route {
	if s.big != nil {
		r, _ := s.big.Lookup(src)
		return r
	}
	for _, r := range s.srcs {
		if r.Src.Contains(src) {
			return r
		}
	}
	return nil
}

// get returns the route with exactly this source prefix.
func (s *subtree) get(src netip.Prefix) *Route {
	if s.big != nil {
		if r, ok := s.big.Get(src); ok && r.Src == src {
			return r
		}
		return nil
	}
	for _, r := range s.srcs {
		if r.Src == src {
			return r
		}
	}
	return nil
}

func (s *subtree) len() int {
	if s.big != nil {
		return s.big.Size()
	}
	return len(s.srcs)
}

// srcOrder sorts longer source prefixes first, then by address, so that list
// order is the match order and deterministic.
func srcOrder(a, b *Route) int {
	if a.Src.Bits() != b.Src.Bits() {
		return b.Src.Bits() - a.Src.Bits()
	}
	return a.Src.Addr().Compare(b.Src.Addr())
}

// with returns a copy of s (which may be nil) holding r, replacing the route
// with r's source prefix, and the route it replaced.
func (s *subtree) with(r *Route) (*subtree, *Route) {
	if s == nil {
		return &subtree{dst: r.Dst, zone: r.Zone, srcs: []*Route{r}}, nil
	}
	ns := &subtree{dst: s.dst, zone: s.zone}
	if s.big != nil {
		old, _ := s.big.Get(r.Src)
		ns.big = s.big.InsertPersist(r.Src, r)
		return ns, old
	}
	i, found := slices.BinarySearchFunc(s.srcs, r, srcOrder)
	if found {
		ns.srcs = slices.Clone(s.srcs)
		ns.srcs[i] = r
		return ns, s.srcs[i]
	}
	if len(s.srcs) < subtreeListMax {
		ns.srcs = slices.Insert(slices.Clip(s.srcs), i, r)
		return ns, nil
	}
	ns.big = new(bart.Table[*Route])
	for _, o := range s.srcs {
		ns.big.Insert(o.Src, o)
	}
	ns.big.Insert(r.Src, r)
	return ns, nil
}

// without returns a copy of s without the route of source prefix src (nil when
// nothing is left) and the route removed (nil if there was none, and then the
// returned subtree is s itself).
func (s *subtree) without(src netip.Prefix) (*subtree, *Route) {
	old := s.get(src)
	if old == nil {
		return s, nil
	}
	if s.len() == 1 {
		return nil, old
	}
	ns := &subtree{dst: s.dst, zone: s.zone}
	if s.big != nil {
		ns.big = s.big.DeletePersist(src)
		return ns, old
	}
	ns.srcs = slices.DeleteFunc(slices.Clone(s.srcs), func(r *Route) bool { return r == old })
	return ns, old
}

// each calls f for every route until f returns false.
func (s *subtree) each(f func(*Route) bool) bool {
	if s.big != nil {
		for _, r := range s.big.All() {
			if !f(r) {
				return false
			}
		}
		return true
	}
	for _, r := range s.srcs {
		if !f(r) {
			return false
		}
	}
	return true
}

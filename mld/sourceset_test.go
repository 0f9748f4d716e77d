package mld

import (
	"net/netip"
	"slices"
	"testing"
)

// The set must behave the same below and above the size where it switches
// from a list to a map, and survive removing the yielded record mid-walk
// (groupTimerExpired and the §7.4 "Delete (A-B)" actions do that).
func TestSourceSetAcrossTheListToMapSwitch(t *testing.T) {
	for _, n := range []int{1, smallSourceSet, smallSourceSet + 1, 5 * smallSourceSet} {
		var ss sourceSet
		want := map[netip.Addr]*source{}
		for i := range n {
			s := &source{ip: [16]byte{0x20, 0x01, 15: byte(i + 1)}}
			ss.add(s)
			want[s.address()] = s
		}
		if ss.len() != n {
			t.Fatalf("n=%d: len = %d", n, ss.len())
		}
		for a, s := range want {
			if got := ss.get(a); got != s {
				t.Errorf("n=%d: get(%v) = %p, want %p", n, a, got, s)
			}
		}
		if ss.get(netip.MustParseAddr("2001::ffff")) != nil {
			t.Errorf("n=%d: get of an absent source found a record", n)
		}
		// Remove every other record while walking; each must be seen once.
		var seen []netip.Addr
		odd := false
		for s := range ss.all() {
			seen = append(seen, s.address())
			if odd {
				ss.remove(s)
				delete(want, s.address())
			}
			odd = !odd
		}
		slices.SortFunc(seen, netip.Addr.Compare)
		if len(seen) != n || len(slices.Compact(seen)) != n {
			t.Errorf("n=%d: walk saw %d records (%d distinct), want %d", n, len(seen), len(slices.Compact(seen)), n)
		}
		if ss.len() != len(want) {
			t.Errorf("n=%d: after removals len = %d, want %d", n, ss.len(), len(want))
		}
		for a := range want {
			if ss.get(a) == nil {
				t.Errorf("n=%d: kept record %v lost", n, a)
			}
		}
	}
}

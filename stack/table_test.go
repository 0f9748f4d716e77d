package stack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func tblPfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func tblAddr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// uni is a unicast route out of link dev, tagged with a protocol name so that
// tests can tell routes apart.
func uni(dst, src string, zone, dev int, name string) Route {
	return Route{Dst: tblPfx(dst), Src: tblPfx(src), Zone: zone, Kind: KindUnicast,
		NextHops: []NextHop{{LinkIndex: dev}}, Protocol: name}
}

func mcast(g, s string, iif int, oifs ...int) Route {
	return Route{Dst: tblPfx(g), Src: tblPfx(s), Kind: KindMulticast, IIF: iif, OIFs: oifs,
		Protocol: g + " from " + s}
}

func mustInsert(t *testing.T, tb *Table, rs ...Route) {
	t.Helper()
	for _, r := range rs {
		if err := tb.Insert(r); err != nil {
			t.Fatalf("Insert(%v) = %v, want nil", &r, err)
		}
	}
}

// name identifies a lookup result in failure messages.
func name(r *Route, ok bool) string {
	if !ok {
		return "<none>"
	}
	return r.Protocol
}

type lookupCase struct {
	name     string
	dst, src string
	zone     int
	want     string // Protocol of the expected route, "<none>" for no match
}

func runLookups(t *testing.T, tb *Table, cases []lookupCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), c.zone)
			if got := name(r, ok); got != c.want {
				t.Errorf("Lookup(%s, %s, %d) = %s, want %s", c.dst, c.src, c.zone, got, c.want)
			}
		})
	}
}

func TestTableDestinationLongestMatch(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		uni("::/0", "::/0", 0, 1, "default"),
		uni("2001:db8::/32", "::/0", 0, 2, "/32"),
		uni("2001:db8:1::/48", "::/0", 0, 3, "/48"),
		uni("2001:db8:1:2::/64", "::/0", 0, 4, "/64"),
		uni("2001:db8:1:2::5/128", "::/0", 0, 5, "/128"),
		uni("2001:db8:1:2::/63", "::/0", 0, 6, "/63"), // overlaps /64, shorter
	)
	runLookups(t, tb, []lookupCase{
		{"exact host route", "2001:db8:1:2::5", "::", 0, "/128"},
		{"next to the host route", "2001:db8:1:2::6", "::", 0, "/64"},
		{"inside /63 but not /64", "2001:db8:1:3::1", "::", 0, "/63"},
		{"inside /48 only", "2001:db8:1:ff::1", "::", 0, "/48"},
		{"inside /32 only", "2001:db8:ffff::1", "::", 0, "/32"},
		{"default", "2001:db9::1", "::", 0, "default"},
		{"source does not matter for ::/0 sources", "2001:db8:1:2::5", "2001:db8::99", 0, "/128"},
	})
}

func TestTableNoDefault(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb, uni("2001:db8::/32", "::/0", 0, 1, "/32"))
	runLookups(t, tb, []lookupCase{
		{"outside every prefix", "2001:db9::1", "::", 0, "<none>"},
		{"inside", "2001:db8::1", "::", 0, "/32"},
	})
	if r, ok := NewTable().Lookup(tblAddr("::1"), tblAddr("::"), 0); ok {
		t.Errorf("empty table Lookup(::1) = %v, want none", r)
	}
}

func TestTableSourceLongestMatchInSubtree(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		mcast("ff3e::1/128", "::/0", 1, 2),               // (*,G)
		mcast("ff3e::1/128", "2001:db8::/32", 1, 3),      // source prefix
		mcast("ff3e::1/128", "2001:db8:1::/48", 1, 4),    // longer source prefix
		mcast("ff3e::1/128", "2001:db8:1::10/128", 1, 5), // (S,G) host pair
		mcast("ff3e::1/128", "2001:db8:1::11/128", 1, 6), // another (S,G)
		mcast("ff3e::/16", "2001:db8:1::10/128", 1, 7),   // shorter dst, longer src: loses
		mcast("ff3e::2/128", "2001:db8:1::10/128", 1, 8), // other group
	)
	runLookups(t, tb, []lookupCase{
		{"(S,G) host pair", "ff3e::1", "2001:db8:1::10", 0, "ff3e::1/128 from 2001:db8:1::10/128"},
		{"other (S,G) host pair", "ff3e::1", "2001:db8:1::11", 0, "ff3e::1/128 from 2001:db8:1::11/128"},
		{"longest source prefix", "ff3e::1", "2001:db8:1::12", 0, "ff3e::1/128 from 2001:db8:1::/48"},
		{"shorter source prefix", "ff3e::1", "2001:db8:2::1", 0, "ff3e::1/128 from 2001:db8::/32"},
		{"any source", "ff3e::1", "2001:db9::1", 0, "ff3e::1/128 from ::/0"},
		{"destination length wins over source length", "ff3e::1", "2001:db8:1::10", 0, "ff3e::1/128 from 2001:db8:1::10/128"},
		{"shorter destination when the group has no entry", "ff3e::3", "2001:db8:1::10", 0, "ff3e::/16 from 2001:db8:1::10/128"},
		{"no source match anywhere", "ff3e::3", "2001:db8:1::11", 0, "<none>"},
	})
}

func TestTableBacktracking(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		uni("::/0", "::/0", 0, 1, "default"),
		uni("2001:db8::/32", "::/0", 0, 2, "/32 any"),
		uni("2001:db8:1::/48", "2001:db8:aa::/48", 0, 3, "/48 from aa"),
		uni("2001:db8:1:2::/64", "2001:db8:bb::/48", 0, 4, "/64 from bb"),
		mcast("ff00::/8", "::/0", 0),
		mcast("ff3e::/32", "::/0", 0),
		mcast("ff3e::1/128", "2001:db8::1/128", 1, 2),
	)
	runLookups(t, tb, []lookupCase{
		{"longest dst matches its source", "2001:db8:1:2::1", "2001:db8:bb::1", 0, "/64 from bb"},
		{"back one level", "2001:db8:1:2::1", "2001:db8:aa::1", 0, "/48 from aa"},
		{"back two levels", "2001:db8:1:2::1", "2001:db8:cc::1", 0, "/32 any"},
		{"back to the default", "2001:db9::1", "2001:db8:cc::1", 0, "default"},
		{"(S,G) miss falls to the SSM range", "ff3e::1", "2001:db8::2", 0, "ff3e::/32 from ::/0"},
		{"group outside SSM range falls to ff00::/8", "ff0e::1", "2001:db8::2", 0, "ff00::/8 from ::/0"},
	})
}

func TestTableZones(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		uni("::/0", "::/0", 0, 1, "default"),
		uni("fe80::/64", "::/0", 2, 2, "fe80 on link 2"),
		uni("fe80::/64", "::/0", 3, 3, "fe80 on link 3"),
		uni("fe80::1/128", "::/0", 3, 3, "fe80::1 on link 3"),
		uni("fe80::/10", "::/0", 0, 9, "fe80::/10 unzoned"),
		uni("fe80::/64", "::/0", 0, 9, "fe80::/64 unzoned"),
		mcast("ff02::/16", "::/0", 0),
		mcast("ff02::d/128", "::/0", 5, 6),
		func() Route { r := mcast("ff02::d/128", "fe80::7/128", 4, 8); r.Zone = 4; return r }(),
		uni("2001:db8::/32", "::/0", 0, 7, "global"),
	)
	runLookups(t, tb, []lookupCase{
		{"same prefix, link 2", "fe80::99", "::", 2, "fe80 on link 2"},
		{"same prefix, link 3", "fe80::99", "::", 3, "fe80 on link 3"},
		{"host route only on link 3", "fe80::1", "::", 3, "fe80::1 on link 3"},
		{"host route of link 3 not seen from link 2", "fe80::1", "::", 2, "fe80 on link 2"},
		{"link without zoned routes sees the unzoned ones", "fe80::1", "::", 7, "fe80::/64 unzoned"},
		{"unknown zone sees only unzoned routes", "fe80::1", "::", 0, "fe80::/64 unzoned"},
		{"zoned (S,G) on its link", "ff02::d", "fe80::7", 4, "ff02::d/128 from fe80::7/128"},
		{"zoned (S,G) not seen from another link", "ff02::d", "fe80::7", 5, "ff02::d/128 from ::/0"},
		{"unzoned (*,G) seen from any link", "ff02::d", "fe80::8", 4, "ff02::d/128 from ::/0"},
		{"global destination ignores the zone", "2001:db8::1", "::", 3, "global"},
		{"global destination with zone 0", "2001:db8::1", "::", 0, "global"},
		{"unscoped multicast ignores the zone", "ff0e::1", "::", 3, "default"},
	})

	t.Run("address zone is ignored", func(t *testing.T) {
		r, ok := tb.Lookup(tblAddr("fe80::99%eth0"), tblAddr("::"), 3)
		if got := name(r, ok); got != "fe80 on link 3" {
			t.Errorf("Lookup(fe80::99%%eth0, ::, 3) = %s, want fe80 on link 3", got)
		}
	})
	t.Run("RPF is zoned", func(t *testing.T) {
		r, ok := tb.RPF(tblAddr("fe80::5"), 2)
		if got := name(r, ok); got != "fe80 on link 2" {
			t.Errorf("RPF(fe80::5, 2) = %s, want fe80 on link 2", got)
		}
	})
	t.Run("zoned and unzoned routes are distinct keys", func(t *testing.T) {
		for _, zone := range []int{0, 2, 3} {
			r, ok := tb.Get(tblPfx("fe80::/64"), tblPfx("::/0"), zone)
			if !ok || r.Zone != zone {
				t.Errorf("Get(fe80::/64, ::/0, %d) = %v, %v, want the zone %d route", zone, r, ok, zone)
			}
		}
		if r, ok := tb.Get(tblPfx("fe80::/64"), tblPfx("::/0"), 4); ok {
			t.Errorf("Get(fe80::/64, ::/0, 4) = %v, want none", r)
		}
	})
}

// A zoned route comes before an unzoned route of the same destination length,
// also when the unzoned one is a (G/128, S/128) host pair.
func TestTableZonedBeforeUnzonedAtEqualLength(t *testing.T) {
	tb := NewTable()
	zoned := mcast("ff02::d/128", "::/0", 4, 8)
	zoned.Zone, zoned.Protocol = 4, "zoned (*,G)"
	unzonedSG := mcast("ff02::d/128", "fe80::7/128", 1, 2)
	unzonedSG.Protocol = "unzoned (S,G)"
	mustInsert(t, tb, zoned, unzonedSG)
	runLookups(t, tb, []lookupCase{
		{"zoned subtree first", "ff02::d", "fe80::7", 4, "zoned (*,G)"},
		{"other link gets the unzoned host pair", "ff02::d", "fe80::7", 5, "unzoned (S,G)"},
	})
}

func TestTableKinds(t *testing.T) {
	tb := NewTable()
	sig := Route{Dst: tblPfx("ff00::/8"), Src: tblPfx("::/0"), Kind: KindSignal}
	drop := Route{Dst: tblPfx("ff3e::/32"), Src: tblPfx("::/0"), Kind: KindDrop}
	sg := Route{Dst: tblPfx("ff3e::1/128"), Src: tblPfx("2001:db8::1/128"), Kind: KindMulticast, IIF: 1, OIFs: []int{2, 3}}
	u := uni("2001:db8::/32", "::/0", 0, 1, "u")
	mustInsert(t, tb, sig, drop, sg, u)
	cases := []struct {
		name     string
		dst, src string
		want     RouteKind
	}{
		{"no state signals", "ff05::1", "2001:db8::1", KindSignal},
		{"SSM range without (S,G) drops", "ff3e::2", "2001:db8::1", KindDrop},
		{"(S,G) forwards", "ff3e::1", "2001:db8::1", KindMulticast},
		{"unicast", "2001:db8::5", "::", KindUnicast},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			if !ok || r.Kind != c.want {
				t.Fatalf("Lookup(%s, %s).Kind = %v (found %v), want %v", c.dst, c.src, r, ok, c.want)
			}
		})
	}
	t.Run("replacing changes the kind", func(t *testing.T) {
		sg2 := sg
		sg2.Kind = KindDrop
		mustInsert(t, tb, sg2)
		r, _ := tb.Lookup(tblAddr("ff3e::1"), tblAddr("2001:db8::1"), 0)
		if r.Kind != KindDrop {
			t.Errorf("after replace Kind = %v, want drop", r.Kind)
		}
	})
}

func TestTableStatsCarryOverOnReplace(t *testing.T) {
	for _, c := range []struct {
		name string
		r    Route
		dst  string
		src  string
	}{
		{"host pair (S,G)", mcast("ff3e::1/128", "2001:db8::1/128", 1, 2), "ff3e::1", "2001:db8::1"},
		{"(*,G)", mcast("ff3e::1/128", "::/0", 1, 2), "ff3e::1", "2001:db8::9"},
		{"unicast", uni("2001:db8::/32", "::/0", 0, 1, "u"), "2001:db8::1", "::"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := NewTable()
			mustInsert(t, tb, c.r)
			r1, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			r1.Stats.Count(100, 12345)
			repl := c.r
			repl.IIF, repl.OIFs = 9, []int{10}
			repl.Stats = new(RouteStats) // ignored: the table owns the counters
			mustInsert(t, tb, repl)
			r2, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			if r2 == r1 || r2.IIF != 9 {
				t.Fatalf("after replace got route %v, want the new one (iif 9)", r2)
			}
			if r2.Stats != r1.Stats {
				t.Errorf("replaced route's Stats = %p, want the old %p", r2.Stats, r1.Stats)
			}
			if got := r2.Stats.Packets.Load(); got != 1 {
				t.Errorf("Packets = %d, want 1", got)
			}
			if r1.IIF != c.r.IIF {
				t.Errorf("old route changed by replace: IIF = %d, want %d", r1.IIF, c.r.IIF)
			}
			// Deleting and inserting again starts new counters.
			tb.Delete(c.r.Dst, c.r.Src, 0)
			mustInsert(t, tb, c.r)
			r3, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			if r3.Stats == r1.Stats || r3.Stats.Packets.Load() != 0 {
				t.Errorf("re-inserted route kept old counters")
			}
		})
	}
}

// InsertUnless is the MFIB's one-probe install: it leaves a route that keep
// accepts, replaces one it refuses (carrying the counters over, as Insert
// does), inserts where there is none, and refuses an invalid route.
func TestTableInsertUnless(t *testing.T) {
	for _, c := range []struct {
		name     string
		r        Route
		dst, src string
	}{
		{"host pair (S,G)", mcast("ff3e::1/128", "2001:db8::1/128", 1, 2), "ff3e::1", "2001:db8::1"},
		{"(*,G)", mcast("ff3e::1/128", "::/0", 1, 2), "ff3e::1", "2001:db8::9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := NewTable()
			calls := 0
			keepAll := func(*Route) bool { calls++; return true }
			if ok, err := tb.InsertUnless(c.r, keepAll); !ok || err != nil || calls != 0 {
				t.Fatalf("first InsertUnless = %v, %v (keep called %d times), want true, nil, never", ok, err, calls)
			}
			r1, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			r1.Stats.Count(100, 1)
			same := c.r
			same.OIFs = []int{7}
			if ok, err := tb.InsertUnless(same, keepAll); ok || err != nil || calls != 1 {
				t.Fatalf("InsertUnless kept = %v, %v (keep called %d times), want false, nil, once", ok, err, calls)
			}
			if r, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0); r != r1 {
				t.Fatalf("a kept route was replaced: %v", r)
			}
			if ok, err := tb.InsertUnless(same, func(old *Route) bool { return slices.Equal(old.OIFs, same.OIFs) }); !ok || err != nil {
				t.Fatalf("InsertUnless replacing = %v, %v, want true, nil", ok, err)
			}
			r2, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0)
			if r2 == r1 || !slices.Equal(r2.OIFs, []int{7}) || r2.Stats != r1.Stats {
				t.Fatalf("after replace: %v (stats %p), want oifs [7] and the old counters %p", r2, r2.Stats, r1.Stats)
			}
			if tb.Len() != 1 {
				t.Fatalf("Len = %d, want 1", tb.Len())
			}
			// Deleted and inserted again: new counters.
			tb.Delete(c.r.Dst, c.r.Src, 0)
			if ok, _ := tb.InsertUnless(c.r, keepAll); !ok || tb.Len() != 1 {
				t.Fatalf("InsertUnless after Delete = %v, Len %d, want true, 1", ok, tb.Len())
			}
			if r3, _ := tb.Lookup(tblAddr(c.dst), tblAddr(c.src), 0); r3.Stats == r1.Stats {
				t.Fatalf("re-inserted route kept the deleted one's counters")
			}
			bad := c.r
			bad.OIFs = []int{3, 1}
			if ok, err := tb.InsertUnless(bad, keepAll); ok || err == nil {
				t.Fatalf("InsertUnless(invalid) = %v, %v, want false and an error", ok, err)
			}
		})
	}
}

func TestTableRoutesAreImmutable(t *testing.T) {
	tb := NewTable()
	r := mcast("ff3e::1/128", "2001:db8::1/128", 1, 2, 3)
	r.NextHops = []NextHop{{LinkIndex: 1}}
	mustInsert(t, tb, r)
	r.OIFs[0] = 99
	r.NextHops[0].LinkIndex = 99
	got, _ := tb.Get(r.Dst, r.Src, 0)
	if got.OIFs[0] != 2 || got.NextHops[0].LinkIndex != 1 {
		t.Errorf("route in table changed with the caller's slices: %v", got)
	}
}

func TestTableDelete(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		uni("::/0", "::/0", 0, 1, "default"),
		uni("2001:db8::/32", "::/0", 0, 2, "/32"),
		uni("2001:db8::/32", "2001:db8:aa::/48", 0, 3, "/32 from aa"),
		mcast("ff3e::1/128", "2001:db8::1/128", 1, 2),
		uni("fe80::/64", "::/0", 2, 2, "fe80 link 2"),
	)
	cases := []struct {
		name     string
		dst, src string
		zone     int
		want     bool
	}{
		{"source route", "2001:db8::/32", "2001:db8:aa::/48", 0, true},
		{"again", "2001:db8::/32", "2001:db8:aa::/48", 0, false},
		{"host pair", "ff3e::1/128", "2001:db8::1/128", 0, true},
		{"host pair again", "ff3e::1/128", "2001:db8::1/128", 0, false},
		{"never there", "2001:db8::/48", "::/0", 0, false},
		{"wrong zone", "fe80::/64", "::/0", 3, false},
		{"right zone", "fe80::/64", "::/0", 2, true},
		{"unmasked prefix is not a key", "2001:db8::1/32", "::/0", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := tb.Delete(tblPfx(c.dst), tblPfx(c.src), c.zone); got != c.want {
				t.Errorf("Delete(%s, %s, %d) = %v, want %v", c.dst, c.src, c.zone, got, c.want)
			}
		})
	}
	if got := tb.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2", got)
	}
	runLookups(t, tb, []lookupCase{
		{"source route gone", "2001:db8::1", "2001:db8:aa::1", 0, "/32"},
		{"host pair gone", "ff3e::1", "2001:db8::1", 0, "default"},
		{"zoned route gone, the unzoned default remains", "fe80::1", "::", 2, "default"},
	})
	if tb.Delete(netip.Prefix{}, tblPfx("::/0"), 0) {
		t.Errorf("Delete(invalid prefix) = true, want false")
	}
}

func TestTableWalkAndLen(t *testing.T) {
	tb := NewTable()
	want := map[string]bool{}
	var rs []Route
	for i := range 40 {
		rs = append(rs,
			uni(fmt.Sprintf("2001:db8:%x::/48", i), "::/0", 0, 1, ""),
			mcast(fmt.Sprintf("ff3e::%x/128", i), fmt.Sprintf("2001:db8::%x/128", i), 1, 2),
			mcast("ff3e::ffff/128", fmt.Sprintf("2001:db8:%x::/48", i), 1, 2), // a big subtree
		)
	}
	rs = append(rs, uni("fe80::/64", "::/0", 5, 5, ""))
	for _, r := range rs {
		want[(&r).String()] = true
	}
	mustInsert(t, tb, rs...)
	if got := tb.Len(); got != len(rs) {
		t.Errorf("Len() = %d, want %d", got, len(rs))
	}
	got := map[string]bool{}
	tb.Walk(func(r *Route) bool {
		if got[r.String()] {
			t.Errorf("Walk yielded %v twice", r)
		}
		got[r.String()] = true
		return true
	})
	if len(got) != len(want) {
		t.Errorf("Walk yielded %d routes, want %d", len(got), len(want))
	}
	for s := range want {
		if !got[s] {
			t.Errorf("Walk missed %s", s)
		}
	}
	n := 0
	tb.Walk(func(*Route) bool { n++; return n < 5 })
	if n != 5 {
		t.Errorf("Walk after f returned false went on to %d calls, want 5", n)
	}
	// f may write to the table.
	tb.Walk(func(r *Route) bool { tb.Delete(r.Dst, r.Src, r.Zone); return true })
	if got := tb.Len(); got != 0 {
		t.Errorf("Len() after deleting everything in Walk = %d, want 0", got)
	}
}

func TestTableInvalidRoutes(t *testing.T) {
	good := uni("2001:db8::/32", "::/0", 0, 1, "")
	cases := []struct {
		name    string
		mod     func(*Route)
		wantErr string
	}{
		{"IPv4 destination", func(r *Route) { r.Dst = tblPfx("10.0.0.0/8") }, "not an IPv6 prefix"},
		{"IPv4-mapped destination", func(r *Route) { r.Dst = tblPfx("::ffff:10.0.0.0/104") }, "not an IPv6 prefix"},
		{"missing destination", func(r *Route) { r.Dst = netip.Prefix{} }, "not an IPv6 prefix"},
		{"missing source", func(r *Route) { r.Src = netip.Prefix{} }, "is not an IPv6 prefix"},
		{"IPv4 source", func(r *Route) { r.Src = tblPfx("10.0.0.0/8") }, "is not an IPv6 prefix"},
		{"destination host bits", func(r *Route) { r.Dst = tblPfx("2001:db8::1/32") }, "host bits set"},
		{"source host bits", func(r *Route) { r.Src = tblPfx("2001:db8::1/32") }, "host bits set"},
		{"zone on a global prefix", func(r *Route) { r.Zone = 3 }, "not link-scoped"},
		{"negative zone", func(r *Route) { r.Dst = tblPfx("fe80::/64"); r.Zone = -1 }, "negative zone"},
		{"unknown kind", func(r *Route) { r.Kind = 0 }, "unknown kind"},
		{"unsorted oifs", func(r *Route) { r.Kind = KindMulticast; r.OIFs = []int{3, 1} }, "not sorted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := NewTable()
			r := good
			c.mod(&r)
			err := tb.Insert(r)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Insert(%s) = %v, want error containing %q", c.name, err, c.wantErr)
			}
			if tb.Len() != 0 {
				t.Errorf("Len() after refused insert = %d, want 0", tb.Len())
			}
			err = tb.InsertBatch([]Route{good, r})
			if err == nil || !strings.Contains(err.Error(), "route 1 of 2") {
				t.Errorf("InsertBatch = %v, want an error naming route 1 of 2", err)
			}
			if tb.Len() != 0 {
				t.Errorf("Len() after refused batch = %d, want 0", tb.Len())
			}
		})
	}
	t.Run("invalid lookups find nothing", func(t *testing.T) {
		tb := NewTable()
		mustInsert(t, tb, uni("::/0", "::/0", 0, 1, "default"))
		for _, c := range [][2]netip.Addr{
			{tblAddr("10.0.0.1"), tblAddr("::")},
			{{}, tblAddr("::")},
			{tblAddr("2001:db8::1"), {}},
		} {
			if r, ok := tb.Lookup(c[0], c[1], 0); ok {
				t.Errorf("Lookup(%v, %v) = %v, want none", c[0], c[1], r)
			}
		}
	})
}

// A subtree with many sources moves them into a trie of their own; matching
// must not change when it does, nor when it shrinks again.
func TestTableBigSubtree(t *testing.T) {
	tb := NewTable()
	ref := newRefTable()
	add := func(r Route) {
		mustInsert(t, tb, r)
		got, _ := tb.Get(r.Dst, r.Src, r.Zone)
		ref.insert(got)
	}
	add(mcast("ff3e::1/128", "::/0", 1, 2))
	for i := range 3 * subtreeListMax {
		add(mcast("ff3e::1/128", fmt.Sprintf("2001:db8:%x::/%d", i, 48+i%16), 1, 2))
	}
	check := func(when string) {
		for i := range 3*subtreeListMax + 4 {
			src := tblAddr(fmt.Sprintf("2001:db8:%x::1", i))
			r, _ := tb.Lookup(tblAddr("ff3e::1"), src, 0)
			if want := ref.lookup(tblAddr("ff3e::1"), src, 0); r != want {
				t.Errorf("%s: Lookup(ff3e::1, %v) = %v, want %v", when, src, r, want)
			}
		}
	}
	check("grown")
	for i := range 3*subtreeListMax - 2 {
		k := RouteKey{tblPfx("ff3e::1/128"), tblPfx(fmt.Sprintf("2001:db8:%x::/%d", i, 48+i%16)), 0}
		if !tb.Delete(k.Dst, k.Src, 0) || !ref.delete(k) {
			t.Fatalf("Delete(%v) = false, want true", k)
		}
	}
	check("shrunk")
	if got, want := tb.Len(), len(ref.routes); got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
}

// The host-pair index grows, drops dead slots and keeps every live entry
// through heavy churn.
func TestTableHostIndexChurn(t *testing.T) {
	tb := NewTable()
	live := map[int]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func(i int) (netip.Prefix, netip.Prefix) {
		return netip.PrefixFrom(tblAddr(fmt.Sprintf("ff3e::%x", i%97)), 128),
			netip.PrefixFrom(tblAddr(fmt.Sprintf("2001:db8::%x", i)), 128)
	}
	for range 20000 {
		i := rng.IntN(3000)
		g, s := key(i)
		if live[i] {
			if !tb.Delete(g, s, 0) {
				t.Fatalf("Delete(%v, %v) = false, want true", g, s)
			}
			delete(live, i)
		} else {
			mustInsert(t, tb, Route{Dst: g, Src: s, Kind: KindMulticast})
			live[i] = true
		}
	}
	if tb.Len() != len(live) {
		t.Errorf("Len() = %d, want %d", tb.Len(), len(live))
	}
	for i := range 3000 {
		g, s := key(i)
		_, ok := tb.Get(g, s, 0)
		if ok != live[i] {
			t.Errorf("Get(%v, %v) found = %v, want %v", g, s, ok, live[i])
		}
	}
}

func TestTableBatch(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb, uni("::/0", "::/0", 0, 1, "default"))
	var rs []Route
	var keys []RouteKey
	for i := range 500 {
		r := uni(fmt.Sprintf("2001:db8:%x::/48", i), "::/0", 0, 2, fmt.Sprintf("r%d", i))
		sg := mcast(fmt.Sprintf("ff3e::%x/128", i), "2001:db8::1/128", 1, 2)
		rs = append(rs, r, sg)
		keys = append(keys, RouteKey{r.Dst, r.Src, 0}, RouteKey{sg.Dst, sg.Src, 0})
	}
	rs = append(rs, uni("fe80::/64", "::/0", 3, 3, "zoned"))
	if err := tb.InsertBatch(rs); err != nil {
		t.Fatalf("InsertBatch = %v", err)
	}
	if got, want := tb.Len(), len(rs)+1; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	runLookups(t, tb, []lookupCase{
		{"batch unicast", "2001:db8:1f3::1", "::", 0, "r499"},
		{"batch zoned", "fe80::1", "::", 3, "zoned"},
		{"earlier route kept", "2001:db9::1", "::", 0, "default"},
	})
	// A second, small batch goes the persistent way and replaces routes.
	r := uni("2001:db8:1f3::/48", "::/0", 0, 2, "r499 again")
	if err := tb.InsertBatch([]Route{r}); err != nil {
		t.Fatalf("InsertBatch = %v", err)
	}
	runLookups(t, tb, []lookupCase{{"replaced in batch", "2001:db8:1f3::1", "::", 0, "r499 again"}})
	keys = append(keys, RouteKey{tblPfx("2001:db8:ffff::/48"), tblPfx("::/0"), 0})
	if got, want := tb.DeleteBatch(keys), 1000; got != want {
		t.Errorf("DeleteBatch = %d, want %d", got, want)
	}
	if got := tb.Len(); got != 2 {
		t.Errorf("Len() after DeleteBatch = %d, want 2", got)
	}
}

func TestTableLookupDoesNotAllocate(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		uni("::/0", "::/0", 0, 1, "default"),
		uni("2001:db8::/32", "2001:db8:aa::/48", 0, 1, "src"),
		uni("fe80::/64", "::/0", 2, 2, "zoned"),
		mcast("ff3e::/32", "::/0", 0),
		mcast("ff3e::1/128", "2001:db8::1/128", 1, 2),
	)
	for _, c := range []lookupCase{
		{"(S,G) hit", "ff3e::1", "2001:db8::1", 0, ""},
		{"(S,G) miss", "ff3e::2", "2001:db8::1", 0, ""},
		{"backtracking", "2001:db8::1", "2001:db8:bb::1", 0, ""},
		{"zoned", "fe80::1", "::", 2, ""},
	} {
		dst, src := tblAddr(c.dst), tblAddr(c.src)
		if n := testing.AllocsPerRun(100, func() { tb.Lookup(dst, src, c.zone) }); n != 0 {
			t.Errorf("%s: Lookup allocates %v times, want 0", c.name, n)
		}
	}
}

// randomRoute draws from a small address space so that prefixes overlap and
// host pairs collide with prefix routes often.
func randomRoute(rng *rand.Rand) Route {
	addr := func() netip.Addr {
		var b [16]byte
		switch rng.IntN(4) {
		case 0:
			b[0], b[1] = 0xfe, 0x80
		case 1:
			b[0], b[1] = 0xff, byte(0x02+0x10*rng.IntN(4)) // link scope
		case 2:
			b[0], b[1] = 0xff, 0x3e
		default:
			b[0], b[1] = 0x20, 0x01
		}
		b[2] = byte(rng.IntN(2))
		b[7] = byte(rng.IntN(3))
		b[15] = byte(rng.IntN(3))
		return netip.AddrFrom16(b)
	}
	bitsOf := func() int {
		return []int{0, 8, 10, 16, 17, 24, 56, 64, 120, 127, 128, 128, 128}[rng.IntN(13)]
	}
	dst, _ := addr().Prefix(bitsOf())
	src, _ := addr().Prefix(bitsOf())
	zone := 0
	if scoped(dst) && rng.IntN(3) != 0 {
		zone = 1 + rng.IntN(2)
	}
	return Route{Dst: dst, Src: src, Zone: zone, Kind: KindMulticast}
}

func TestTableMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 20 {
		tb, ref := NewTable(), newRefTable()
		var keys []RouteKey
		for op := range 600 {
			if op%50 == 25 {
				// Batches: while the table is small they go the private-copy way.
				var batch []Route
				for range 1 + rng.IntN(30) {
					batch = append(batch, randomRoute(rng))
				}
				if err := tb.InsertBatch(batch); err != nil {
					t.Fatalf("InsertBatch = %v", err)
				}
				for _, r := range batch {
					got, _ := tb.Get(r.Dst, r.Src, r.Zone)
					ref.insert(got)
					keys = append(keys, RouteKey{r.Dst, r.Src, r.Zone})
				}
				var del []RouteKey
				want := 0
				for range rng.IntN(20) {
					k := keys[rng.IntN(len(keys))]
					if !slices.Contains(del, k) {
						del = append(del, k)
						if ref.delete(k) {
							want++
						}
					}
				}
				if got := tb.DeleteBatch(del); got != want {
					t.Fatalf("round %d op %d: DeleteBatch = %d, want %d", round, op, got, want)
				}
				continue
			}
			if len(keys) > 0 && rng.IntN(4) == 0 {
				i := rng.IntN(len(keys))
				k := keys[i]
				if got, want := tb.Delete(k.Dst, k.Src, k.Zone), ref.delete(k); got != want {
					t.Fatalf("round %d op %d: Delete(%v) = %v, want %v", round, op, k, got, want)
				}
				continue
			}
			r := randomRoute(rng)
			if op%3 == 1 {
				// InsertUnless, keeping the route it finds half the time.
				before, had := tb.Get(r.Dst, r.Src, r.Zone)
				keepIt := rng.IntN(2) == 0
				inserted, err := tb.InsertUnless(r, func(old *Route) bool {
					if old != before {
						t.Fatalf("round %d op %d: keep saw %v, want the table's %v", round, op, old, before)
					}
					return keepIt
				})
				if err != nil {
					t.Fatalf("InsertUnless(%v) = %v", &r, err)
				}
				if want := !had || !keepIt; inserted != want {
					t.Fatalf("round %d op %d: InsertUnless inserted = %v, want %v", round, op, inserted, want)
				}
			} else {
				mustInsert(t, tb, r)
			}
			got, _ := tb.Get(r.Dst, r.Src, r.Zone)
			ref.insert(got)
			keys = append(keys, RouteKey{r.Dst, r.Src, r.Zone})
			if op%20 != 0 {
				continue
			}
			for range 200 {
				probe := randomRoute(rng)
				dst, src, zone := probe.Dst.Addr(), probe.Src.Addr(), rng.IntN(3)
				gotR, _ := tb.Lookup(dst, src, zone)
				if want := ref.lookup(dst, src, zone); gotR != want {
					t.Fatalf("round %d op %d: Lookup(%v, %v, %d) = %v, want %v", round, op, dst, src, zone, gotR, want)
				}
			}
		}
		if tb.Len() != len(ref.routes) {
			t.Fatalf("round %d: Len() = %d, want %d", round, tb.Len(), len(ref.routes))
		}
	}
}

// Readers loop on Lookup while a writer inserts, replaces and deletes; run
// with -race. Routes the writer never touches must always be found, and a
// churned key must yield either its own route or the fallback under it.
func TestTableConcurrentReadersAndWriter(t *testing.T) {
	tb := NewTable()
	mustInsert(t, tb,
		mcast("ff3e::/32", "::/0", 0),
		uni("2001:db8::/32", "::/0", 0, 1, "stable unicast"),
		mcast("ff3e::ffff/128", "2001:db8::ffff/128", 1, 2),
	)
	stableSG, _ := tb.Get(tblPfx("ff3e::ffff/128"), tblPfx("2001:db8::ffff/128"), 0)

	const churn = 256
	group := func(i int) netip.Addr { return tblAddr(fmt.Sprintf("ff3e::%x", i)) }
	source := tblAddr("2001:db8::1")

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if r, ok := tb.Lookup(tblAddr("ff3e::ffff"), tblAddr("2001:db8::ffff"), 0); !ok || r != stableSG {
					errs <- fmt.Sprintf("stable (S,G) lookup = %v, want %v", r, stableSG)
					return
				}
				if r, ok := tb.RPF(tblAddr("2001:db8:ffff::77"), 0); !ok || r.Protocol != "stable unicast" {
					errs <- fmt.Sprintf("stable RPF = %v", r)
					return
				}
				g := group(i % churn)
				r, ok := tb.Lookup(g, source, 0)
				if !ok {
					errs <- fmt.Sprintf("Lookup(%v) found nothing, want a route or the SSM fallback", g)
					return
				}
				if r.Dst.Bits() == 128 && r.Dst.Addr() != g {
					errs <- fmt.Sprintf("Lookup(%v) = %v: another group's route", g, r)
					return
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 20000 {
		i := rng.IntN(churn)
		g := netip.PrefixFrom(group(i), 128)
		switch rng.IntN(4) {
		case 0:
			tb.Delete(g, netip.PrefixFrom(source, 128), 0)
		case 1:
			tb.Delete(g, tblPfx("::/0"), 0)
		case 2:
			mustInsert(t, tb, Route{Dst: g, Src: netip.PrefixFrom(source, 128), Kind: KindMulticast, IIF: n})
		default:
			mustInsert(t, tb, Route{Dst: g, Src: tblPfx("::/0"), Kind: KindMulticast, IIF: n})
		}
		if n%5000 == 0 {
			var batch []Route
			for j := range 64 {
				batch = append(batch, uni(fmt.Sprintf("2001:db8:%x::/48", n+j), "::/0", 0, 2, ""))
			}
			if err := tb.InsertBatch(batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

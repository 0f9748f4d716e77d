package rp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var p = netip.MustParsePrefix

func mustAdd(t *testing.T, tb *Table, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := tb.Add(e); err != nil {
			t.Fatalf("Add(%+v): %v", e, err)
		}
	}
}

// TestLookup follows RFC 7761 §4.7.1's group-to-RP mapping steps.
func TestLookup(t *testing.T) {
	rp1, rp2, rp3 := a("2001:db8:ff::1"), a("2001:db8:ff::2"), a("2001:db8:ff::3")
	tests := []struct {
		name    string
		entries []Entry
		group   string
		want    netip.Addr
		wantOK  bool
	}{
		{"no mapping", nil, "ff1e::1", netip.Addr{}, false},
		{"range does not cover the group", []Entry{{Group: p("ff0e::/16"), RP: rp1}}, "ff1e::1", netip.Addr{}, false},
		{"single static RP", []Entry{{Group: p("ff00::/8"), RP: rp1}}, "ff1e::1", rp1, true},
		{"step 1: longest group range wins over priority",
			[]Entry{{Group: p("ff00::/8"), RP: rp1, Priority: 0}, {Group: p("ff1e::/16"), RP: rp2, Priority: 200}},
			"ff1e::1", rp2, true},
		{"step 2: lower priority value wins",
			[]Entry{{Group: p("ff00::/8"), RP: rp1, Priority: 10}, {Group: p("ff00::/8"), RP: rp3, Priority: 5}},
			"ff1e::c", rp3, true},
		// Hash values (see TestHash and the Python check): for ff1e::c with
		// mask 126, rp1 = 2135690421, rp2 = 1151268860, rp3 = 47753615.
		{"step 4: same priority, highest hash wins",
			[]Entry{{Group: p("ff00::/8"), RP: rp3}, {Group: p("ff00::/8"), RP: rp1}, {Group: p("ff00::/8"), RP: rp2}},
			"ff1e::c", rp1, true},
		// For ff1e::0: rp3 = 1983642771 > rp1 = 1924095929 > rp2.
		{"step 4: the hash spreads groups over RPs",
			[]Entry{{Group: p("ff00::/8"), RP: rp1}, {Group: p("ff00::/8"), RP: rp2}, {Group: p("ff00::/8"), RP: rp3}},
			"ff1e::0", rp3, true},
		// Same 32-bit digest (the XOR of the words is equal), so the same
		// hash: the highest address wins.
		{"step 4: hash tie, highest address wins",
			[]Entry{{Group: p("ff00::/8"), RP: a("2001:db8::1:0:0")}, {Group: p("ff00::/8"), RP: a("2001:db8:0:1::")}},
			"ff1e::1", a("2001:db8:0:1::"), true},
		{"embedded RP beats a static ff00::/8 mapping",
			[]Entry{{Group: p("ff00::/8"), RP: rp1}},
			"ff7e:740:2001:db8:beef:feed::1234", a("2001:db8:beef:feed::7"), true},
		{"invalid embedded group falls back to the static mapping",
			[]Entry{{Group: p("ff00::/8"), RP: rp1}},
			"ff7e:40:2001:db8:beef:feed::1234", rp1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable()
			mustAdd(t, tb, tt.entries...)
			got, ok := tb.Lookup(a(tt.group))
			if ok != tt.wantOK || got.RP != tt.want {
				t.Errorf("Lookup(%s) = %v, %v; want %v, %v", tt.group, got.RP, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestHashTieFixture(t *testing.T) {
	// The "hash tie" case above only tests the tie-break if the hashes tie.
	x, y := a("2001:db8::1:0:0"), a("2001:db8:0:1::")
	if hx, hy := Hash(a("ff1e::1"), DefaultHashMaskLen, x), Hash(a("ff1e::1"), DefaultHashMaskLen, y); hx != hy {
		t.Fatalf("fixture broken: Hash(%v) = %d, Hash(%v) = %d, want equal", x, hx, y, hy)
	}
}

func TestLookupEmbeddedOff(t *testing.T) {
	tb := NewTable()
	tb.Embedded = false
	if e, ok := tb.Lookup(a("ff7e:740:2001:db8:beef:feed::1234")); ok {
		t.Errorf("Lookup with Embedded-RP off = %+v, want no RP", e)
	}
}

func TestLookupOrderIndependent(t *testing.T) {
	// The choice must not depend on insertion order, or routers holding the
	// same RP-set would disagree (RFC 7761 §4.7: "every PIM router ... must
	// be able to map a particular multicast group address to the same RP").
	es := []Entry{
		{Group: p("ff00::/8"), RP: a("2001:db8:ff::1"), Priority: 1},
		{Group: p("ff00::/8"), RP: a("2001:db8:ff::2"), Priority: 1},
		{Group: p("ff00::/8"), RP: a("2001:db8:ff::3"), Priority: 1},
		{Group: p("ff00::/8"), RP: a("2001:db8:ff::4"), Priority: 2},
	}
	fwd, rev := NewTable(), NewTable()
	mustAdd(t, fwd, es...)
	for i := len(es) - 1; i >= 0; i-- {
		mustAdd(t, rev, es[i])
	}
	for i := range 64 {
		g := a("ff1e::").As16()
		g[15] = byte(i)
		ga := netip.AddrFrom16(g)
		x, _ := fwd.Lookup(ga)
		y, _ := rev.Lookup(ga)
		if x.RP != y.RP {
			t.Errorf("Lookup(%v) = %v in one order, %v in the other", ga, x.RP, y.RP)
		}
	}
}

func TestTableEdit(t *testing.T) {
	tb := NewTable()
	rp1 := a("2001:db8:ff::1")
	mustAdd(t, tb,
		Entry{Group: p("ff00::/8"), RP: rp1, Origin: OriginStatic},
		Entry{Group: p("ff1e::/16"), RP: a("2001:db8:ff::2"), Origin: OriginBSR},
	)
	// Add with the same key updates the priority.
	mustAdd(t, tb, Entry{Group: p("ff00::/8"), RP: rp1, Priority: 9, Origin: OriginStatic})
	// A new BSR RP-set replaces the old one and keeps static entries.
	if err := tb.ReplaceOrigin(OriginBSR, []Entry{{Group: p("ff0e::/16"), RP: a("2001:db8:ff::3"), Priority: 192}}); err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Group: p("ff00::/8"), RP: rp1, Priority: 9, Origin: OriginStatic},
		{Group: p("ff0e::/16"), RP: a("2001:db8:ff::3"), Priority: 192, Origin: OriginBSR},
	}
	if diff := cmp.Diff(want, tb.Entries(), cmp.Comparer(func(x, y netip.Prefix) bool { return x == y }), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
	if !tb.Remove(p("ff00::/8"), rp1, OriginStatic) || tb.Remove(p("ff00::/8"), rp1, OriginStatic) {
		t.Errorf("Remove: want true then false")
	}
	if got := len(tb.Entries()); got != 1 {
		t.Errorf("len(Entries) after Remove = %d, want 1", got)
	}
}

func TestAddRejects(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
	}{
		{"unicast group range", Entry{Group: p("2001:db8::/32"), RP: a("2001:db8::1")}},
		{"group range shorter than ff00::/8", Entry{Group: p("fe00::/7"), RP: a("2001:db8::1")}},
		{"multicast RP", Entry{Group: p("ff00::/8"), RP: a("ff0e::1")}},
		{"link-local RP", Entry{Group: p("ff00::/8"), RP: a("fe80::1")}},
		{"IPv4 RP", Entry{Group: p("ff00::/8"), RP: a("192.0.2.1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := NewTable().Add(tt.e); err == nil {
				t.Errorf("Add(%+v) = nil, want an error", tt.e)
			}
		})
	}
	tb := NewTable()
	mustAdd(t, tb, Entry{Group: p("ff00::/8"), RP: a("2001:db8::1"), Origin: OriginBSR})
	if err := tb.ReplaceOrigin(OriginBSR, []Entry{{Group: p("ff00::/8"), RP: a("fe80::1")}}); err == nil {
		t.Errorf("ReplaceOrigin with a bad entry = nil, want an error")
	}
	if got := len(tb.Entries()); got != 1 {
		t.Errorf("ReplaceOrigin with a bad entry changed the table: %d entries, want 1", got)
	}
}

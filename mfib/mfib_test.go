package mfib

import (
	"net/netip"
	"testing"

	"github.com/pim6d/pim6d/stack"
)

var (
	src   = netip.MustParseAddr("2001:db8:1::10")
	other = netip.MustParseAddr("2001:db8:1::20")
	ssmG  = netip.MustParseAddr("ff3e::4321:1234")
	asmG  = netip.MustParseAddr("ff1e::1")
)

func lookup(t *testing.T, tb *stack.Table, s, g netip.Addr) *stack.Route {
	t.Helper()
	r, ok := tb.Lookup(g, s, 0)
	if !ok {
		t.Fatalf("Lookup(%v, %v) found nothing", g, s)
	}
	return r
}

func TestBaseRoutes(t *testing.T) {
	tb := stack.NewTable()
	if _, err := New(tb, DefaultSSMRanges()); err != nil {
		t.Fatal(err)
	}
	// RFC 4607 §1: without (S,G) state an SSM packet is dropped, never signalled.
	if r := lookup(t, tb, src, ssmG); r.Kind != stack.KindDrop {
		t.Errorf("SSM group without state: kind %v, want drop", r.Kind)
	}
	if r := lookup(t, tb, src, netip.MustParseAddr("ff35::1")); r.Kind != stack.KindDrop {
		t.Errorf("ff35::1 (SSM, site scope): kind %v, want drop", r.Kind)
	}
	// ASM without state: the first packet of a source is signalled (Register).
	if r := lookup(t, tb, src, asmG); r.Kind != stack.KindSignal {
		t.Errorf("ASM group without state: kind %v, want signal", r.Kind)
	}
}

func TestSGEntryOverridesSSMDropAndIsSourceSpecific(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges())
	if err := m.Set(Entry{Source: src, Group: ssmG, IIF: 1, OIFs: []int{3, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	r := lookup(t, tb, src, ssmG)
	if r.Kind != stack.KindMulticast || r.IIF != 1 || len(r.OIFs) != 2 || r.OIFs[0] != 2 || r.OIFs[1] != 3 {
		t.Errorf("(S,G) route = %v, want multicast iif 1 oifs [2 3]", r)
	}
	if r := lookup(t, tb, other, ssmG); r.Kind != stack.KindDrop {
		t.Errorf("other source for the same SSM group: kind %v, want drop", r.Kind)
	}
	// Counters survive an oif change (the route is replaced, not recreated).
	r.Stats.Count(100, 1)
	m.Set(Entry{Source: src, Group: ssmG, IIF: 1, OIFs: []int{2}})
	if r2 := lookup(t, tb, src, ssmG); r2.Stats.Packets.Load() != 1 || len(r2.OIFs) != 1 {
		t.Errorf("after update: packets %d oifs %v, want 1 and [2]", r2.Stats.Packets.Load(), r2.OIFs)
	}
	m.Delete(Key{src, ssmG})
	if r := lookup(t, tb, src, ssmG); r.Kind != stack.KindDrop {
		t.Errorf("after delete: kind %v, want drop", r.Kind)
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d after delete", m.Len())
	}
}

func TestWildcardEntryServesEverySourceButSGWins(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges())
	m.Set(Entry{Group: asmG, IIF: 4, OIFs: []int{5}})
	m.Set(Entry{Source: src, Group: asmG, IIF: 1, OIFs: []int{5, 6}})
	if r := lookup(t, tb, other, asmG); r.IIF != 4 {
		t.Errorf("(*,G) for another source: iif %d, want 4", r.IIF)
	}
	if r := lookup(t, tb, src, asmG); r.IIF != 1 {
		t.Errorf("(S,G) for its source: iif %d, want 1", r.IIF)
	}
	m.Close()
	if tb.Len() != 0 {
		t.Errorf("table has %d routes after Close, want 0", tb.Len())
	}
}

func TestSetRefusesNonMulticastGroup(t *testing.T) {
	m, _ := New(stack.NewTable(), nil)
	if err := m.Set(Entry{Source: src, Group: other}); err == nil {
		t.Error("Set accepted a unicast group")
	}
}

// The MFIB keeps no key map of its own: what it owns is told by the route's
// Protocol. An operator's static route for the same (S,G) is not the MFIB's
// to delete or count, and the caller's OIF slice is never kept by the table.
func TestOwnershipComesFromTheRoutesProtocol(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges())
	static := stack.Route{Dst: netip.PrefixFrom(ssmG, 128), Src: netip.PrefixFrom(other, 128),
		Kind: stack.KindMulticast, Protocol: "static", IIF: 1, OIFs: []int{4}}
	if err := tb.Insert(static); err != nil {
		t.Fatal(err)
	}
	m.Delete(Key{other, ssmG})
	if r := lookup(t, tb, other, ssmG); r.Protocol != "static" {
		t.Errorf("MFIB.Delete removed a static route: lookup now gives %v", r)
	}
	if _, _, ok := m.Get(Key{other, ssmG}); ok || m.Len() != 0 {
		t.Errorf("MFIB claims the static route: Get ok=%v Len=%d", ok, m.Len())
	}
	oifs := []int{2, 3}
	if err := m.Set(Entry{Source: src, Group: ssmG, IIF: 1, OIFs: oifs}); err != nil {
		t.Fatal(err)
	}
	oifs[0] = 9
	if e, _, ok := m.Get(Key{src, ssmG}); !ok || e.OIFs[0] != 2 || m.Len() != 1 {
		t.Errorf("after the caller changed its slice: entry %v ok=%v Len=%d, want oifs [2 3], Len 1", e, ok, m.Len())
	}
	if ks := m.Keys(); len(ks) != 1 || ks[0] != (Key{src, ssmG}) {
		t.Errorf("Keys = %v, want only (%v,%v)", ks, src, ssmG)
	}
	m.Close()
	if r := lookup(t, tb, other, ssmG); r.Protocol != "static" {
		t.Errorf("Close removed a static route: lookup now gives %v", r)
	}
}

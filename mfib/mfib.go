package mfib

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/pim6d/pim6d/stack"
)

// Protocol marks the routes mfib owns in the table.
const Protocol = "pim6d"

// Entry is one forwarding entry: (S,G) when Source is valid and not ::,
// (*,G) otherwise.
type Entry struct {
	Source netip.Addr
	Group  netip.Addr
	IIF    int   // link index packets must arrive on; 0 = none (accept nothing)
	OIFs   []int // link indexes to copy to
	Flags  stack.RouteFlags
}

// Key identifies an entry.
type Key struct{ Source, Group netip.Addr }

// Wildcard reports whether the key is a (*,G) entry.
func (k Key) Wildcard() bool { return !k.Source.IsValid() || k.Source.IsUnspecified() }

func (k Key) String() string {
	if k.Wildcard() {
		return fmt.Sprintf("(*,%s)", k.Group)
	}
	return fmt.Sprintf("(%s,%s)", k.Source, k.Group)
}

// MFIB keeps the table's multicast routes equal to the entries it is given.
// It is used from the event loop only. The table's routes are the only copy
// of an entry's forwarding state; the MFIB remembers just which keys it owns.
type MFIB struct {
	table   *stack.Table
	entries map[Key]struct{}
	base    []stack.Route
}

// DefaultSSMRanges are the RFC 4607 §1 SSM ranges ff3x::/32, one per scope.
func DefaultSSMRanges() []netip.Prefix {
	var ps []netip.Prefix
	for scope := range 16 {
		var b [16]byte
		b[0], b[1] = 0xff, 0x30|byte(scope)
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom16(b), 32))
	}
	return ps
}

// New installs the base routes (ff00::/8 signals, the SSM ranges drop) and
// returns an MFIB with no entries.
func New(t *stack.Table, ssmRanges []netip.Prefix) (*MFIB, error) {
	m := &MFIB{table: t, entries: map[Key]struct{}{}}
	anySrc := netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	m.base = append(m.base, stack.Route{Dst: netip.MustParsePrefix("ff00::/8"), Src: anySrc, Kind: stack.KindSignal, Protocol: Protocol})
	for _, p := range ssmRanges {
		m.base = append(m.base, stack.Route{Dst: p.Masked(), Src: anySrc, Kind: stack.KindDrop, Protocol: Protocol})
	}
	for _, r := range m.base {
		if err := t.Insert(r); err != nil {
			return nil, fmt.Errorf("mfib: base route %v: %w", r.Dst, err)
		}
	}
	return m, nil
}

func routeKey(k Key) (dst, src netip.Prefix) {
	dst = netip.PrefixFrom(k.Group, 128)
	if k.Wildcard() {
		return dst, netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return dst, netip.PrefixFrom(k.Source, 128)
}

// Set installs or updates an entry. An unchanged entry does not touch the table.
func (m *MFIB) Set(e Entry) error {
	if !e.Group.Is6() || !e.Group.IsMulticast() {
		return fmt.Errorf("mfib: group %v is not an IPv6 multicast address", e.Group)
	}
	e.Group = e.Group.WithZone("")
	if e.Source.IsValid() {
		e.Source = e.Source.WithZone("")
	} else {
		e.Source = netip.IPv6Unspecified()
	}
	e.OIFs = slices.Clone(e.OIFs)
	slices.Sort(e.OIFs)
	e.OIFs = slices.Compact(e.OIFs)
	k := Key{e.Source, e.Group}
	dst, src := routeKey(k)
	if _, ok := m.entries[k]; ok {
		if old, ok := m.table.Get(dst, src, 0); ok && old.IIF == e.IIF && old.Flags == e.Flags && slices.Equal(old.OIFs, e.OIFs) {
			return nil
		}
	}
	r := stack.Route{Dst: dst, Src: src, Kind: stack.KindMulticast, Protocol: Protocol, IIF: e.IIF, OIFs: e.OIFs, Flags: e.Flags}
	if err := m.table.Insert(r); err != nil {
		return fmt.Errorf("mfib: %v: %w", k, err)
	}
	m.entries[k] = struct{}{}
	return nil
}

// Delete removes an entry; packets then fall back to the base routes.
func (m *MFIB) Delete(k Key) {
	if _, ok := m.entries[k]; !ok {
		return
	}
	delete(m.entries, k)
	dst, src := routeKey(k)
	m.table.Delete(dst, src, 0)
}

// Get returns an entry, as installed in the table, and its route counters.
func (m *MFIB) Get(k Key) (Entry, *stack.RouteStats, bool) {
	if _, ok := m.entries[k]; !ok {
		return Entry{}, nil, false
	}
	dst, src := routeKey(k)
	r, ok := m.table.Get(dst, src, 0)
	if !ok {
		return Entry{}, nil, false
	}
	return Entry{Source: k.Source, Group: k.Group, IIF: r.IIF, OIFs: r.OIFs, Flags: r.Flags}, r.Stats, true
}

// Len returns the number of entries.
func (m *MFIB) Len() int { return len(m.entries) }

// Keys returns the entries' keys.
func (m *MFIB) Keys() []Key {
	ks := make([]Key, 0, len(m.entries))
	for k := range m.entries {
		ks = append(ks, k)
	}
	return ks
}

// Close removes every route mfib installed.
func (m *MFIB) Close() {
	for k := range m.entries {
		m.Delete(k)
	}
	for _, r := range m.base {
		m.table.Delete(r.Dst, r.Src, r.Zone)
	}
}

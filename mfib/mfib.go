package mfib

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"

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
// of an entry: the MFIB keeps no map of its own (at 100,000 entries a key map
// would cost more memory and time than the table's host index itself); a
// route is the MFIB's when its Protocol is Protocol.
//
// By default Set and Delete write the table before they return. With
// WithWriter they check the entry, queue the write and return; Commit hands
// what was queued to a goroutine of the MFIB's own, which writes the table in
// the same order (see writer.go).
type MFIB struct {
	table *stack.Table
	n     atomic.Int64 // entries installed (written by whoever writes the table)
	base  []stack.Route
	w     *writer // nil: Set and Delete write the table themselves
}

// Option changes how New builds an MFIB.
type Option func(*MFIB)

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
func New(t *stack.Table, ssmRanges []netip.Prefix, opts ...Option) (*MFIB, error) {
	m := &MFIB{table: t}
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
	for _, o := range opts {
		o(m)
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

// Set installs or updates an entry. An unchanged entry does not touch the
// table. A bad entry is refused with an error here, also with a writer: what
// the writer is given cannot fail.
func (m *MFIB) Set(e Entry) error {
	if !e.Group.Is6() || !e.Group.IsMulticast() {
		return fmt.Errorf("mfib: group %v is not an IPv6 multicast address", e.Group)
	}
	if e.Source.IsValid() && !e.Source.Is6() {
		return fmt.Errorf("mfib: source %v is not an IPv6 address", e.Source)
	}
	e.Group = e.Group.WithZone("")
	if e.Source.IsValid() {
		e.Source = e.Source.WithZone("")
	} else {
		e.Source = netip.IPv6Unspecified()
	}
	if !strictlyIncreasing(e.OIFs) {
		e.OIFs = slices.Compact(slices.Sorted(slices.Values(e.OIFs)))
	}
	if m.w != nil {
		m.w.set(e)
		return nil
	}
	if err := m.write(e); err != nil {
		return fmt.Errorf("mfib: %v: %w", Key{e.Source, e.Group}, err)
	}
	return nil
}

// write puts a checked entry into the table.
func (m *MFIB) write(e Entry) error {
	dst, src := routeKey(Key{e.Source, e.Group})
	// The table copies OIFs: e's slice stays the caller's.
	r := stack.Route{Dst: dst, Src: src, Kind: stack.KindMulticast, Protocol: Protocol, IIF: e.IIF, OIFs: e.OIFs, Flags: e.Flags}
	ours := false
	_, err := m.table.InsertUnless(r, func(old *stack.Route) bool {
		ours = isOurs(old)
		return ours && old.IIF == e.IIF && old.Flags == e.Flags && slices.Equal(old.OIFs, e.OIFs)
	})
	if err != nil {
		return err
	}
	if !ours {
		m.n.Add(1)
	}
	return nil
}

// isOurs reports whether a table route is an MFIB entry.
func isOurs(r *stack.Route) bool {
	return r.Protocol == Protocol && r.Kind == stack.KindMulticast
}

// get returns the table's route for a key and whether it is an MFIB entry.
func (m *MFIB) get(dst, src netip.Prefix) (*stack.Route, bool) {
	return lookupRoute(m.table, dst, src)
}

func lookupRoute(t *stack.Table, dst, src netip.Prefix) (*stack.Route, bool) {
	r, ok := t.Get(dst, src, 0)
	if !ok || !isOurs(r) {
		return nil, false
	}
	return r, true
}

// Delete removes an entry; packets then fall back to the base routes.
func (m *MFIB) Delete(k Key) {
	if !k.Group.Is6() || !k.Group.IsMulticast() {
		return // Set installs no such entry
	}
	if m.w != nil {
		m.w.delete(k)
		return
	}
	m.remove(k)
}

func (m *MFIB) remove(k Key) {
	dst, src := routeKey(k)
	if _, ours := m.get(dst, src); !ours {
		return
	}
	if m.table.Delete(dst, src, 0) {
		m.n.Add(-1)
	}
}

// Get returns an entry, as installed in the table, and its route counters.
// With a writer, what was set but not yet written is not there: Sync first.
func (m *MFIB) Get(k Key) (Entry, *stack.RouteStats, bool) {
	dst, src := routeKey(k)
	r, ours := m.get(dst, src)
	if !ours {
		return Entry{}, nil, false
	}
	return Entry{Source: k.Source, Group: k.Group, IIF: r.IIF, OIFs: r.OIFs, Flags: r.Flags}, r.Stats, true
}

// Lookup returns the table's route of an MFIB entry, from any goroutine (the
// table's readers never wait), e.g. to read its counters off the event loop.
func Lookup(t *stack.Table, k Key) (*stack.Route, bool) {
	dst, src := routeKey(k)
	return lookupRoute(t, dst, src)
}

// Len returns the number of entries installed in the table, from any
// goroutine. With a writer, it counts what the writer has written so far.
func (m *MFIB) Len() int { return int(m.n.Load()) }

// Keys returns the entries' keys.
func (m *MFIB) Keys() []Key {
	ks := make([]Key, 0, m.Len())
	m.table.Walk(func(r *stack.Route) bool {
		if isOurs(r) && r.Dst.Bits() == 128 {
			k := Key{Source: r.Src.Addr(), Group: r.Dst.Addr()}
			ks = append(ks, k)
		}
		return true
	})
	return ks
}

// Close removes every route mfib installed; with a writer, once the writer
// has written all that was queued, and then the writer stops.
func (m *MFIB) Close() {
	if m.w != nil {
		m.w.stop()
		m.w = nil
	}
	for _, k := range m.Keys() {
		m.Delete(k)
	}
	for _, r := range m.base {
		m.table.Delete(r.Dst, r.Src, r.Zone)
	}
}

// strictlyIncreasing reports whether oifs is sorted without duplicates, as
// PIM hands them over: then they need no copy.
func strictlyIncreasing(oifs []int) bool {
	for i := 1; i < len(oifs); i++ {
		if oifs[i] <= oifs[i-1] {
			return false
		}
	}
	return true
}

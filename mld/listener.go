package mld

import (
	"net/netip"
	"slices"

	"github.com/pim6d/pim6d/stack"
)

// FilterMode is the filter mode of a multicast address record (RFC 3810 §7.2).
type FilterMode uint8

// Filter modes.
const (
	Include FilterMode = iota
	Exclude
)

func (m FilterMode) String() string {
	if m == Exclude {
		return "EXCLUDE"
	}
	return "INCLUDE"
}

// Listener is the forwarding state MLD asks for on one (interface, group), in
// the terms of RFC 3810 §6.3:
//
//   - Include, Sources non-empty: forward traffic from those sources only.
//   - Include, no Sources: no listener is left; forward nothing.
//   - Exclude: forward traffic from every source except Sources (the sources
//     whose timers are zero in EXCLUDE mode).
//
// A ListenerChange carries the whole new state, not a delta.
type Listener struct {
	LinkIndex int
	Group     netip.Addr
	Mode      FilterMode
	Sources   []netip.Addr // sorted
}

// ListenerChange is a Listener whose state just changed, with the state its
// group's previous change reported (Was; Mode INCLUDE and no sources when
// there was none), so that a consumer can compute the per-source difference
// without keeping a copy of every listener state. For one group the changes
// of successive flushes chain: each Was is the previous change's Listener.
type ListenerChange struct {
	Listener
	Was Listener
}

// Gone reports whether no listener for the group is left.
func (l Listener) Gone() bool { return l.Mode == Include && len(l.Sources) == 0 }

// AnySource reports (*,G) interest: local_receiver_include(*,G,I) of RFC 7761
// §4.1.6, true in EXCLUDE mode.
func (l Listener) AnySource() bool { return l.Mode == Exclude }

// IncludesSource is local_receiver_include(S,G,I) of RFC 7761 §4.1.6: an
// INCLUDE-mode listener asks for src.
func (l Listener) IncludesSource(src netip.Addr) bool {
	return l.Mode == Include && l.has(src)
}

// ExcludesSource is local_receiver_exclude(S,G,I) of RFC 7761 §4.1.6: an
// EXCLUDE-mode listener asks for every source but src.
func (l Listener) ExcludesSource(src netip.Addr) bool {
	return l.Mode == Exclude && l.has(src)
}

// Wants reports whether traffic from src to the group is to be forwarded onto
// the interface (RFC 3810 §6.3).
func (l Listener) Wants(src netip.Addr) bool {
	if l.Mode == Include {
		return l.has(src)
	}
	return !l.has(src)
}

func (l Listener) has(src netip.Addr) bool {
	_, ok := slices.BinarySearchFunc(l.Sources, src.WithZone(""), netip.Addr.Compare)
	return ok
}

// Output collects what one call into a Querier asks the caller to do. The
// caller owns it: the Querier only appends, so one Output can gather the
// results of several calls; Reset empties it for reuse.
type Output struct {
	// Packets are queries to send, checksummed, from the interface's
	// link-local address, hop limit 1, with a Router Alert option.
	Packets []stack.OutPacket
	// Changes are listener states that changed, in order; a later entry for
	// the same group supersedes an earlier one. Their source lists share
	// addrs: they stay valid until Reset.
	Changes []ListenerChange

	addrs []netip.Addr
}

// Reset empties o, keeping its capacity.
func (o *Output) Reset() {
	clear(o.Packets)
	clear(o.Changes)
	o.Packets = o.Packets[:0]
	o.Changes = o.Changes[:0]
	o.addrs = o.addrs[:0]
}

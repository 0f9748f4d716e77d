package stack

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// RouteKind says what the table does with a packet that matches a route.
type RouteKind uint8

const (
	// KindUnicast: forward to one of NextHops; used for RPF lookups.
	KindUnicast RouteKind = iota + 1
	// KindMulticast: accept on IIF, replicate to OIFs.
	KindMulticast
	// KindSignal: no forwarding state; tell the control plane (rate-limited) and drop.
	KindSignal
	// KindDrop: drop silently (for example the SSM range without an (S,G) entry).
	KindDrop
)

func (k RouteKind) String() string {
	switch k {
	case KindUnicast:
		return "unicast"
	case KindMulticast:
		return "multicast"
	case KindSignal:
		return "signal"
	case KindDrop:
		return "drop"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// NextHop is one way out for a unicast route. Gateway is invalid (zero) for a
// directly connected destination.
type NextHop struct {
	LinkIndex int
	Gateway   netip.Addr
}

// RouteFlags are bits on a multicast route. The low byte is the stack's own; the
// high byte belongs to the control plane (mfib), which the stack stores without
// reading.
type RouteFlags uint16

const (
	// FlagNotifyData asks the forwarder to send a SignalData (rate-limited) when it
	// forwards on this route, so the control plane can refresh a keepalive timer.
	FlagNotifyData RouteFlags = 1 << iota
	// FlagNotifyWrongIIF asks for a SignalWrongIIF when a packet matches this route
	// on another interface than IIF.
	FlagNotifyWrongIIF
)

// RouteStats are a route's counters, updated atomically by the forwarder. They
// survive a replacement of the route under the same key.
type RouteStats struct {
	Packets  atomic.Uint64
	Bytes    atomic.Uint64
	lastUsed atomic.Int64 // unix nanoseconds; 0 = never

	// When the forwarder last raised a data signal for this route (unix ns), so
	// signals are rate-limited per route without a shared lock.
	lastSignal atomic.Int64
}

// SignalDue reports whether a data signal may be sent for this route at now
// (unix ns), at most one per interval, and if so records that it was.
func (s *RouteStats) SignalDue(now int64, interval int64) bool {
	last := s.lastSignal.Load()
	if last != 0 && now-last < interval {
		return false
	}
	return s.lastSignal.CompareAndSwap(last, now)
}

// Count records one packet of n bytes used at now (unix nanoseconds).
func (s *RouteStats) Count(n int, now int64) {
	s.Packets.Add(1)
	s.Bytes.Add(uint64(n))
	s.lastUsed.Store(now)
}

// LastUsed returns when the route last forwarded a packet (zero time if never).
func (s *RouteStats) LastUsed() time.Time {
	n := s.lastUsed.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Route is one entry of the table, keyed by (Dst, Src, Zone). Routes handed out by
// the table are shared and must not be modified; to change one, Insert a copy.
type Route struct {
	Dst netip.Prefix // destination prefix; never carries a zone
	Src netip.Prefix // source prefix; ::/0 for "any source"
	// Zone is the link index that scopes Dst when Dst is a link-local unicast or a
	// link-scoped multicast prefix (KAME's embedded link id, seed 001); 0 otherwise.
	Zone int

	// Unicast.
	NextHops []NextHop
	Protocol string // who installed it: "kernel", "static", "pim", ...

	// Multicast.
	IIF  int   // link index packets must arrive on
	OIFs []int // link indexes to copy to, sorted

	Stats *RouteStats // set by the table; never nil for a route it returns

	// The small fields last, together: a route is 160 bytes, not 176 (one
	// per (S,G) in the table).
	Metric uint32 // unicast
	Flags  RouteFlags
	Kind   RouteKind
}

func (r *Route) String() string {
	s := fmt.Sprintf("%s from %s", r.Dst, r.Src)
	if r.Zone != 0 {
		s += fmt.Sprintf(" zone %d", r.Zone)
	}
	s += " " + r.Kind.String()
	switch r.Kind {
	case KindUnicast:
		for _, nh := range r.NextHops {
			if nh.Gateway.IsValid() {
				s += fmt.Sprintf(" via %s", nh.Gateway)
			}
			s += fmt.Sprintf(" dev %d", nh.LinkIndex)
		}
	case KindMulticast:
		s += fmt.Sprintf(" iif %d oifs %v", r.IIF, r.OIFs)
	}
	return s
}

// validate checks a route before it enters the table.
func (r *Route) validate() error {
	if !r.Dst.IsValid() || !r.Dst.Addr().Is6() || r.Dst.Addr().Is4In6() {
		return fmt.Errorf("route destination %v: not an IPv6 prefix", r.Dst)
	}
	if !r.Src.IsValid() || !r.Src.Addr().Is6() {
		return fmt.Errorf("route %v: source %v is not an IPv6 prefix", r.Dst, r.Src)
	}
	if r.Dst != r.Dst.Masked() || r.Src != r.Src.Masked() {
		return fmt.Errorf("route %v from %v: host bits set", r.Dst, r.Src)
	}
	if r.Zone != 0 && !scoped(r.Dst) {
		return fmt.Errorf("route %v: zone %d on a prefix that is not link-scoped", r.Dst, r.Zone)
	}
	switch r.Kind {
	case KindUnicast, KindSignal, KindDrop:
	case KindMulticast:
		if !slices.IsSorted(r.OIFs) {
			return fmt.Errorf("route %v from %v: oifs %v not sorted", r.Dst, r.Src, r.OIFs)
		}
	default:
		return fmt.Errorf("route %v from %v: unknown kind %d", r.Dst, r.Src, r.Kind)
	}
	return nil
}

// scoped reports whether addresses in p need a zone: link-local unicast
// (fe80::/10) and interface- or link-local multicast (ff01::/16, ff02::/16 and
// the other flag combinations of those scopes).
func scoped(p netip.Prefix) bool {
	return p.Bits() >= 10 && scopedAddr(p.Addr())
}

func scopedAddr(a netip.Addr) bool {
	if a.IsLinkLocalUnicast() {
		return true
	}
	if a.IsMulticast() {
		b := a.As16()
		scope := b[1] & 0x0f
		return scope == 1 || scope == 2
	}
	return false
}

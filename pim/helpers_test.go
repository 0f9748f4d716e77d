package pim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
)

var t0 = time.Unix(1_700_000_000, 0)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ll(n int) netip.Addr   { return netip.MustParseAddr(fmt.Sprintf("fe80::%x", n)) }
func glob(n int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", n)) }

var (
	srcS  = netip.MustParseAddr("2001:db8:5::1")
	grpG  = netip.MustParseAddr("ff3e::4321:1234")
	grpG2 = netip.MustParseAddr("ff3e::4321:1235")
)

// rpfTable is a static MRIB for tests: prefix → answer.
type rpfTable map[netip.Prefix]rpfAnswer

type rpfAnswer struct {
	ifindex      int
	nexthop      netip.Addr
	pref, metric uint32
}

func (t rpfTable) lookup(a netip.Addr) (int, netip.Addr, uint32, uint32, bool) {
	best, ok := netip.Prefix{}, false
	for p := range t {
		if p.Contains(a) && (!ok || p.Bits() > best.Bits()) {
			best, ok = p, true
		}
	}
	if !ok {
		return 0, netip.Addr{}, 0, 0, false
	}
	x := t[best]
	return x.ifindex, x.nexthop, x.pref, x.metric, true
}

// newTestRouter builds a router with interfaces 1..n (link-local fe80::<id*16+i>).
func newTestRouter(t testing.TB, id int, rpf rpfTable, mod func(*Config), ifs ...Interface) *Router {
	t.Helper()
	cfg := Config{RPF: rpf.lookup, Rand: rand.New(rand.NewPCG(uint64(id), 42))}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ifs {
		r.AddInterface(t0, in)
	}
	r.Outbox()
	return r
}

func sends[T wire.Message](out []Send) []T {
	var res []T
	for _, s := range out {
		if m, ok := s.Message.(T); ok {
			res = append(res, m)
		}
	}
	return res
}

func hello(genID uint32, opts ...func(*wire.Hello)) *wire.Hello {
	h := &wire.Hello{Holdtime: 105, HasHoldtime: true, DRPriority: 1, HasDRPriority: true, GenerationID: genID, HasGenID: true,
		LANPruneDelay: &wire.LANPruneDelay{TrackingSupport: true, PropagationDelay: 500, OverrideInterval: 2500}}
	for _, o := range opts {
		o(h)
	}
	return h
}

func joinMsg(upstream netip.Addr, holdtime uint16, g netip.Addr, joins, prunes []netip.Addr) *wire.JoinPrune {
	jg := wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}}
	for _, s := range joins {
		jg.Joins = append(jg.Joins, wire.EncodedSource{Addr: s, MaskLen: 128, Sparse: true})
	}
	for _, s := range prunes {
		jg.Prunes = append(jg.Prunes, wire.EncodedSource{Addr: s, MaskLen: 128, Sparse: true})
	}
	return &wire.JoinPrune{UpstreamNeighbor: upstream, Holdtime: holdtime, Groups: []wire.JoinPruneGroup{jg}}
}

func routeState(r *Router, s, g netip.Addr, now time.Time) (RouteState, bool) {
	for _, rs := range r.Snapshot(now).Routes {
		if rs.Source == s && rs.Group == g {
			return rs, true
		}
	}
	return RouteState{}, false
}

func ifState(rs RouteState, idx int) RouteInterfaceState {
	for _, p := range rs.PerInterface {
		if p.Index == idx {
			return p
		}
	}
	return RouteInterfaceState{JoinState: "NoInfo", AssertState: "NoInfo", Local: "none"}
}

// runUntil ticks r at every deadline up to end and returns everything sent.
func runUntil(r *Router, from, end time.Time) []Send {
	return tickUntil(r, from, end, func(r *Router) []Send {
		out, _ := r.Outbox()
		return out
	})
}

// tickUntil ticks r at every deadline up to end, collecting what take returns
// after each tick.
func tickUntil(r *Router, from, end time.Time, take func(*Router) []Send) []Send {
	var all []Send
	for {
		d := r.NextDeadline()
		if d.IsZero() || d.After(end) {
			break
		}
		if d.Before(from) {
			d = from
		}
		r.Tick(d)
		all = append(all, take(r)...)
	}
	return all
}

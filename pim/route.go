package pim

import (
	"net/netip"
	"slices"
	"time"
)

// sgKey identifies an (S,G) entry; S is :: for (*,G).
type sgKey struct{ s, g [16]byte }

func keyOf(s, g netip.Addr) sgKey { return sgKey{s.As16(), g.As16()} }

// routeKey is the key a route is indexed by.
func routeKey(rt *route) sgKey { return keyOf(rt.src, rt.grp) }

// upState is the upstream (S,G) Join/Prune state (RFC 7761 §4.5.7).
type upState uint8

const (
	upNotJoined upState = iota
	upJoined
)

func (s upState) String() string {
	if s == upJoined {
		return "Joined"
	}
	return "NotJoined"
}

// route is the (S,G) tree information base entry (RFC 7761 §4.1.4).
// Small fields are grouped to keep the struct (co-allocated with its first
// downstream state, routeAlloc) inside one allocation size class.
type route struct {
	src, grp netip.Addr // src is :: for (*,G); RP(G) is in the group's asmGroup

	// MRIB toward S, from Config.RPF.
	rpfIf      int
	rpfNexthop netip.Addr // invalid: S is directly connected
	mribPref   uint32
	mribMetric uint32
	// rpfPrime is RPF'(S,G) (§4.5.7): the assert winner on the RPF interface
	// when we lost an assert there, else NBR(RPF_interface(S), next hop).
	rpfPrime *neighbor

	jt  timer  // Join Timer
	kat *timer // Keepalive Timer (§4.1.2), allocated when data first starts it

	ds    []*downstream
	dsBuf [1]*downstream // backing store of ds for the common single-interface case
	spare *downstream    // the co-allocated downstream, until first used

	// rpt is the (S,G,rpt) state of an ASM (S,G) entry (§4.5.3, §4.5.9),
	// allocated only while there is some: SSM entries never have it.
	rpt *rptState

	// Last forwarding state emitted to mfib (lastIIF is a link index; int32
	// packs it with the flags below, which keeps route and its first
	// downstream state in a 288-byte allocation instead of 320).
	lastOIFs []int
	lastIIF  int32
	lastFlag Flags

	ssm     bool
	wc      bool // a (*,G) entry: the tree is rooted at rp
	rpfOK   bool
	up      upState
	sptbit  bool
	queued  bool // waiting in the periodic pacer
	urgent  bool // the Join Timer was decreased (override): send at once on expiry
	dirty   bool
	emitted bool
}

func (rt *route) expire(r *Router, t *timer) {
	switch t.kind {
	case timerJoin:
		r.joinTimerExpired(rt)
	case timerKeepalive:
		// §4.1.2: the Keepalive Timer expired; the (S,G) state it held may go.
		r.markDirty(rt)
	}
}

func (rt *route) downstream(ifindex int) *downstream {
	for _, d := range rt.ds {
		if d.ifindex == ifindex {
			return d
		}
	}
	return nil
}

// routeAlloc co-allocates a route with its first downstream state.
type routeAlloc struct {
	route route
	first downstream
}

// MembershipMode is the local listener state of an (S,G) or (*,G) on an
// interface, as MLD reports it (RFC 7761 §4.1.6 local_receiver_include /
// local_receiver_exclude; RFC 4604 for SSM).
type MembershipMode uint8

const (
	// MembershipNone: no local listener.
	MembershipNone MembershipMode = iota
	// MembershipInclude: listeners want the traffic (for (S,G): INCLUDE S;
	// for (*,G): EXCLUDE mode, any source).
	MembershipInclude
	// MembershipExclude: for an (S,G) only: the (*,G) listeners exclude S.
	MembershipExclude
)

func (m MembershipMode) String() string {
	switch m {
	case MembershipInclude:
		return "include"
	case MembershipExclude:
		return "exclude"
	}
	return "none"
}

// jpState is the downstream per-interface (S,G) state (RFC 7761 §4.5.2).
type jpState uint8

const (
	jpNoInfo jpState = iota
	jpJoin
	jpPrunePending
)

func (s jpState) String() string {
	switch s {
	case jpJoin:
		return "Join"
	case jpPrunePending:
		return "PrunePending"
	}
	return "NoInfo"
}

// assertState is the per-interface (S,G) Assert state (RFC 7761 §4.6.1).
type assertState uint8

const (
	assertNoInfo assertState = iota
	assertWinner
	assertLoser
)

func (s assertState) String() string {
	switch s {
	case assertWinner:
		return "Winner"
	case assertLoser:
		return "Loser"
	}
	return "NoInfo"
}

// downstream is the per-(S,G), per-interface state.
type downstream struct {
	rt      *route
	ifindex int

	et    timer // Expiry Timer
	x     *downstreamExtra
	jp    jpState
	local MembershipMode
	as    assertState
}

// downstreamExtra is the per-interface state only LANs with several routers
// need (a Prune waiting for an override, Asserts): allocated on first use, so
// that the common entry (one downstream interface, a local listener or a
// Join) stays small.
type downstreamExtra struct {
	ppt    timer        // PrunePending Timer
	at     timer        // Assert Timer
	winner assertMetric // AssertWinner and AssertWinnerMetric (valid when as != NoInfo)
}

// extra returns d's LAN state, creating it on first use.
func (d *downstream) extra() *downstreamExtra {
	if d.x == nil {
		d.x = &downstreamExtra{}
		d.x.ppt.kind, d.x.ppt.owner = timerPrunePending, d
		d.x.at.kind, d.x.at.owner = timerAssert, d
	}
	return d.x
}

// winnerMetric is AssertWinner and AssertWinnerMetric (zero in NoInfo).
func (d *downstream) winnerMetric() assertMetric {
	if d.x == nil {
		return assertMetric{}
	}
	return d.x.winner
}

func (d *downstream) prunePendingLeft(now int64) time.Duration {
	if d.x == nil {
		return 0
	}
	return d.x.ppt.remaining(now)
}

func (d *downstream) assertTimerLeft(now int64) time.Duration {
	if d.x == nil {
		return 0
	}
	return d.x.at.remaining(now)
}

func (r *Router) stopPrunePending(d *downstream) {
	if d.x != nil {
		r.timers.stop(&d.x.ppt)
	}
}

func (r *Router) stopAssertTimer(d *downstream) {
	if d.x != nil {
		r.timers.stop(&d.x.at)
	}
}

func (r *Router) stopDownstreamTimers(d *downstream) {
	r.timers.stop(&d.et)
	r.stopPrunePending(d)
	r.stopAssertTimer(d)
}

func (d *downstream) expire(r *Router, t *timer) {
	switch t.kind {
	case timerExpiry:
		r.expiryTimerExpired(d)
	case timerPrunePending:
		r.prunePendingExpired(d)
	case timerAssert:
		r.assertTimerExpired(d)
	}
}

func (d *downstream) idle() bool {
	return d.jp == jpNoInfo && d.local == MembershipNone && d.as == assertNoInfo
}

// lookupRoute returns the (S,G) entry, nil if none.
func (r *Router) lookupRoute(s, g netip.Addr) *route { return r.routes.Get(keyOf(s, g)) }

// ensureRoute returns the (S,G) entry, creating it (with its RPF) if needed.
func (r *Router) ensureRoute(s, g netip.Addr) *route {
	k := keyOf(s, g)
	if rt := r.routes.Get(k); rt != nil {
		return rt
	}
	// The route and its first downstream state share one allocation.
	ra := &routeAlloc{}
	rt := &ra.route
	rt.src, rt.grp, rt.ssm = s, g, r.cfg.IsSSM(g)
	rt.wc = s.IsUnspecified()
	rt.ds = rt.dsBuf[:0]
	rt.spare = &ra.first
	rt.jt.kind, rt.jt.owner = timerJoin, rt
	r.routes.Put(rt)
	r.indexRoute(rt) // before the RPF: a (*,G) entry's RP(G) is kept in the index
	if rt.wc {
		rp, _ := r.rpOf(g)
		r.setRP(rt, rp)
	}
	r.resolveRPF(rt)
	rt.rpfPrime = r.computeRPFPrime(rt)
	r.markDirty(rt)
	return rt
}

// ensureDownstream returns rt's state on ifindex, creating it if needed.
func (r *Router) ensureDownstream(rt *route, ifindex int) *downstream {
	if d := rt.downstream(ifindex); d != nil {
		return d
	}
	d := rt.spare
	if d != nil {
		rt.spare = nil
	} else {
		d = &downstream{}
	}
	*d = downstream{rt: rt, ifindex: ifindex}
	d.et.kind, d.et.owner = timerExpiry, d
	rt.ds = append(rt.ds, d)
	return d
}

// dropDownstream removes rt's state on one interface (the interface went away).
func (r *Router) dropDownstream(rt *route, d *downstream) {
	r.stopDownstreamTimers(d)
	rt.ds = slices.DeleteFunc(rt.ds, func(x *downstream) bool { return x == d })
	r.markDirty(rt)
}

func (r *Router) stopRouteTimers(rt *route) {
	r.timers.stop(&rt.jt)
	r.timers.stop(rt.kat)
	for _, d := range rt.ds {
		r.stopDownstreamTimers(d)
	}
	if rt.rpt != nil {
		r.stopRptTimers(rt.rpt)
	}
	rt.queued = false
}

// collect frees per-interface state back in NoInfo and the entry itself when
// nothing holds it any more (§4.1.4: "NoInfo" entries need not be stored).
func (r *Router) collect(rt *route) (deleted bool) {
	rt.ds = slices.DeleteFunc(rt.ds, func(d *downstream) bool {
		if d.idle() {
			r.stopDownstreamTimers(d)
			return true
		}
		return false
	})
	if r.collectRpt(rt) || len(rt.ds) > 0 || rt.up != upNotJoined || (rt.kat.running() && !rt.ssm) {
		return false
	}
	r.stopRouteTimers(rt)
	r.routes.Delete(routeKey(rt))
	r.unindexRoute(rt)
	if rt.emitted {
		r.changes = append(r.changes, ForwardingChange{Source: rt.src, Group: rt.grp, Deleted: true})
		rt.emitted = false
	}
	return true
}

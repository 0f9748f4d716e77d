package pim

import (
	"net/netip"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
)

// infiniteHoldtime is the J/P holdtime 0xffff: "never time out".
const infiniteHoldtime = 0xffff

func (r *Router) receiveJoinPrune(ifc *iface, src netip.Addr, m *wire.JoinPrune) {
	// §4.5: "a Join/Prune message ... from a router we have not seen a Hello
	// from SHOULD be discarded".
	if ifc.nbrs[src] == nil {
		r.drop(ReasonNotNeighbor)
		return
	}
	r.stats.JoinPrunesRecv++
	up := m.UpstreamNeighbor.WithZone("")
	toMe := ifc.isMyAddress(up)
	var target *neighbor
	if !toMe {
		target = ifc.neighborByAddr(up)
	}
	holdtime := time.Duration(m.Holdtime) * time.Second
	forever := m.Holdtime == infiniteHoldtime
	r.eomGroups = r.eomGroups[:0]
	for i := range m.Groups {
		g := &m.Groups[i]
		grp := g.Group.Addr.WithZone("")
		if !validGroup(g.Group) {
			r.drops[ReasonBadGroup] += uint64(len(g.Joins) + len(g.Prunes))
			continue
		}
		ssm := r.cfg.IsSSM(grp)
		for j := range g.Joins {
			r.stats.JoinEntriesRecv++
			s, kind, ok := r.classifySource(&g.Joins[j], grp, ssm)
			if !ok {
				continue
			}
			switch {
			case toMe && kind == entryRPT:
				r.rptDownstreamJoin(ifc, s, grp)
			case toMe:
				r.downstreamJoin(ifc, s, grp, holdtime, forever)
				if kind == entryWC && r.rptSeeWildcardJoin(ifc, grp) {
					// §4.5.3: a Join(*,G) puts the group's (S,G,rpt) prunes
					// on I in the temporary states until End of Message.
					r.eomGroups = append(r.eomGroups, grp)
				}
			case target == nil:
			case kind == entryRPT:
				r.seeJoinRpt(ifc, target, s, grp)
			default:
				r.seeJoin(ifc, target, s, grp, holdtime, forever)
			}
		}
		for j := range g.Prunes {
			r.stats.PruneEntriesRecv++
			s, kind, ok := r.classifySource(&g.Prunes[j], grp, ssm)
			if !ok {
				continue
			}
			switch {
			case toMe && kind == entryRPT:
				r.rptDownstreamPrune(ifc, s, grp, holdtime, forever)
			case toMe:
				r.downstreamPrune(ifc, s, grp)
			case target == nil:
			case kind == entryRPT:
				r.seePruneRpt(ifc, target, s, grp)
				// §4.5.7 Joined: "See Prune(S,G,rpt) to RPF'(S,G)".
				r.seePrune(ifc, target, s, grp)
			case kind == entryWC:
				r.seePrune(ifc, target, s, grp)
				// §4.5.7 Joined: "See Prune(*,G) to RPF'(S,G)".
				r.seeWildcardPrune(ifc, target, grp)
			default:
				r.seePrune(ifc, target, s, grp)
				// §4.5.9 "See Prune(S,G) to RPF'(S,G,rpt)".
				r.seePruneRpt(ifc, target, s, grp)
			}
		}
	}
	// §4.5.3 "End of Message": temporary (S,G,rpt) states not confirmed by a
	// Prune(S,G,rpt) in this message go to NoInfo.
	for _, grp := range r.eomGroups {
		r.rptEndOfMessage(ifc, grp)
	}
}

// validGroup: one multicast group (mask 128) of a scope wider than link-local.
func validGroup(g wire.EncodedGroup) bool {
	a := g.Addr
	if !a.Is6() || !a.IsMulticast() || g.MaskLen != 128 {
		return false
	}
	scope := a.As16()[1] & 0x0f
	return scope > 2
}

// entryKind is what a Join/Prune source entry names (§4.9.5.1).
type entryKind uint8

const (
	entrySG  entryKind = iota // (S,G): neither WC nor RPT bit
	entryWC                   // (*,G): WC and RPT bits, the address is RP(G)
	entryRPT                  // (S,G,rpt): RPT bit only
)

// classifySource sorts a Join/Prune source: (S,G) and (S,G,rpt) entries
// return S, (*,G) entries (WC and RPT bits, the address being RP(G),
// §4.9.5.1) return ::. In the SSM range only (S,G) is accepted (RFC 4607 §2,
// RFC 7761 §4.8.1). Rejected entries are counted.
func (r *Router) classifySource(es *wire.EncodedSource, g netip.Addr, ssm bool) (netip.Addr, entryKind, bool) {
	kind := entrySG
	switch {
	case es.WC:
		if ssm {
			r.drop(ReasonWildcardSSM)
			return netip.Addr{}, 0, false
		}
		rp, ok := r.rpOf(g)
		if !ok || !rp.IsValid() {
			r.drop(ReasonNoRP)
			return netip.Addr{}, 0, false
		}
		if es.Addr.WithZone("") != rp.WithZone("") {
			// §4.5.1: a (*,G) Join naming another RP than RP(G) is ignored.
			r.drop(ReasonWrongRP)
			return netip.Addr{}, 0, false
		}
		return netip.IPv6Unspecified(), entryWC, true
	case es.RPT:
		if ssm {
			r.drop(ReasonRptSSM)
			return netip.Addr{}, 0, false
		}
		kind = entryRPT
	}
	s := es.Addr.WithZone("")
	if !s.Is6() || es.MaskLen != 128 || s.IsMulticast() || s.IsUnspecified() || s.IsLoopback() || s.IsLinkLocalUnicast() {
		r.drop(ReasonBadSource)
		return netip.Addr{}, 0, false
	}
	return s, kind, true
}

// downstreamJoin is "Receive Join(S,G)" of the downstream (S,G) state machine
// on interface I (RFC 7761 §4.5.2).
func (r *Router) downstreamJoin(ifc *iface, s, g netip.Addr, holdtime time.Duration, forever bool) {
	rt := r.ensureRoute(s, g)
	d := r.ensureDownstream(rt, ifc.index)
	r.assertJoinReceived(d) // §4.6.1/§4.6.2 Loser: "Receive Join on interface I"
	switch d.jp {
	case jpNoInfo:
		// NoInfo -> Join: start the Expiry Timer at the J/P HoldTime.
		d.jp = jpJoin
		r.setExpiry(d, holdtime, forever, false)
		r.markDirty(rt)
	case jpJoin:
		// Join -> Join: restart the Expiry Timer at max(current, HoldTime).
		r.setExpiry(d, holdtime, forever, true)
	case jpPrunePending:
		// PrunePending -> Join: stop the PrunePending Timer; Expiry Timer at
		// max(current, HoldTime).
		d.jp = jpJoin
		r.stopPrunePending(d)
		r.setExpiry(d, holdtime, forever, true)
		r.markDirty(rt)
	}
}

func (r *Router) setExpiry(d *downstream, holdtime time.Duration, forever, keepLonger bool) {
	r.setExpiryTimer(&d.et, holdtime, forever, keepLonger)
}

// setExpiryTimer arms an Expiry Timer (of (S,G), (*,G) or (S,G,rpt)
// downstream state) at HoldTime from now, or stops it for a holdtime of
// "forever"; with keepLonger, at max(current, HoldTime).
func (r *Router) setExpiryTimer(et *timer, holdtime time.Duration, forever, keepLonger bool) {
	if forever {
		r.timers.stop(et)
		return
	}
	when := r.after(holdtime)
	// A stopped Expiry Timer in Join or Prune state means "forever" (holdtime
	// 0xffff), which max() keeps.
	if keepLonger && (!et.running() || et.when >= when) {
		return
	}
	r.timers.set(et, when)
}

// downstreamPrune is "Receive Prune(S,G)" (§4.5.2).
func (r *Router) downstreamPrune(ifc *iface, s, g netip.Addr) {
	rt := r.lookupRoute(s, g)
	if rt == nil {
		return // NoInfo: no action
	}
	d := rt.downstream(ifc.index)
	if d == nil || d.jp != jpJoin {
		return // NoInfo and PrunePending: no action
	}
	// Join -> PrunePending: start the PrunePending Timer at
	// J/P_Override_Interval(I) if there is more than one neighbour on I, else
	// at zero (prune at once).
	d.jp = jpPrunePending
	r.markDirty(rt)
	if len(ifc.nbrs) > 1 {
		r.timers.set(&d.extra().ppt, r.after(r.jpOverrideInterval(ifc)))
		return
	}
	r.prunePendingExpired(d)
}

// prunePendingExpired: PrunePending -> NoInfo, with a PruneEcho(S,G) on a LAN
// of more than one neighbour (§4.5.2).
func (r *Router) prunePendingExpired(d *downstream) {
	if d.jp != jpPrunePending {
		return
	}
	d.jp = jpNoInfo
	r.stopPrunePending(d)
	r.timers.stop(&d.et)
	r.markDirty(d.rt)
	if ifc := r.ifs[d.ifindex]; ifc != nil && len(ifc.nbrs) > 1 {
		// A PruneEcho is a Prune(S,G) with our own address as upstream
		// neighbour, so a lost overriding Join is sent again.
		r.addEntry(ifc, ifc.linkLocal, d.rt, false)
	}
}

// expiryTimerExpired: Join or PrunePending -> NoInfo (§4.5.2).
func (r *Router) expiryTimerExpired(d *downstream) {
	if d.jp == jpNoInfo {
		return
	}
	d.jp = jpNoInfo
	r.stopPrunePending(d)
	r.markDirty(d.rt)
}

// seeJoin is "See Join(S,G) to RPF'(S,G)" of the upstream state machine
// (§4.5.7): another router on our RPF interface joined the same upstream
// neighbour; our own Join may be suppressed.
func (r *Router) seeJoin(ifc *iface, target *neighbor, s, g netip.Addr, holdtime time.Duration, forever bool) {
	rt := r.lookupRoute(s, g)
	if rt == nil || rt.up != upJoined || rt.rpfIf != ifc.index || rt.rpfPrime != target {
		return
	}
	// Increase the Join Timer to t_joinsuppress = min(t_suppressed, HoldTime).
	t := r.tSuppressed(ifc)
	if !forever {
		t = min(t, holdtime)
	}
	if t <= 0 {
		return
	}
	when := r.after(t)
	if rt.queued || !rt.jt.running() || rt.jt.when < when {
		rt.queued = false
		r.timers.set(&rt.jt, when)
	}
}

// seePrune is "See Prune(S,G) to RPF'(S,G)" (§4.5.7): someone pruned the
// upstream neighbour we still need; override with a Join within t_override.
func (r *Router) seePrune(ifc *iface, target *neighbor, s, g netip.Addr) {
	rt := r.lookupRoute(s, g)
	if rt == nil || rt.up != upJoined || rt.rpfIf != ifc.index || rt.rpfPrime != target {
		return
	}
	r.decreaseJoinTimer(rt, r.tOverride(ifc))
}

// decreaseJoinTimer sets the Join Timer to d if it would fire later than that;
// its expiry then sends the Join at once instead of through the pacer.
func (r *Router) decreaseJoinTimer(rt *route, d time.Duration) {
	when := r.after(d)
	if rt.queued || !rt.jt.running() || rt.jt.when > when {
		rt.queued = false
		rt.urgent = true
		r.timers.set(&rt.jt, when)
	}
}

// joinTimerExpired: Joined: "Join Timer expires": send Join(S,G) to
// RPF'(S,G) and restart the timer at t_periodic (§4.5.7). Periodic refreshes
// go through the pacer; overrides go out at once.
func (r *Router) joinTimerExpired(rt *route) {
	if rt.up != upJoined {
		return
	}
	if rt.urgent {
		rt.urgent = false
		r.sendPeriodicJoin(rt)
		return
	}
	r.pacer.enqueue(r, rt)
}

func (r *Router) sendPeriodicJoin(rt *route) {
	if n := rt.rpfPrime; n != nil {
		r.addEntry(n.ifc, n.addr, rt, true)
	}
	r.timers.set(&rt.jt, r.after(r.cfg.JoinPrunePeriod))
}

// updateUpstream runs the upstream (S,G) state machine transitions driven by
// JoinDesired(S,G) (§4.5.7).
func (r *Router) updateUpstream(rt *route, jd bool) {
	switch {
	case rt.up == upNotJoined && jd:
		// NotJoined -> Joined: send Join(S,G) to RPF'(S,G); Join Timer = t_periodic.
		rt.up = upJoined
		r.joined++
		if n := rt.rpfPrime; n != nil {
			r.addEntry(n.ifc, n.addr, rt, true)
		}
		r.timers.set(&rt.jt, r.after(r.cfg.JoinPrunePeriod))
	case rt.up == upJoined && !jd:
		// Joined -> NotJoined: send Prune(S,G) to RPF'(S,G); SPTbit = FALSE;
		// cancel the Join Timer.
		rt.up = upNotJoined
		r.joined--
		if n := rt.rpfPrime; n != nil {
			r.addEntry(n.ifc, n.addr, rt, false)
		}
		rt.sptbit = false
		rt.queued, rt.urgent = false, false
		r.timers.stop(&rt.jt)
	}
}

package pim

import "net/netip"

// The (*,G) Assert state machine (RFC 7761 §4.6.2) runs on the (*,G) entry's
// per-interface state (downstream.as, and the Assert Timer and winner in its
// extra), the same fields the (S,G) machine uses on an (S,G) entry: it costs
// nothing for groups without a
// (*,G) entry (SSM), and the olist macros (lost_assert, pim_include) and
// RPF'(*,G) (§4.5.6) read it exactly as they read the (S,G) state.

// rptAssertMetric is rpt_assert_metric(G,I) (§4.6.3): RPT bit set, the MRIB
// preference and metric toward RP(G), our address on I. rt is the (*,G)
// entry, whose MRIB fields are toward RP(G).
func (rt *route) rptAssertMetric(ifc *iface) assertMetric {
	return assertMetric{rpt: true, pref: rt.mribPref, metric: rt.mribMetric, addr: ifc.linkLocal}
}

// wildcardRoute returns the (*,G) entry of g, nil if none.
func (r *Router) wildcardRoute(g netip.Addr) *route {
	rt := r.lookupRoute(netip.IPv6Unspecified(), g)
	if rt == nil || !rt.wc {
		return nil
	}
	return rt
}

// lostAssertWC is lost_assert(*,G,I) (§4.6.5): RPF_interface(RP(G)) != I and
// we lost the (*,G) Assert on I.
func (r *Router) lostAssertWC(grp netip.Addr, ifindex int) bool {
	wc := r.wildcardRoute(grp)
	if wc == nil {
		return false
	}
	d := wc.downstream(ifindex)
	return d != nil && wc.lostAssert(d)
}

// wcForwardsSource is the shared-tree part of CouldAssert(S,G,I) and
// AssertTrackingDesired(S,G,I) (§4.6.1) for an ASM (S,G) entry rt: I in
// ( ( joins(*,G) (-) prunes(S,G,rpt) ) (+) ( pim_include(*,G) (-)
// pim_exclude(S,G) ) ) (-) lost_assert(*,G), i.e. we forward S onto I from
// the shared tree. RPF_interface(RP(G)) is never such an interface.
func (r *Router) wcForwardsSource(rt *route, ifc *iface) bool {
	wc := r.wildcardRoute(rt.grp)
	if wc == nil || (wc.rpfOK && wc.rpfIf == ifc.index) {
		return false
	}
	wcd := wc.downstream(ifc.index)
	if wcd == nil || wc.lostAssert(wcd) {
		return false
	}
	d := rt.downstream(ifc.index)
	return (joined(wcd) && !rt.prunedRpt(ifc.index)) || (r.pimIncludeWC(rt.grp, wcd) && !r.pimExclude(rt.grp, d, wcd))
}

// wcTracksSourceAsserts is the shared-tree part of
// AssertTrackingDesired(S,G,I) (§4.6.1) for a source of the ASM group g; rt
// is its (S,G) entry, nil when there is none yet (then no (S,G,rpt) prune,
// no local exclude and no SPT bit):
//
//	I in ( ( joins(*,G) (-) prunes(S,G,rpt) ) (+) ( pim_include(*,G) (-)
//	       pim_exclude(S,G) ) (-) lost_assert(*,G) )
//	OR ( RPF_interface(RP(G)) == I AND JoinDesired(*,G) AND SPTbit(S,G) == FALSE )
//
// The second term lets a router downstream on the shared tree learn the
// (S,G) assert winner, which is RPF'(S,G,rpt) (§4.5.9).
func (r *Router) wcTracksSourceAsserts(rt *route, g netip.Addr, ifc *iface) bool {
	wc := r.wildcardRoute(g)
	if wc == nil {
		return false
	}
	if wc.rpfOK && wc.rpfIf == ifc.index {
		return wc.up == upJoined && (rt == nil || !rt.sptbit)
	}
	if rt != nil {
		return r.wcForwardsSource(rt, ifc)
	}
	wcd := wc.downstream(ifc.index)
	return wcd != nil && r.inOlist(wc, wcd)
}

// receiveAssertWC runs the (*,G) Assert state machine (§4.6.2) for an Assert
// with the RPT bit set received on ifc: an Assert(*,G), or an Assert(S,G)
// with the RPT bit set that the (S,G) machine left in NoInfo.
func (r *Router) receiveAssertWC(ifc *iface, g netip.Addr, theirs assertMetric) {
	wc := r.wildcardRoute(g)
	if wc == nil {
		// No (*,G) state: CouldAssert(*,G,I) and AssertTrackingDesired(*,G,I)
		// are both false.
		r.drop(ReasonAssertNoState)
		return
	}
	d := r.ensureDownstream(wc, ifc.index)
	r.markDirty(wc)
	mine := r.myAssertMetric(wc, ifc)
	switch d.as {
	case assertNoInfo:
		switch {
		case theirs.isCancel():
			// An AssertCancel elects nobody: stay in NoInfo (we forward).
		case mine.better(theirs) && r.couldAssert(wc, ifc):
			// §4.6.2 NoInfo: "Receive Inferior Assert with RPTbit set and
			// CouldAssert(*,G,I)" -> Winner [A1].
			r.assertWin(wc, d, ifc)
		case theirs.better(mine) && r.assertTrackingDesired(wc, ifc):
			// §4.6.2 NoInfo: "Receive Acceptable Assert with RPTbit set and
			// AssertTrackingDesired(*,G,I)" -> Loser [A2].
			r.assertLose(wc, d, theirs)
		}
	case assertWinner:
		if mine.better(theirs) {
			// §4.6.2 Winner: "Receive Inferior Assert" -> Winner [A3].
			r.assertWin(wc, d, ifc)
		} else {
			// §4.6.2 Winner: "Receive Preferred Assert" -> Loser [A2].
			r.assertLose(wc, d, theirs)
		}
	case assertLoser:
		// §4.6.2 Loser: Preferred Assert, Acceptable Assert from the current
		// winner with RPTbit set [A2]; Inferior Assert or AssertCancel from
		// the current winner -> NoInfo [A5].
		r.loserReceives(wc, d, theirs, mine)
	}
}

// wrongIIFWC is "Data arrives for G on I and CouldAssert(*,G,I)" (§4.6.2):
// NoInfo -> Winner [A1]. The Assert(*,G) names the data's source s (§4.9.6:
// a data-triggered Assert(*,G) MAY carry it, zero otherwise), so that a
// router holding (S,G) state on the shortest-path tree answers with its
// Assert(S,G) (§4.6.1 "Receive Assert with RPTbit set and CouldAssert(S,G,I)").
func (r *Router) wrongIIFWC(ifc *iface, s, g netip.Addr) {
	wc := r.wildcardRoute(g)
	if wc == nil {
		return
	}
	d := wc.downstream(ifc.index)
	if d == nil || d.as != assertNoInfo || !r.couldAssert(wc, ifc) {
		return
	}
	if !s.IsValid() {
		s = netip.IPv6Unspecified()
	}
	r.assertWinFor(wc, d, ifc, s)
}

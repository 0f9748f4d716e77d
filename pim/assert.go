package pim

import (
	"net/netip"

	"github.com/pim6d/pim6d/pim/wire"
)

// assertMetric is an assert metric (RFC 7761 §4.6.3): RPT bit, metric
// preference, route metric and the asserting router's address.
type assertMetric struct {
	rpt    bool
	pref   uint32
	metric uint32
	addr   netip.Addr
}

// infiniteAssertMetric is infinite_assert_metric() (§4.6.3); an Assert carrying
// it is an AssertCancel.
var infiniteAssertMetric = assertMetric{rpt: true, pref: 0x7fffffff, metric: 0xffffffff}

// better reports whether a is preferred over b (§4.6.3): RPT bit clear wins,
// then the lower preference, then the lower metric, then the higher address.
func (a assertMetric) better(b assertMetric) bool {
	if a.rpt != b.rpt {
		return !a.rpt
	}
	if a.pref != b.pref {
		return a.pref < b.pref
	}
	if a.metric != b.metric {
		return a.metric < b.metric
	}
	return a.addr.Compare(b.addr) > 0
}

func (a assertMetric) isCancel() bool {
	return a.rpt && a.pref == infiniteAssertMetric.pref && a.metric == infiniteAssertMetric.metric
}

// sptAssertMetric is spt_assert_metric(S,I) (§4.6.3).
func (rt *route) sptAssertMetric(ifc *iface) assertMetric {
	return assertMetric{pref: rt.mribPref, metric: rt.mribMetric, addr: ifc.linkLocal}
}

// winnerMetric is the metric we store and send as assert winner (actions A1
// and A3): spt_assert_metric(S,I) for an (S,G) entry (§4.6.1),
// rpt_assert_metric(G,I) for a (*,G) entry (§4.6.2).
func (rt *route) winnerMetric(ifc *iface) assertMetric {
	if rt.wc {
		return rt.rptAssertMetric(ifc)
	}
	return rt.sptAssertMetric(ifc)
}

// myAssertMetric is my_assert_metric(S,G,I) (§4.6.3): spt_assert_metric(S,I)
// when CouldAssert(S,G,I), else rpt_assert_metric(G,I) when CouldAssert(*,G,I),
// else infinite. For a (*,G) entry it is the (*,G) part alone.
func (r *Router) myAssertMetric(rt *route, ifc *iface) assertMetric {
	if r.couldAssert(rt, ifc) {
		return rt.winnerMetric(ifc)
	}
	if !rt.wc && !rt.ssm {
		if wc := r.wildcardRoute(rt.grp); wc != nil && r.couldAssert(wc, ifc) {
			return wc.rptAssertMetric(ifc)
		}
	}
	return infiniteAssertMetric
}

func (r *Router) receiveAssert(ifc *iface, src netip.Addr, a *wire.Assert) {
	// §4.6: "an Assert message should only be accepted for processing if it
	// comes from a known PIM neighbor".
	if ifc.nbrs[src] == nil {
		r.drop(ReasonNotNeighbor)
		return
	}
	r.stats.AssertsReceived++
	g := a.Group.Addr.WithZone("")
	if !validGroup(a.Group) {
		r.drop(ReasonBadGroup)
		return
	}
	theirs := assertMetric{rpt: a.RPT, pref: a.MetricPreference & 0x7fffffff, metric: a.Metric, addr: src}
	s := a.Source.WithZone("")
	if !s.IsValid() || s.IsUnspecified() {
		if !theirs.rpt {
			// §4.9.6: a wildcard source is only meaningful in an
			// Assert(*,G), whose RPT bit is set.
			r.drop(ReasonAssertWildcard)
			return
		}
		r.receiveAssertWC(ifc, g, theirs)
		return
	}
	rt := r.lookupRoute(s, g)
	if theirs.rpt {
		// §4.6.2: an Assert with the RPT bit set and a source S goes to the
		// (S,G) machine first; only when that stays in NoInfo is it a (*,G)
		// Assert for the (*,G) machine.
		if rt != nil {
			d := rt.downstream(ifc.index)
			before := d != nil && d.as != assertNoInfo
			d = r.receiveAssertSG(ifc, rt, theirs)
			if before || d.as != assertNoInfo {
				return
			}
		}
		r.receiveAssertWC(ifc, g, theirs)
		return
	}
	if rt == nil {
		// An Assert(S,G) (RPT bit clear) with no (S,G) state: it matters
		// when we forward S onto I from the shared tree,
		// AssertTrackingDesired(S,G,I) through the (*,G) part (§4.6.1: the
		// (S,G) Assert overrides the (*,G) forwarding of S); otherwise
		// CouldAssert and AssertTrackingDesired are both false.
		if !r.wcTracksSourceAsserts(nil, g, ifc) {
			r.drop(ReasonAssertNoState)
			return
		}
		if !s.Is6() || s.IsMulticast() || s.IsLoopback() || s.IsLinkLocalUnicast() {
			r.drop(ReasonBadSource) // no state for a source that cannot send
			return
		}
		rt = r.ensureRoute(s, g)
	}
	r.receiveAssertSG(ifc, rt, theirs)
}

// receiveAssertSG runs the (S,G) Assert state machine (§4.6.1) for an Assert
// received on ifc and returns the interface's state.
func (r *Router) receiveAssertSG(ifc *iface, rt *route, theirs assertMetric) *downstream {
	d := r.ensureDownstream(rt, ifc.index)
	r.markDirty(rt)
	mine := r.myAssertMetric(rt, ifc)
	could := r.couldAssert(rt, ifc)
	switch d.as {
	case assertNoInfo:
		switch {
		case theirs.rpt && could && !theirs.isCancel():
			// §4.6.1 NoInfo: "Receive Assert with RPTbit set and
			// CouldAssert(S,G,I)" -> Winner [A1].
			r.assertWin(rt, d, ifc)
		case !theirs.rpt && could && mine.better(theirs):
			// NoInfo: "Receive Inferior Assert with RPTbit cleared and
			// CouldAssert(S,G,I)" -> Winner [A1].
			r.assertWin(rt, d, ifc)
		case !theirs.rpt && theirs.better(mine) && r.assertTrackingDesired(rt, ifc):
			// NoInfo: "Receive Acceptable Assert with RPTbit cleared and
			// AssertTrackingDesired(S,G,I)" -> Loser [A6].
			r.assertLose(rt, d, theirs)
			if ifc.index == rt.rpfIf && rt.up == upJoined {
				rt.sptbit = true
			}
		}
	case assertWinner:
		if mine.better(theirs) {
			// Winner: "Receive Inferior Assert" -> Winner [A3]: send
			// Assert(S,G), restart the Assert Timer.
			r.assertWin(rt, d, ifc)
		} else {
			// Winner: "Receive Preferred Assert" -> Loser [A2].
			r.assertLose(rt, d, theirs)
		}
	case assertLoser:
		r.loserReceives(rt, d, theirs, mine)
	}
	return d
}

// loserReceives is the Loser state's reaction to an Assert, the same in
// §4.6.1 and §4.6.2.
func (r *Router) loserReceives(rt *route, d *downstream, theirs, mine assertMetric) {
	switch {
	case theirs.better(d.winnerMetric()):
		// Loser: "Receive Preferred Assert" -> Loser [A2].
		r.assertLose(rt, d, theirs)
	case theirs.addr == d.winnerMetric().addr && theirs.better(mine) && !theirs.isCancel():
		// Loser: "Receive Acceptable Assert from Current Winner" -> Loser [A2].
		r.assertLose(rt, d, theirs)
	case theirs.addr == d.winnerMetric().addr:
		// Loser: "Receive Inferior Assert or AssertCancel from Current
		// Winner" -> NoInfo [A5].
		r.assertToNoInfo(d)
	}
}

// assertWin is actions A1/A3 (§4.6.1, §4.6.2): send Assert(S,G) or
// Assert(*,G), set the Assert Timer to Assert_Time - Assert_Override_Interval,
// store ourselves and our metric as winner.
func (r *Router) assertWin(rt *route, d *downstream, ifc *iface) {
	r.assertWinFor(rt, d, ifc, rt.src)
}

// assertWinFor is assertWin naming source in the Assert: for an Assert(*,G)
// triggered by data, the data's source; :: otherwise (§4.9.6).
func (r *Router) assertWinFor(rt *route, d *downstream, ifc *iface, source netip.Addr) {
	wasLoser := d.as == assertLoser
	d.as = assertWinner
	x := d.extra()
	x.winner = rt.winnerMetric(ifc)
	r.timers.set(&x.at, r.after(r.cfg.AssertTime-r.cfg.AssertOverrideInterval))
	r.sendAssert(ifc, rt.grp, source, x.winner)
	r.markDirty(rt)
	if wasLoser && d.ifindex == rt.rpfIf {
		r.setRPFPrime(rt, r.computeRPFPrime(rt), true)
	}
}

// assertLose is actions A2/A6: store the new winner and its metric, set the
// Assert Timer to Assert_Time.
func (r *Router) assertLose(rt *route, d *downstream, winner assertMetric) {
	d.as = assertLoser
	x := d.extra()
	x.winner = winner
	r.timers.set(&x.at, r.after(r.cfg.AssertTime))
	r.markDirty(rt)
	if d.ifindex == rt.rpfIf {
		// The winner becomes RPF'(S,G) (§4.5.7) or RPF'(*,G) (§4.5.6).
		r.setRPFPrime(rt, r.computeRPFPrime(rt), true)
	}
}

// assertToNoInfo is action A5 (and A4 without the AssertCancel): delete the
// assert winner information.
func (r *Router) assertToNoInfo(d *downstream) {
	if d.as == assertNoInfo {
		return
	}
	wasLoser := d.as == assertLoser
	d.as = assertNoInfo
	if d.x != nil {
		d.x.winner = assertMetric{}
	}
	r.stopAssertTimer(d)
	rt := d.rt
	r.markDirty(rt)
	if wasLoser && d.ifindex == rt.rpfIf {
		r.setRPFPrime(rt, r.computeRPFPrime(rt), true)
	}
}

// assertTimerExpired: Winner: resend the Assert and restart the timer [A3];
// Loser: -> NoInfo [A5] (§4.6.1, §4.6.2).
func (r *Router) assertTimerExpired(d *downstream) {
	switch d.as {
	case assertWinner:
		if ifc := r.ifs[d.ifindex]; ifc != nil {
			r.assertWin(d.rt, d, ifc)
		}
	case assertLoser:
		r.assertToNoInfo(d)
	}
}

// assertJoinReceived is "Receive Join(S,G) on interface I" (§4.6.1) and
// "Receive Join(*,G) on interface I" (§4.6.2) in the Loser state: a
// downstream router still takes us for its RPF neighbour, so forward again
// -> NoInfo [A5] (and let the Assert run again if we should not).
func (r *Router) assertJoinReceived(d *downstream) {
	if d.as == assertLoser {
		r.assertToNoInfo(d)
	}
}

func (r *Router) sendAssert(ifc *iface, grp, source netip.Addr, m assertMetric) {
	r.payHelloDebt(ifc)
	r.stats.AssertsSent++
	r.send(ifc, AllPIMRouters, &wire.Assert{
		Group:            wire.EncodedGroup{Addr: grp, MaskLen: 128},
		Source:           source,
		RPT:              m.rpt,
		MetricPreference: m.pref,
		Metric:           m.metric,
	})
}

// wrongIIF handles a packet from s to g that arrived on ifc, not its iif
// (§4.2): with SPTbit(S,G) set it is "An (S,G) data packet arrives on
// interface I" and may start an (S,G) Assert (§4.6.1); otherwise, when I is
// in inherited_olist(S,G,rpt) (no (S,G) Assert rules S on I, S not pruned
// off the shared tree there), it is "Data arrives for G on I" of the (*,G)
// machine (§4.6.2).
func (r *Router) wrongIIF(ifc *iface, s, g netip.Addr) {
	if s.IsValid() && !s.IsUnspecified() {
		if rt := r.lookupRoute(s, g); rt != nil {
			if rt.ssm || rt.sptbit {
				// §4.6.1 NoInfo: data arrives and CouldAssert(S,G,I) -> Winner
				// [A1]. I may be in the olist through (*,G) only: the (S,G)
				// per-interface state is then created here.
				if r.couldAssert(rt, ifc) {
					if d := r.ensureDownstream(rt, ifc.index); d.as == assertNoInfo {
						r.assertWin(rt, d, ifc)
					}
				}
				return
			}
			if d := rt.downstream(ifc.index); d != nil && d.as != assertNoInfo {
				return // the (S,G) Assert overrides (*,G) for S on I (§4.6.2)
			}
			if !r.wcForwardsSource(rt, ifc) {
				return // §4.2: I is not in inherited_olist(S,G,rpt)
			}
		}
	}
	r.wrongIIFWC(ifc, s, g)
}

// updateAssertPredicates applies the §4.6.1 and §4.6.2 transitions driven by
// macro changes: Winner with CouldAssert false -> NoInfo [A4, AssertCancel];
// Loser with AssertTrackingDesired false, or my metric now better than the
// winner's -> NoInfo [A5].
func (r *Router) updateAssertPredicates(rt *route) {
	for _, d := range rt.ds {
		ifc := r.ifs[d.ifindex]
		if ifc == nil {
			continue
		}
		switch d.as {
		case assertWinner:
			if !r.couldAssert(rt, ifc) {
				r.sendAssert(ifc, rt.grp, rt.src, infiniteAssertMetric)
				r.assertToNoInfo(d)
			}
		case assertLoser:
			if !r.assertTrackingDesired(rt, ifc) || r.myAssertMetric(rt, ifc).better(d.winnerMetric()) {
				r.assertToNoInfo(d)
			}
		}
	}
}

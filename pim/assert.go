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

// myAssertMetric is my_assert_metric(S,G,I) (§4.6.3), (S,G) part only.
func (r *Router) myAssertMetric(rt *route, ifc *iface) assertMetric {
	if r.couldAssert(rt, ifc) {
		return rt.sptAssertMetric(ifc)
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
	s := a.Source.WithZone("")
	if !s.IsValid() || s.IsUnspecified() {
		r.drop(ReasonAssertWildcard)
		return
	}
	rt := r.lookupRoute(s, g)
	if rt == nil {
		// No state: CouldAssert and AssertTrackingDesired are both false.
		r.drop(ReasonAssertNoState)
		return
	}
	theirs := assertMetric{rpt: a.RPT, pref: a.MetricPreference & 0x7fffffff, metric: a.Metric, addr: src}
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
		switch {
		case theirs.better(d.winner):
			// Loser: "Receive Preferred Assert" -> Loser [A2].
			r.assertLose(rt, d, theirs)
		case theirs.addr == d.winner.addr && theirs.better(mine) && !theirs.isCancel():
			// Loser: "Receive Acceptable Assert from Current Winner" -> Loser [A2].
			r.assertLose(rt, d, theirs)
		case theirs.addr == d.winner.addr:
			// Loser: "Receive Inferior Assert or AssertCancel from Current
			// Winner" -> NoInfo [A5].
			r.assertToNoInfo(d)
		}
	}
}

// assertWin is actions A1/A3 (§4.6.1): send Assert(S,G), set the Assert Timer
// to Assert_Time - Assert_Override_Interval, store ourselves as winner.
func (r *Router) assertWin(rt *route, d *downstream, ifc *iface) {
	wasLoser := d.as == assertLoser
	d.as = assertWinner
	d.winner = rt.sptAssertMetric(ifc)
	r.timers.set(&d.at, r.after(r.cfg.AssertTime-r.cfg.AssertOverrideInterval))
	r.sendAssert(ifc, rt, d.winner)
	r.markDirty(rt)
	if wasLoser && d.ifindex == rt.rpfIf {
		r.setRPFPrime(rt, r.computeRPFPrime(rt), true)
	}
}

// assertLose is actions A2/A6: store the new winner and its metric, set the
// Assert Timer to Assert_Time.
func (r *Router) assertLose(rt *route, d *downstream, winner assertMetric) {
	d.as = assertLoser
	d.winner = winner
	r.timers.set(&d.at, r.after(r.cfg.AssertTime))
	r.markDirty(rt)
	if d.ifindex == rt.rpfIf {
		// The winner becomes RPF'(S,G) (§4.5.7, §4.6).
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
	d.winner = assertMetric{}
	r.timers.stop(&d.at)
	rt := d.rt
	r.markDirty(rt)
	if wasLoser && d.ifindex == rt.rpfIf {
		r.setRPFPrime(rt, r.computeRPFPrime(rt), true)
	}
}

// assertTimerExpired: Winner: resend Assert(S,G) and restart the timer [A3];
// Loser: -> NoInfo [A5] (§4.6.1).
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

func (r *Router) sendAssert(ifc *iface, rt *route, m assertMetric) {
	r.payHelloDebt(ifc)
	r.stats.AssertsSent++
	r.send(ifc, AllPIMRouters, &wire.Assert{
		Group:            wire.EncodedGroup{Addr: rt.grp, MaskLen: 128},
		Source:           rt.src,
		RPT:              m.rpt,
		MetricPreference: m.pref,
		Metric:           m.metric,
	})
}

// wrongIIF is "An (S,G) data packet arrives on interface I" with
// CouldAssert(S,G,I): NoInfo -> Winner [A1] (§4.6.1).
func (r *Router) wrongIIF(ifc *iface, rt *route) {
	d := rt.downstream(ifc.index)
	if d == nil || d.as != assertNoInfo || !r.couldAssert(rt, ifc) {
		return
	}
	r.assertWin(rt, d, ifc)
}

// updateAssertPredicates applies the §4.6.1 transitions driven by macro
// changes: Winner with CouldAssert false -> NoInfo [A4, AssertCancel];
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
				r.sendAssert(ifc, rt, infiniteAssertMetric)
				r.assertToNoInfo(d)
			}
		case assertLoser:
			if !r.assertTrackingDesired(rt, ifc) || r.myAssertMetric(rt, ifc).better(d.winner) {
				r.assertToNoInfo(d)
			}
		}
	}
}

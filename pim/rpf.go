package pim

import (
	"net/netip"
	"time"
)

// resolveRPF asks the MRIB for the route toward rt.src (RFC 7761 §4.5.7
// RPF_interface(S), MRIB.next_hop(S)).
func (r *Router) resolveRPF(rt *route) {
	target := rt.src
	if rt.wc {
		// (*,G): RPF toward RP(G) (§4.5.6 RPF'(*,G)).
		target = r.rpOfWC(rt)
	}
	if !target.IsValid() {
		rt.rpfOK, rt.rpfIf, rt.rpfNexthop, rt.mribPref, rt.mribMetric = false, 0, netip.Addr{}, 0, 0
		return
	}
	ifindex, nh, pref, metric, ok := r.cfg.RPF(target)
	if ok && r.ifs[ifindex] == nil {
		ok = false // the RPF interface does not run PIM
	}
	if !ok {
		rt.rpfOK, rt.rpfIf, rt.rpfNexthop, rt.mribPref, rt.mribMetric = false, 0, netip.Addr{}, 0, 0
		return
	}
	if nh.IsUnspecified() {
		nh = netip.Addr{}
	}
	rt.rpfOK, rt.rpfIf, rt.rpfNexthop, rt.mribPref, rt.mribMetric = true, ifindex, nh.WithZone(""), pref, metric
}

// computeRPFPrime returns RPF'(S,G) (§4.5.7): the assert winner on the RPF
// interface when we are an assert loser there, else the neighbour that is the
// MRIB next hop toward S (matched by primary or secondary address, §4.3.4).
// nil when S is directly connected or no such neighbour is known.
func (r *Router) computeRPFPrime(rt *route) *neighbor {
	if !rt.rpfOK {
		return nil
	}
	ifc := r.ifs[rt.rpfIf]
	if ifc == nil {
		return nil
	}
	if d := rt.downstream(rt.rpfIf); d != nil && d.as == assertLoser {
		return ifc.nbrs[d.winnerMetric().addr]
	}
	if !rt.rpfNexthop.IsValid() {
		return nil
	}
	return ifc.neighborByAddr(rt.rpfNexthop)
}

// setRPFPrime moves RPF'(S,G) to n, with the upstream actions of §4.5.7.
func (r *Router) setRPFPrime(rt *route, n *neighbor, byAssert bool) {
	old := rt.rpfPrime
	if old == n {
		return
	}
	rt.rpfPrime = n
	r.markDirty(rt)
	if rt.up != upJoined {
		return
	}
	if byAssert {
		// §4.5.7 Joined: "RPF'(S,G) changes due to an Assert": decrease the
		// Join Timer to t_override.
		if n != nil {
			r.decreaseJoinTimer(rt, r.tOverride(n.ifc))
		}
		return
	}
	// §4.5.7 Joined: "RPF'(S,G) changes not due to an Assert": send Join(S,G)
	// to the new RPF'(S,G), Prune(S,G) to the old one, set the Join Timer to
	// t_periodic.
	if n != nil {
		r.addEntry(n.ifc, n.addr, rt, true)
	}
	if old != nil && old.ifc.nbrs[old.addr] == old && r.ifs[old.ifc.index] == old.ifc {
		r.addEntry(old.ifc, old.addr, rt, false)
	}
	rt.queued = false
	r.timers.set(&rt.jt, r.after(r.cfg.JoinPrunePeriod))
}

// RouteChanged tells the router that unicast routes covering prefix changed
// (an invalid prefix: anything may have changed). RPF is re-evaluated for the
// sources inside it (§4.5.7 "RPF'(S,G) changes").
func (r *Router) RouteChanged(now time.Time, prefix netip.Prefix) {
	r.begin(now)
	defer r.finish()
	for rt := range r.routes.All {
		if rt.wc {
			// RP(G) may have changed too (call RouteChanged with an invalid
			// prefix after an RP-set change).
			rp, ok := r.rpOf(rt.grp)
			if !ok {
				rp = netip.Addr{}
			}
			r.setRP(rt, rp)
		}
		target := rt.src
		if rt.wc {
			target = r.rpOfWC(rt)
		}
		if prefix.IsValid() && !prefix.Contains(target) {
			continue
		}
		r.recheckRPF(rt)
	}
}

func (r *Router) recheckAllRPF() {
	for rt := range r.routes.All {
		r.recheckRPF(rt)
	}
}

func (r *Router) recheckRPF(rt *route) {
	oldIf, oldOK := rt.rpfIf, rt.rpfOK
	oldPref, oldMetric := rt.mribPref, rt.mribMetric
	r.resolveRPF(rt)
	if rt.rpfIf != oldIf || rt.rpfOK != oldOK {
		// §4.6.1 loser: "RPF_interface(S) stops being I" -> NoInfo [A5].
		if d := rt.downstream(oldIf); d != nil && d.as == assertLoser {
			r.assertToNoInfo(d)
		}
		r.markDirty(rt)
	}
	if rt.mribPref != oldPref || rt.mribMetric != oldMetric {
		r.markDirty(rt) // my_assert_metric changed
	}
	r.setRPFPrime(rt, r.computeRPFPrime(rt), false)
}

// recheckNeighbors re-resolves RPF'(S,G) for the routes whose RPF interface is
// ifc after its neighbour set changed.
func (r *Router) recheckNeighbors(ifc *iface) {
	for rt := range r.routes.All {
		if rt.rpfOK && rt.rpfIf == ifc.index {
			r.setRPFPrime(rt, r.computeRPFPrime(rt), false)
		}
	}
}

// neighborGone handles the asserts a departed neighbour had won (§4.6.1
// loser: "Current Winner's ... NLT expires" -> NoInfo [A5]).
func (r *Router) neighborGone(n *neighbor) {
	r.forWinner(n, func(d *downstream) { r.assertToNoInfo(d) })
}

// neighborRestarted reacts to a new GenID (§4.3.1): the neighbour lost its
// state, so routes joined toward it refresh soon (§4.5.7 "RPF'(S,G) GenID
// changes": decrease the Join Timer to t_override), and asserts it had won
// are forgotten (§4.6.1 "Current Winner's GenID changes" -> NoInfo [A5]).
func (r *Router) neighborRestarted(n *neighbor) {
	for rt := range r.routes.All {
		if rt.rpfPrime == n && rt.up == upJoined {
			r.decreaseJoinTimer(rt, r.tOverride(n.ifc))
		}
	}
	r.forWinner(n, func(d *downstream) { r.assertToNoInfo(d) })
}

func (r *Router) forWinner(n *neighbor, f func(d *downstream)) {
	for rt := range r.routes.All {
		if d := rt.downstream(n.ifc.index); d != nil && d.as == assertLoser && d.winnerMetric().addr == n.addr {
			f(d)
		}
	}
}

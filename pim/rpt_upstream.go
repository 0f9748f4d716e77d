package pim

import "net/netip"

// The upstream (S,G,rpt) state machine: "State Machine for (S,G,rpt)
// Triggered Messages" (RFC 4601 §4.5.9, RFC 7761 §4.5.7), and the Prune(S,G,rpt)
// entries that ride with every Join(*,G) ("(S,G,rpt) Periodic Messages",
// RFC 4601 §4.5.8; the packing rule of §4.5.10).

// rptUp summarises the upstream (S,G,rpt) state for the evaluation loop.
func (rt *route) rptUp() uint8 {
	if rt.rpt == nil {
		return 0
	}
	v := uint8(rt.rpt.up) + 1
	if rt.rpt.ot.running() {
		v += 4
	}
	return v
}

// rpfPrimeRpt is RPF'(S,G,rpt) (§4.5.9): the (S,G) assert winner on
// RPF_interface(RP(G)) when we lost an (S,G) assert there, else RPF'(*,G).
func (r *Router) rpfPrimeRpt(rt *route) *neighbor {
	wc := r.wcOf(rt)
	if wc == nil || !wc.rpfOK {
		return nil
	}
	if d := rt.downstream(wc.rpfIf); d != nil && d.as == assertLoser {
		if ifc := r.ifs[wc.rpfIf]; ifc != nil {
			return ifc.nbrs[d.winnerMetric().addr]
		}
		return nil
	}
	return wc.rpfPrime
}

// rptJoinDesired is RPTJoinDesired(G) = JoinDesired(*,G) (§4.5.9; RFC 7761
// has no (*,*,RP) part).
func (r *Router) rptJoinDesired(wc *route) bool {
	return wc != nil && r.joinDesired(wc)
}

// pruneDesired is PruneDesired(S,G,rpt) (§4.5.9) given RPTJoinDesired(G):
// inherited_olist(S,G,rpt) == NULL OR (SPTbit(S,G) AND RPF'(*,G) != RPF'(S,G)).
func (r *Router) pruneDesired(rt, wc *route) bool {
	if rt.sptbit && wc.rpfPrime != rt.rpfPrime {
		return true
	}
	return r.rptOlistEmpty(rt, wc)
}

// updateRptUpstream runs the transitions of the upstream (S,G,rpt) machine
// driven by RPTJoinDesired(G) and PruneDesired(S,G,rpt) (§4.5.9).
func (r *Router) updateRptUpstream(rt *route) {
	if !rt.asmSG() {
		return
	}
	wc := r.wcOf(rt)
	st := rt.rpt
	pruned := st != nil && st.up == rptUpPruned
	if !r.rptJoinDesired(wc) {
		// §4.5.9 Pruned / NotPruned: RPTJoinDesired(G) -> FALSE ->
		// RPTNotJoined(G); cancel the Override Timer. (No message: the
		// Prune(*,G) says it all.)
		if st != nil && (pruned || st.ot.running()) {
			st.up = rptUpNotPruned
			r.timers.stop(&st.ot)
			r.markDirty(rt)
		}
		return
	}
	pd := r.pruneDesired(rt, wc)
	if r.rpfPrimeRpt(rt) != wc.rpfPrime {
		st = r.ensureRpt(rt)
		st.diverted = true
	} else if st != nil && st.diverted {
		st.diverted = false
		if !pruned && !pd {
			// §4.5.9 NotPruned: "RPF'(S,G,rpt) -> RPF'(*,G)" (the (S,G)
			// assert on RPF_interface(RP(G)) ended): Override Timer =
			// min(Override Timer, t_override).
			r.setOverrideTimer(st, wc.rpfPrime)
		}
		r.markDirty(rt)
	}
	switch {
	case pd && !pruned:
		st = r.ensureRpt(rt)
		st.up = rptUpPruned
		r.timers.stop(&st.ot)
		if wc.up == upJoined {
			// §4.5.9 NotPruned: PruneDesired(S,G,rpt) -> TRUE -> Pruned:
			// send Prune(S,G,rpt) to RPF'(S,G,rpt), cancel the Override
			// Timer. (From RPTNotJoined(G) -> Pruned nothing is sent here:
			// the Prune rides with the Join(*,G), see addRptPrunes.)
			r.sendRpt(rt, false)
		}
	case !pd && pruned:
		// §4.5.9 Pruned: PruneDesired(S,G,rpt) -> FALSE -> NotPruned: send
		// Join(S,G,rpt) to RPF'(S,G,rpt).
		st.up = rptUpNotPruned
		r.sendRpt(rt, true)
		r.markDirty(rt)
	}
}

// sendRpt adds Join(S,G,rpt) (join) or Prune(S,G,rpt) for RPF'(S,G,rpt).
func (r *Router) sendRpt(rt *route, join bool) {
	n := r.rpfPrimeRpt(rt)
	if n == nil {
		return
	}
	if join {
		r.addRptEntry(n.ifc, n.addr, rt, true)
		return
	}
	r.addRptPrune(n, rt)
}

// addRptPrune adds Prune(S,G,rpt) to the message for n, once per message.
func (r *Router) addRptPrune(n *neighbor, rt *route) {
	st := r.ensureRpt(rt)
	if st.pruneRound == r.jpRound+1 && st.pruneTo == n {
		return // already in this round's message
	}
	st.pruneRound, st.pruneTo = r.jpRound+1, n
	r.addRptEntry(n.ifc, n.addr, rt, false)
}

// periodicRptPrune is the per-source rule of "(S,G,rpt) Periodic Messages"
// (RFC 4601 §4.5.8) for the message carrying Join(*,G) to RPF'(*,G):
// with the SPT bit, prune S off the shared tree only if RPF'(*,G) !=
// RPF'(S,G); else when inherited_olist(S,G,rpt) is empty, or when an (S,G)
// assert made RPF'(S,G,rpt) differ from RPF'(*,G).
func (r *Router) periodicRptPrune(rt, wc *route) bool {
	if rt.sptbit {
		return wc.rpfPrime != rt.rpfPrime
	}
	return r.rptOlistEmpty(rt, wc) || r.rpfPrimeRpt(rt) != wc.rpfPrime
}

// addRptPrunes adds to a Join(*,G) being sent to RPF'(*,G) the
// Prune(S,G,rpt) entries of RFC 4601 §4.5.8, in the same message as §4.5.10
// asks (a triggered Join(*,G) too: otherwise the upstream router would
// forward the pruned sources until the next periodic message). A source
// with PruneDesired(S,G,rpt) moves RPTNotJoined(G) / NotPruned -> Pruned
// here (§4.5.9), its Prune being in this very message.
func (r *Router) addRptPrunes(ifc *iface, upstream netip.Addr, wc *route) {
	ag := r.groups[wc.grp.As16()]
	n := wc.rpfPrime
	if ag == nil || n == nil || n.ifc != ifc || n.addr != upstream {
		return
	}
	for _, rt := range ag.srcs {
		if r.pruneDesired(rt, wc) && (rt.rpt == nil || rt.rpt.up != rptUpPruned) {
			st := r.ensureRpt(rt)
			st.up = rptUpPruned
			r.timers.stop(&st.ot)
			r.markDirty(rt)
		}
		if r.periodicRptPrune(rt, wc) {
			r.addRptPrune(n, rt)
		}
	}
}

// overrideTimerExpired: NotPruned: "Override Timer expires": send
// Override(S,G,rpt) (a Join(S,G,rpt)) to RPF'(S,G,rpt); leave the timer unset
// (§4.5.9).
func (r *Router) overrideTimerExpired(rt *route) {
	st := rt.rpt
	if st == nil || st.up != rptUpNotPruned {
		return
	}
	r.markDirty(rt)
	if !r.rptJoinDesired(r.wcOf(rt)) {
		return
	}
	r.sendRpt(rt, true)
}

// rptNotPrunedToward reports whether the upstream (S,G,rpt) machine of S is
// (or would be, without state) in NotPruned(S,G,rpt) with RPF'(S,G,rpt) =
// target on ifc. rt may be nil: with no (S,G) state, inherited_olist(S,G,rpt)
// is the (*,G) olist, non-empty when RPTJoinDesired(G).
func (r *Router) rptNotPrunedToward(ifc *iface, target *neighbor, wc, rt *route) bool {
	if !r.rptJoinDesired(wc) || !wc.rpfOK || wc.rpfIf != ifc.index {
		return false
	}
	if rt == nil {
		return wc.rpfPrime == target
	}
	if rt.rpt != nil && rt.rpt.up == rptUpPruned {
		return false
	}
	return r.rpfPrimeRpt(rt) == target && !r.pruneDesired(rt, wc)
}

// seePruneRpt is "See Prune(S,G,rpt) to RPF'(S,G,rpt)" and "See Prune(S,G)
// to RPF'(S,G,rpt)" (§4.5.9): in NotPruned(S,G,rpt), another router on the
// shared tree's upstream LAN pruned S that we still want: Override Timer =
// min(Override Timer, t_override), then a Join(S,G,rpt) overrides the prune.
// With no (S,G) state we are in NotPruned too, so the state is created.
func (r *Router) seePruneRpt(ifc *iface, target *neighbor, s, g netip.Addr) {
	if r.cfg.IsSSM(g) {
		return
	}
	ag := r.groups[g.As16()]
	if ag == nil || ag.wc == nil {
		return
	}
	rt := ag.srcs[s.As16()]
	if !r.rptNotPrunedToward(ifc, target, ag.wc, rt) {
		return
	}
	if rt == nil {
		rt = r.ensureRoute(s, g)
	}
	r.setOverrideTimer(r.ensureRpt(rt), target)
	r.markDirty(rt)
}

// setOverrideTimer sets the Override Timer to min(its value, t_override) of
// the upstream neighbour's link (§4.5.9).
func (r *Router) setOverrideTimer(st *rptState, n *neighbor) {
	if n == nil {
		return
	}
	when := r.after(r.tOverride(n.ifc))
	if !st.ot.running() || st.ot.when > when {
		r.timers.set(&st.ot, when)
	}
}

// seeWildcardPrune is "See Prune(*,G) to RPF'(S,G)" for the (S,G) entries
// of g (RFC 4601 §4.5.7, Joined): the upstream router may stop forwarding
// G's sources onto the LAN, so a joined (S,G) refreshes its Join within
// t_override.
func (r *Router) seeWildcardPrune(ifc *iface, target *neighbor, g netip.Addr) {
	ag := r.groups[g.As16()]
	if ag == nil {
		return
	}
	for _, rt := range ag.srcs {
		r.seePrune(ifc, target, rt.src, g)
	}
}

// seeJoinRpt is "See Join(S,G,rpt) to RPF'(S,G,rpt)" (§4.5.9): in
// NotPruned(S,G,rpt) someone else overrode the prune: cancel the Override
// Timer.
func (r *Router) seeJoinRpt(ifc *iface, target *neighbor, s, g netip.Addr) {
	rt := r.lookupRoute(s, g)
	if rt == nil || rt.rpt == nil || !rt.rpt.ot.running() {
		return
	}
	if !r.rptNotPrunedToward(ifc, target, r.wcOf(rt), rt) {
		return
	}
	r.timers.stop(&rt.rpt.ot)
	r.markDirty(rt)
}

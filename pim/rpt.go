package pim

import (
	"net/netip"
	"slices"
	"time"
)

// (S,G,rpt) state: a source S pruned off (or explicitly kept on) the shared
// tree of an ASM group G. Section numbers: RFC 7761 §4.5.3 "Receiving
// (S,G,rpt) Join/Prune Messages" (the downstream machine, RFC 4601 §4.5.4)
// and the upstream "State Machine for (S,G,rpt) Triggered Messages" (RFC 7761
// §4.5.7, RFC 4601 §4.5.9, cited below as §4.5.9 as in the task that asked
// for it); "(S,G,rpt) Periodic Messages" is RFC 4601 §4.5.8 (RFC 7761 §4.5.6).

// rptJPState is the downstream per-interface (S,G,rpt) state (§4.5.3).
type rptJPState uint8

const (
	rptNoInfo rptJPState = iota
	rptPrune
	rptPrunePending
	// The two temporary states exist only while one Join/Prune message that
	// carries a Join(*,G) is processed (§4.5.3 "End of Message").
	rptPruneTmp
	rptPrunePendingTmp
)

func (s rptJPState) String() string {
	switch s {
	case rptPrune:
		return "Prune"
	case rptPrunePending:
		return "PrunePending"
	case rptPruneTmp:
		return "PruneTmp"
	case rptPrunePendingTmp:
		return "PrunePendingTmp"
	}
	return "NoInfo"
}

// rptUpState is the stored part of the upstream (S,G,rpt) state (§4.5.9).
// RPTNotJoined(G) and NotPruned(S,G,rpt) need no storage: which of the two
// holds follows from RPTJoinDesired(G); only Pruned(S,G,rpt) (and a running
// Override Timer in NotPruned) is kept.
type rptUpState uint8

const (
	rptUpNotPruned rptUpState = iota // NotPruned or RPTNotJoined
	rptUpPruned
)

// rptState is the (S,G,rpt) state of one ASM (S,G) entry, allocated lazily.
type rptState struct {
	rt *route
	ds []*rptDownstream

	up rptUpState
	ot timer // Override Timer (§4.5.9)
	// diverted: RPF'(S,G,rpt) is an (S,G) assert winner, not RPF'(*,G); kept
	// to see the event "RPF'(S,G,rpt) -> RPF'(*,G)" (§4.5.9).
	diverted bool
	// pruneRound and pruneTo: the Join/Prune packing round (Router.jpRound)
	// in which a Prune(S,G,rpt) was last added and its upstream neighbour,
	// so one message carries it once.
	pruneRound uint64
	pruneTo    *neighbor
}

// rptDownstream is the (S,G,rpt) state on one downstream interface.
type rptDownstream struct {
	rt      *route
	ifindex int
	jp      rptJPState
	et      timer // Expiry Timer
	ppt     timer // Prune-Pending Timer
}

func (st *rptState) expire(r *Router, t *timer) {
	if t.kind == timerOverride {
		r.overrideTimerExpired(st.rt)
	}
}

func (d *rptDownstream) expire(r *Router, t *timer) {
	switch t.kind {
	case timerRptExpiry:
		r.rptExpiryTimerExpired(d)
	case timerRptPrunePending:
		r.rptPrunePendingExpired(d)
	}
}

func (st *rptState) downstream(ifindex int) *rptDownstream {
	for _, d := range st.ds {
		if d.ifindex == ifindex {
			return d
		}
	}
	return nil
}

// idle: nothing worth keeping (all NoInfo, NotPruned without Override Timer).
func (st *rptState) idle() bool {
	return len(st.ds) == 0 && st.up == rptUpNotPruned && !st.ot.running() && !st.diverted
}

// ensureRpt returns rt's (S,G,rpt) state, allocating it if needed.
func (r *Router) ensureRpt(rt *route) *rptState {
	if rt.rpt == nil {
		st := &rptState{rt: rt}
		st.ot.kind, st.ot.owner = timerOverride, st
		rt.rpt = st
		if ag := r.groups[rt.grp.As16()]; ag != nil {
			ag.nrpt++
		}
	}
	return rt.rpt
}

func (r *Router) ensureRptDownstream(rt *route, ifindex int) *rptDownstream {
	st := r.ensureRpt(rt)
	if d := st.downstream(ifindex); d != nil {
		return d
	}
	d := &rptDownstream{rt: rt, ifindex: ifindex}
	d.et.kind, d.et.owner = timerRptExpiry, d
	d.ppt.kind, d.ppt.owner = timerRptPrunePending, d
	st.ds = append(st.ds, d)
	return d
}

// rptDownstreamOn returns rt's (S,G,rpt) state on ifindex, nil when NoInfo.
func (rt *route) rptDownstreamOn(ifindex int) *rptDownstream {
	if rt.rpt == nil {
		return nil
	}
	return rt.rpt.downstream(ifindex)
}

// prunedRpt is I in prunes(S,G,rpt) (§4.1.6): DownstreamJPState(S,G,rpt,I)
// is Prune or PruneTmp.
func (rt *route) prunedRpt(ifindex int) bool {
	d := rt.rptDownstreamOn(ifindex)
	return d != nil && (d.jp == rptPrune || d.jp == rptPruneTmp)
}

func (r *Router) stopRptTimers(st *rptState) {
	r.timers.stop(&st.ot)
	for _, d := range st.ds {
		r.timers.stop(&d.et)
		r.timers.stop(&d.ppt)
	}
}

// dropRptDownstream forgets the (S,G,rpt) state on an interface that went away.
func (r *Router) dropRptDownstream(rt *route, ifindex int) {
	d := rt.rptDownstreamOn(ifindex)
	if d == nil {
		return
	}
	r.setRptNoInfo(d)
}

// collectRpt frees NoInfo interfaces and the whole state when idle; it
// reports whether some (S,G,rpt) state remains.
func (r *Router) collectRpt(rt *route) bool {
	st := rt.rpt
	if st == nil {
		return false
	}
	st.ds = slices.DeleteFunc(st.ds, func(d *rptDownstream) bool {
		if d.jp == rptNoInfo {
			r.timers.stop(&d.et)
			r.timers.stop(&d.ppt)
			return true
		}
		return false
	})
	if !st.idle() {
		return true
	}
	r.stopRptTimers(st)
	rt.rpt = nil
	if ag := r.groups[rt.grp.As16()]; ag != nil {
		ag.nrpt--
	}
	return false
}

// setRptNoInfo moves one interface to NoInfo and stops its timers.
func (r *Router) setRptNoInfo(d *rptDownstream) {
	if d.jp == rptNoInfo {
		return
	}
	d.jp = rptNoInfo
	r.timers.stop(&d.et)
	r.timers.stop(&d.ppt)
	r.markDirty(d.rt)
}

// rptDownstreamPrune is "Receive Prune(S,G,rpt)" on interface I (§4.5.3).
func (r *Router) rptDownstreamPrune(ifc *iface, s, g netip.Addr, holdtime time.Duration, forever bool) {
	rt := r.ensureRoute(s, g)
	d := r.ensureRptDownstream(rt, ifc.index)
	switch d.jp {
	case rptNoInfo:
		// §4.5.3 NoInfo -> PrunePending: start the Prune-Pending Timer at
		// J/P_Override_Interval(I) (zero with a single neighbour on I) and
		// the Expiry Timer at the HoldTime of the message.
		d.jp = rptPrunePending
		r.setRptExpiry(d, holdtime, forever, false)
		r.markDirty(rt)
		if len(ifc.nbrs) > 1 {
			r.timers.set(&d.ppt, r.after(r.jpOverrideInterval(ifc)))
			return
		}
		r.rptPrunePendingExpired(d)
	case rptPrune, rptPrunePending:
		// §4.5.3 Prune -> Prune (and PrunePending stays): restart the
		// Expiry Timer at max(current, HoldTime).
		r.setRptExpiry(d, holdtime, forever, true)
	case rptPruneTmp:
		// §4.5.3 PruneTmp -> Prune: the Prune(S,G,rpt) accompanies the
		// Join(*,G); restart the Expiry Timer at HoldTime.
		d.jp = rptPrune
		r.setRptExpiry(d, holdtime, forever, false)
		r.markDirty(rt)
	case rptPrunePendingTmp:
		// §4.5.3 PrunePendingTmp -> PrunePending: restart the Expiry Timer
		// at HoldTime; the Prune-Pending Timer keeps running.
		d.jp = rptPrunePending
		r.setRptExpiry(d, holdtime, forever, false)
		r.markDirty(rt)
	}
}

func (r *Router) setRptExpiry(d *rptDownstream, holdtime time.Duration, forever, keepLonger bool) {
	r.setExpiryTimer(&d.et, holdtime, forever, keepLonger)
}

// rptDownstreamJoin is "Receive Join(S,G,rpt)" on interface I (§4.5.3):
// Prune, PrunePending and the temporary states -> NoInfo, timers stopped.
func (r *Router) rptDownstreamJoin(ifc *iface, s, g netip.Addr) {
	rt := r.lookupRoute(s, g)
	if rt == nil {
		return // NoInfo: no action
	}
	if d := rt.rptDownstreamOn(ifc.index); d != nil {
		r.setRptNoInfo(d)
	}
}

// rptSeeWildcardJoin is "Receive Join(*,G)" for every (S,G,rpt) of G on I
// (§4.5.3): Prune -> PruneTmp, PrunePending -> PrunePendingTmp, until the
// end of the message decides. It reports whether any state changed.
func (r *Router) rptSeeWildcardJoin(ifc *iface, g netip.Addr) bool {
	ag := r.groups[g.As16()]
	if ag == nil || ag.nrpt == 0 {
		return false
	}
	changed := false
	for _, rt := range ag.srcs {
		d := rt.rptDownstreamOn(ifc.index)
		if d == nil {
			continue
		}
		switch d.jp {
		case rptPrune:
			d.jp = rptPruneTmp
			changed = true
		case rptPrunePending:
			d.jp = rptPrunePendingTmp
			changed = true
		}
	}
	return changed
}

// rptEndOfMessage is "End of Message" (§4.5.3) for group g on I: a source
// the message's Join(*,G) did not prune again is wanted on the shared tree:
// PruneTmp -> NoInfo (Expiry Timer stopped), PrunePendingTmp -> NoInfo
// (Prune-Pending and Expiry Timers stopped).
func (r *Router) rptEndOfMessage(ifc *iface, g netip.Addr) {
	ag := r.groups[g.As16()]
	if ag == nil || ag.nrpt == 0 {
		return
	}
	for _, rt := range ag.srcs {
		if d := rt.rptDownstreamOn(ifc.index); d != nil && (d.jp == rptPruneTmp || d.jp == rptPrunePendingTmp) {
			r.setRptNoInfo(d)
		}
	}
}

// rptPrunePendingExpired: PrunePending -> Prune (§4.5.3); the Expiry Timer
// keeps running.
func (r *Router) rptPrunePendingExpired(d *rptDownstream) {
	if d.jp != rptPrunePending {
		return
	}
	d.jp = rptPrune
	r.timers.stop(&d.ppt)
	r.markDirty(d.rt)
}

// rptExpiryTimerExpired: any state -> NoInfo (§4.5.3).
func (r *Router) rptExpiryTimerExpired(d *rptDownstream) {
	r.setRptNoInfo(d)
}

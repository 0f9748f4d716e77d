package pim

import (
	"time"

	"github.com/pim6d/pim6d/stack"
)

// DataSignal handles a signal from the forwarder.
//
//   - SignalData: an (S,G) packet was forwarded: restart the Keepalive Timer
//     (§4.1.2) and, when it came in on the RPF interface while we want the
//     tree, set the SPT bit (§4.2.2 Update_SPTbit, simplified: there is no
//     (*,G) tree to switch from yet).
//   - SignalWrongIIF: a packet arrived on another interface than its
//     entry's iif: start an (S,G) or (*,G) Assert there (§4.6.1, §4.6.2).
//   - SignalNoRoute: needs Register (not implemented); ignored.
func (r *Router) DataSignal(now time.Time, sig stack.DataSignal) {
	r.begin(now)
	defer r.finish()
	ifc := r.ifs[sig.LinkIndex]
	if ifc == nil {
		r.drop(ReasonUnknownInterface)
		return
	}
	if sig.Kind == stack.SignalWrongIIF {
		r.wrongIIF(ifc, sig.Src.WithZone(""), sig.Group.WithZone(""))
		return
	}
	rt := r.lookupRoute(sig.Src.WithZone(""), sig.Group.WithZone(""))
	if rt == nil {
		return
	}
	switch sig.Kind {
	case stack.SignalData:
		if rt.kat == nil {
			rt.kat = &timer{kind: timerKeepalive, owner: rt}
		}
		r.timers.set(rt.kat, r.after(r.cfg.KeepalivePeriod))
		if !rt.sptbit && rt.rpfOK && sig.LinkIndex == rt.rpfIf && rt.up == upJoined {
			rt.sptbit = true
			r.markDirty(rt)
		}
	}
}

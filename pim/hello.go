package pim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
)

// neighbor is one PIM neighbour on an interface (RFC 7761 §4.1.1, §4.3).
type neighbor struct {
	ifc       *iface
	addr      netip.Addr // primary (link-local) address
	secondary []netip.Addr

	genID     uint32
	hasGenID  bool
	drPrio    uint32
	hasDRPrio bool

	// LAN Prune Delay option (§4.3.3); lanDelay false when absent.
	lanDelay         bool
	tracking         bool // T bit
	propagationDelay time.Duration
	overrideInterval time.Duration

	holdtime uint16
	since    int64 // when we first heard it
	liveness timer // Neighbor Liveness Timer; stopped for holdtime 0xffff
}

func (n *neighbor) expire(r *Router, _ *timer) {
	// RFC 7761 §4.3.2: the Neighbor Liveness Timer expired: the neighbour is gone.
	r.stats.NeighborExpiries++
	r.removeNeighbor(n)
}

// sendHello sends a Hello on ifc announcing holdtime (0 = we are leaving).
func (r *Router) sendHello(ifc *iface, holdtime time.Duration) {
	ht := holdtimeSeconds(holdtime)
	h := &wire.Hello{
		Holdtime:      ht,
		HasHoldtime:   true,
		DRPriority:    ifc.drPrio,
		HasDRPriority: true,
		GenerationID:  ifc.genID,
		HasGenID:      true,
		LANPruneDelay: &wire.LANPruneDelay{
			TrackingSupport:  !r.cfg.DisableTracking,
			PropagationDelay: uint16(ifc.propagationDelay / time.Millisecond),
			OverrideInterval: uint16(ifc.overrideInterval / time.Millisecond),
		},
	}
	if len(ifc.secondary) > 0 {
		h.AddressList = slices.Clone(ifc.secondary)
	}
	ifc.helloOwed = false
	r.stats.HellosSent++
	r.send(ifc, AllPIMRouters, h)
}

// scheduleTriggeredHello arms the Hello Timer to a random delay in
// [0, Triggered_Hello_Delay] unless it fires sooner (§4.3.1). owed marks that
// a Join/Prune or Assert sent before then must be preceded by the Hello.
func (r *Router) scheduleTriggeredHello(ifc *iface, owed bool) {
	when := r.after(r.randDuration(r.cfg.TriggeredHelloDelay))
	if !ifc.helloTimer.running() || ifc.helloTimer.when > when {
		r.timers.set(&ifc.helloTimer, when)
	}
	if owed {
		ifc.helloOwed = true
	}
}

// payHelloDebt sends the owed triggered Hello now, ahead of a Join/Prune or
// Assert (§4.3.1), and restarts the periodic timer.
func (r *Router) payHelloDebt(ifc *iface) {
	if !ifc.helloOwed {
		return
	}
	r.sendHello(ifc, ifc.helloHoldtime)
	r.timers.set(&ifc.helloTimer, r.after(ifc.helloPeriod))
}

func (r *Router) receiveHello(ifc *iface, src netip.Addr, h *wire.Hello) {
	r.stats.HellosReceived++
	// §4.9.2: without the Holdtime option the default is 3.5 × Hello_Period.
	holdtime := holdtimeSeconds(DefaultHelloPeriod * 7 / 2)
	if h.HasHoldtime {
		holdtime = h.Holdtime
	}
	n := ifc.nbrs[src]
	if holdtime == 0 {
		// §4.3.2: holdtime 0 means the neighbour is leaving: time it out now.
		if n != nil {
			r.removeNeighbor(n)
		}
		return
	}
	isNew, restarted := n == nil, false
	if isNew {
		n = &neighbor{ifc: ifc, addr: src, since: r.now}
		n.liveness.kind = timerNeighbor
		n.liveness.owner = n
		ifc.nbrs[src] = n
	} else if h.HasGenID && n.hasGenID && h.GenerationID != n.genID {
		// §4.3.1: a new Generation ID from a known neighbour: it restarted and
		// lost its state.
		restarted = true
		r.stats.NeighborRestarts++
	}
	n.genID, n.hasGenID = h.GenerationID, h.HasGenID
	n.drPrio, n.hasDRPrio = h.DRPriority, h.HasDRPriority
	if d := h.LANPruneDelay; d != nil {
		n.lanDelay = true
		n.tracking = d.TrackingSupport
		n.propagationDelay = time.Duration(d.PropagationDelay) * time.Millisecond
		n.overrideInterval = time.Duration(d.OverrideInterval) * time.Millisecond
	} else {
		n.lanDelay, n.tracking, n.propagationDelay, n.overrideInterval = false, false, 0, 0
	}
	n.holdtime = holdtime
	if holdtime == 0xffff {
		r.timers.stop(&n.liveness) // §4.9.2: 0xffff: never time out
	} else {
		r.timers.set(&n.liveness, r.after(time.Duration(holdtime)*time.Second))
	}
	secondaryChanged := r.setSecondary(n, h.AddressList)

	if isNew || restarted {
		// §4.3.1: a Hello from a new neighbour or with a new GenID triggers a
		// Hello of ours after a random delay in [0, Triggered_Hello_Delay].
		r.scheduleTriggeredHello(ifc, true)
	}
	r.electDR(ifc)
	if restarted {
		r.neighborRestarted(n)
	}
	if isNew || secondaryChanged {
		// A neighbour (or one of its addresses) appeared: RPF'(S,G) of routes
		// whose next hop it is changes from NULL to it (§4.5.7).
		r.recheckNeighbors(ifc)
	}
}

// setSecondary records the Address List of a neighbour (§4.3.4) and reports
// whether it changed. An address another neighbour already listed moves to n:
// the latest Hello wins.
func (r *Router) setSecondary(n *neighbor, list []netip.Addr) bool {
	list = normalize(list)
	list = slices.DeleteFunc(list, func(a netip.Addr) bool { return a == n.addr || a.IsLinkLocalUnicast() })
	if slices.Equal(list, n.secondary) {
		return false
	}
	for _, a := range n.secondary {
		if n.ifc.bySecondary[a] == n {
			delete(n.ifc.bySecondary, a)
		}
	}
	for _, a := range list {
		if old := n.ifc.bySecondary[a]; old != nil && old != n {
			old.secondary = slices.DeleteFunc(old.secondary, func(b netip.Addr) bool { return b == a })
		}
		n.ifc.bySecondary[a] = n
	}
	n.secondary = list
	return true
}

func (r *Router) removeNeighbor(n *neighbor) {
	ifc := n.ifc
	if ifc.nbrs[n.addr] != n {
		return
	}
	r.timers.stop(&n.liveness)
	delete(ifc.nbrs, n.addr)
	for _, a := range n.secondary {
		if ifc.bySecondary[a] == n {
			delete(ifc.bySecondary, a)
		}
	}
	r.electDR(ifc)
	r.neighborGone(n)
	r.recheckNeighbors(ifc)
}

// electDR runs the DR election of RFC 7761 §4.3.2 on ifc and, when the DR
// changes, marks the routes whose olists depend on I_am_DR(I).
func (r *Router) electDR(ifc *iface) {
	// If any neighbour omitted the DR Priority option, the election uses
	// addresses only.
	usePrio := true
	for _, n := range ifc.nbrs {
		if !n.hasDRPrio {
			usePrio = false
			break
		}
	}
	dr, drPrio := ifc.linkLocal, ifc.drPrio
	for _, n := range ifc.nbrs {
		better := n.addr.Compare(dr) > 0
		if usePrio {
			better = n.drPrio > drPrio || (n.drPrio == drPrio && n.addr.Compare(dr) > 0)
		}
		if better {
			dr, drPrio = n.addr, n.drPrio
		}
	}
	isMe := dr == ifc.linkLocal
	if dr == ifc.dr && isMe == ifc.drIsMe {
		return
	}
	ifc.dr, ifc.drElects = dr, ifc.drElects+1
	if isMe != ifc.drIsMe {
		ifc.drIsMe = isMe
		// pim_include(S,G) depends on I_am_DR(I) (§4.1.6).
		for rt := range r.routes.All {
			if d := rt.downstream(ifc.index); d != nil && d.local != MembershipNone {
				r.markDirty(rt)
			}
		}
	}
}

// lanDelayEnabled is lan_delay_enabled(I) of RFC 7761 §4.3.3: every neighbour
// sent the LAN Prune Delay option.
func lanDelayEnabled(ifc *iface) bool {
	for _, n := range ifc.nbrs {
		if !n.lanDelay {
			return false
		}
	}
	return true
}

// effectivePropagationDelay is Effective_Propagation_Delay(I) (§4.3.3).
func (r *Router) effectivePropagationDelay(ifc *iface) time.Duration {
	if !lanDelayEnabled(ifc) {
		return DefaultPropagationDelay
	}
	d := ifc.propagationDelay
	for _, n := range ifc.nbrs {
		d = max(d, n.propagationDelay)
	}
	return d
}

// effectiveOverrideInterval is Effective_Override_Interval(I) (§4.3.3).
func (r *Router) effectiveOverrideInterval(ifc *iface) time.Duration {
	if !lanDelayEnabled(ifc) {
		return DefaultOverrideInterval
	}
	d := ifc.overrideInterval
	for _, n := range ifc.nbrs {
		d = max(d, n.overrideInterval)
	}
	return d
}

// suppressionEnabled is Suppression_Enabled(I) (§4.3.3): join suppression is
// off only when LAN delay is enabled and every router, us included, set the
// T bit.
func (r *Router) suppressionEnabled(ifc *iface) bool {
	if !lanDelayEnabled(ifc) || r.cfg.DisableTracking {
		return true
	}
	for _, n := range ifc.nbrs {
		if !n.tracking {
			return true
		}
	}
	return false
}

// jpOverrideInterval is J/P_Override_Interval(I) = Effective_Propagation_Delay(I)
// + Effective_Override_Interval(I) (§4.5.2).
func (r *Router) jpOverrideInterval(ifc *iface) time.Duration {
	return r.effectivePropagationDelay(ifc) + r.effectiveOverrideInterval(ifc)
}

// tOverride is t_override: a random delay in [0, Effective_Override_Interval(I)]
// (§4.5.7) after which a Join overrides a Prune we saw.
func (r *Router) tOverride(ifc *iface) time.Duration {
	return r.randDuration(r.effectiveOverrideInterval(ifc))
}

// tSuppressed is t_suppressed: rand(1.1 × t_periodic, 1.4 × t_periodic) when
// suppression is enabled on the interface, 0 otherwise (§4.5.7).
func (r *Router) tSuppressed(ifc *iface) time.Duration {
	if !r.suppressionEnabled(ifc) {
		return 0
	}
	p := r.cfg.JoinPrunePeriod
	return p*11/10 + r.randDuration(p*3/10)
}

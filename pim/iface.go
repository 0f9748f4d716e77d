package pim

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Interface describes a link PIM runs on.
type Interface struct {
	Index int
	Name  string
	MTU   int // link MTU; Join/Prune messages are packed to fit (1280 when zero)
	// LinkLocal is our link-local address on the link: the source of every
	// PIM message we send there and our identity in DR election and Assert.
	LinkLocal netip.Addr
	// Secondary are our other (global) addresses on the link, announced in the
	// Address List Hello option (RFC 7761 §4.3.4).
	Secondary []netip.Addr
	// DRPriority overrides Config.DRPriority on this link when non-zero.
	DRPriority uint32
	// HelloPeriod, PropagationDelay and OverrideInterval override the
	// router-wide values on this link when non-zero (RFC 7761 §4.11). The
	// Hello holdtime announced there is 3.5 × its Hello period.
	HelloPeriod      time.Duration
	PropagationDelay time.Duration
	OverrideInterval time.Duration
}

// iface is the per-interface PIM state (RFC 7761 §4.1.1).
type iface struct {
	index     int
	name      string
	mtu       int
	linkLocal netip.Addr
	secondary []netip.Addr
	drPrio    uint32
	genID     uint32

	helloTimer timer
	// helloOwed is set while a triggered Hello to a new or restarted
	// neighbour is pending: any Join/Prune or Assert we send first flushes it
	// (§4.3.1 "it MUST immediately send the relevant Hello message").
	helloOwed bool

	nbrs        map[netip.Addr]*neighbor // by primary (link-local) address
	bySecondary map[netip.Addr]*neighbor

	dr       netip.Addr // current DR's primary address (ours when we are DR)
	drIsMe   bool
	drElects int // how many times the DR changed (for Snapshot)

	// Per-link timing (Interface's values, or the router-wide defaults).
	helloPeriod, helloHoldtime         time.Duration
	propagationDelay, overrideInterval time.Duration
}

// setTiming applies an Interface's timing settings, falling back to cfg's.
func (ifc *iface) setTiming(cfg *Config, in Interface) {
	ifc.helloPeriod, ifc.helloHoldtime = cfg.HelloPeriod, cfg.HelloHoldtime
	if in.HelloPeriod > 0 {
		ifc.helloPeriod, ifc.helloHoldtime = in.HelloPeriod, in.HelloPeriod*7/2
	}
	ifc.propagationDelay = cmp.Or(in.PropagationDelay, cfg.PropagationDelay)
	ifc.overrideInterval = cmp.Or(in.OverrideInterval, cfg.OverrideInterval)
}

func (ifc *iface) expire(r *Router, t *timer) {
	// RFC 7761 §4.3.1: when the Hello Timer expires, send a Hello and restart
	// the timer at Hello_Period.
	r.sendHello(ifc, ifc.helloHoldtime)
	r.timers.set(&ifc.helloTimer, r.after(ifc.helloPeriod))
}

// isMyAddress reports whether a (zone-less) address is ours on ifc.
func (ifc *iface) isMyAddress(a netip.Addr) bool {
	return a == ifc.linkLocal || slices.Contains(ifc.secondary, a)
}

// neighborByAddr returns the neighbour on ifc known by a, its primary or one
// of its secondary addresses (NBR(I, addr), RFC 7761 §4.3.4 / §4.5.7).
func (ifc *iface) neighborByAddr(a netip.Addr) *neighbor {
	a = a.WithZone("")
	if n := ifc.nbrs[a]; n != nil {
		return n
	}
	return ifc.bySecondary[a]
}

// AddInterface starts PIM on a link. RFC 7761 §4.3.1: the Hello Timer starts at
// a random value in [0, Triggered_Hello_Delay] and a fresh Generation ID is
// chosen.
func (r *Router) AddInterface(now time.Time, in Interface) {
	r.begin(now)
	defer r.finish()
	if old := r.ifs[in.Index]; old != nil {
		r.removeInterface(old, true)
	}
	ifc := &iface{
		index:       in.Index,
		name:        in.Name,
		mtu:         in.MTU,
		linkLocal:   in.LinkLocal.WithZone(""),
		secondary:   normalize(in.Secondary),
		drPrio:      in.DRPriority,
		genID:       r.cfg.Rand.Uint32(),
		nbrs:        make(map[netip.Addr]*neighbor),
		bySecondary: make(map[netip.Addr]*neighbor),
	}
	if ifc.mtu <= 0 {
		ifc.mtu = 1280
	}
	ifc.setTiming(&r.cfg, in)
	if ifc.drPrio == 0 {
		ifc.drPrio = r.cfg.DRPriority
	}
	ifc.helloTimer.kind = timerHello
	ifc.helloTimer.owner = ifc
	r.ifs[in.Index] = ifc
	r.timers.set(&ifc.helloTimer, r.after(r.randDuration(r.cfg.TriggeredHelloDelay)))
	r.electDR(ifc)
	// Routes whose RPF interface or oifs involve this link are re-evaluated.
	r.recheckAllRPF()
}

// UpdateInterface changes the addresses, MTU or DR priority of a running link.
// A change of the link-local address is handled as RFC 7761 §4.3.1 asks
// ("a Hello with holdtime 0 from the old address, then Hellos from the new");
// other changes send a triggered Hello so neighbours learn them.
func (r *Router) UpdateInterface(now time.Time, in Interface) {
	r.begin(now)
	defer r.finish()
	ifc := r.ifs[in.Index]
	if ifc == nil {
		r.finish()
		r.AddInterface(now, in)
		return
	}
	ll := in.LinkLocal.WithZone("")
	if ll != ifc.linkLocal {
		r.sendHello(ifc, 0)
		ifc.linkLocal = ll
		ifc.genID = r.cfg.Rand.Uint32()
	}
	ifc.name = in.Name
	if in.MTU > 0 {
		ifc.mtu = in.MTU
	}
	ifc.secondary = normalize(in.Secondary)
	ifc.setTiming(&r.cfg, in)
	ifc.drPrio = in.DRPriority
	if ifc.drPrio == 0 {
		ifc.drPrio = r.cfg.DRPriority
	}
	r.scheduleTriggeredHello(ifc, false)
	r.electDR(ifc)
}

// RemoveInterface stops PIM on a link: a Hello with holdtime 0 tells the
// neighbours (§4.3.2), then all state on the link is dropped.
func (r *Router) RemoveInterface(now time.Time, index int) {
	r.begin(now)
	defer r.finish()
	if ifc := r.ifs[index]; ifc != nil {
		r.removeInterface(ifc, true)
	}
}

// Shutdown sends a Hello with holdtime 0 on every link (RFC 7761 §4.3.2:
// "a router that is shutting down ... should send a Hello with holdtime 0")
// and drops all state, without emitting Prunes.
func (r *Router) Shutdown(now time.Time) {
	r.begin(now)
	for _, idx := range r.interfaceIndexes() {
		r.sendHello(r.ifs[idx], 0)
	}
	for _, idx := range r.interfaceIndexes() {
		ifc := r.ifs[idx]
		r.stopInterfaceTimers(ifc)
		delete(r.ifs, idx)
	}
	for rt := range r.routes.All {
		r.stopRouteTimers(rt)
		r.routes.Delete(routeKey(rt))
	}
	clear(r.groups)
	r.dirty = r.dirty[:0]
	r.pacer.reset(r)
	clear(r.jp)
	r.jpKeys = r.jpKeys[:0]
}

func (r *Router) removeInterface(ifc *iface, goodbye bool) {
	if goodbye {
		r.sendHello(ifc, 0)
	}
	r.stopInterfaceTimers(ifc)
	delete(r.ifs, ifc.index)
	for rt := range r.routes.All {
		if d := rt.downstream(ifc.index); d != nil {
			r.dropDownstream(rt, d)
		}
		r.dropRptDownstream(rt, ifc.index)
		if rt.rpfIf == ifc.index {
			r.markDirty(rt)
		}
	}
	r.recheckAllRPF()
}

func (r *Router) stopInterfaceTimers(ifc *iface) {
	r.timers.stop(&ifc.helloTimer)
	for _, n := range ifc.nbrs {
		r.timers.stop(&n.liveness)
	}
}

func (r *Router) interfaceIndexes() []int {
	idx := make([]int, 0, len(r.ifs))
	for i := range r.ifs {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

func normalize(as []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		if a.IsValid() {
			out = append(out, a.WithZone(""))
		}
	}
	return out
}

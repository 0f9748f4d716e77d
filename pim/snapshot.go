package pim

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6d/pim6d/internal/prefault"
)

// Snapshot is a copy of the router's state for pim6stat and the UI.
type Snapshot struct {
	Interfaces []InterfaceState
	Routes     []RouteState
	// Drops counts rejected inputs by reason (Reason.String(), and
	// "codec-..." for packets the codec refused).
	Drops map[string]uint64
	Stats Stats
	// PacerPending is the number of periodic Join refreshes waiting to go out.
	PacerPending int
}

// InterfaceState is one PIM interface.
type InterfaceState struct {
	Index      int
	Name       string
	LinkLocal  netip.Addr
	Secondary  []netip.Addr
	GenID      uint32
	DRPriority uint32
	DR         netip.Addr // the elected DR's primary address
	IsDR       bool
	HelloIn    time.Duration // until the next Hello
	// Effective LAN values (§4.3.3).
	LANDelayEnabled    bool
	PropagationDelay   time.Duration
	OverrideInterval   time.Duration
	SuppressionEnabled bool
	Neighbors          []NeighborState
}

// NeighborState is one neighbour.
type NeighborState struct {
	Addr          netip.Addr
	Secondary     []netip.Addr
	Expires       time.Duration // 0 with Holdtime 0xffff: never
	Holdtime      uint16
	Uptime        time.Duration
	HasDRPriority bool
	DRPriority    uint32
	HasGenID      bool
	GenID         uint32
	LANPruneDelay bool
	Tracking      bool
	PropDelay     time.Duration
	OverrideIntvl time.Duration
	IsDR          bool
}

// RouteState is one (S,G) entry.
type RouteState struct {
	Source, Group netip.Addr
	Flags         Flags
	IIF           int
	Upstream      netip.Addr // RPF'(S,G)
	MRIBNextHop   netip.Addr
	MetricPref    uint32
	Metric        uint32
	UpstreamState string        // Joined / NotJoined
	JoinTimer     time.Duration // 0 when stopped or waiting in the pacer
	Keepalive     time.Duration
	OIFs          []int
	Joined        []int
	Pruned        []int
	Leaves        []int
	Asserted      []int
	// (S,G,rpt) of an ASM (S,G) entry (empty for SSM and (*,G) entries):
	// RptPruned is prunes(S,G,rpt), RptUpstreamState the upstream (S,G,rpt)
	// state (RPTNotJoined / Pruned / NotPruned, §4.5.9) and OverrideTimer
	// its Override Timer (0 when stopped).
	RptPruned        []int
	RptUpstreamState string
	OverrideTimer    time.Duration
	PerInterface     []RouteInterfaceState
}

// RouteInterfaceState is the per-interface state of an (S,G).
type RouteInterfaceState struct {
	Index        int
	JoinState    string // NoInfo / Join / PrunePending
	Expiry       time.Duration
	PrunePending time.Duration
	Local        string // none / include / exclude
	AssertState  string // NoInfo / Winner / Loser
	AssertTimer  time.Duration
	AssertWinner netip.Addr
	WinnerPref   uint32
	WinnerMetric uint32
	// The downstream (S,G,rpt) state (§4.5.3): NoInfo / Prune /
	// PrunePending, and its Expiry and Prune-Pending Timers.
	RptJoinState    string
	RptExpiry       time.Duration
	RptPrunePending time.Duration
}

// SnapshotSpace is memory for a Capture of many routes, allocated by the
// caller off the event loop: the capture then fills it without allocating
// (or faulting in) tens of megabytes while the protocols wait.
type SnapshotSpace struct {
	routes []RouteState
	ints   []int
	perIf  []RouteInterfaceState
}

// NewSnapshotSpace returns space for a capture of up to routes routes (see
// RouteCount); a capture of more allocates the rest itself.
func NewSnapshotSpace(routes int) *SnapshotSpace {
	sp := &SnapshotSpace{
		routes: make([]RouteState, 0, routes),
		ints:   make([]int, 0, 2*routes+16),
		perIf:  make([]RouteInterfaceState, 0, routes+8),
	}
	// Fault the pages in here, off the loop (see package prefault).
	prefault.Slice(sp.routes)
	prefault.Slice(sp.ints)
	prefault.Slice(sp.perIf)
	return sp
}

// Capture returns the state at now, its routes in no particular order (see
// SortRoutes).
func (r *Router) Capture(now time.Time) Snapshot { return r.CaptureIn(now, nil) }

// CaptureIn is Capture into the caller's space (nil: allocate).
func (r *Router) CaptureIn(now time.Time, sp *SnapshotSpace) Snapshot {
	n := now.UnixNano()
	s := Snapshot{Drops: make(map[string]uint64), Stats: r.stats, PacerPending: r.pacer.pending()}
	for reason, c := range r.drops {
		if c > 0 {
			s.Drops[Reason(reason).String()] = c
		}
	}
	for k, c := range r.codecDrops {
		s.Drops[k] = c
	}
	for _, idx := range r.interfaceIndexes() {
		ifc := r.ifs[idx]
		is := InterfaceState{
			Index: ifc.index, Name: ifc.name, LinkLocal: ifc.linkLocal,
			Secondary: slices.Clone(ifc.secondary), GenID: ifc.genID, DRPriority: ifc.drPrio,
			DR: ifc.dr, IsDR: ifc.drIsMe, HelloIn: ifc.helloTimer.remaining(n),
			LANDelayEnabled:    lanDelayEnabled(ifc),
			PropagationDelay:   r.effectivePropagationDelay(ifc),
			OverrideInterval:   r.effectiveOverrideInterval(ifc),
			SuppressionEnabled: r.suppressionEnabled(ifc),
		}
		for _, nb := range ifc.nbrs {
			is.Neighbors = append(is.Neighbors, NeighborState{
				Addr: nb.addr, Secondary: slices.Clone(nb.secondary),
				Expires: nb.liveness.remaining(n), Holdtime: nb.holdtime, Uptime: time.Duration(n - nb.since),
				HasDRPriority: nb.hasDRPrio, DRPriority: nb.drPrio, HasGenID: nb.hasGenID, GenID: nb.genID,
				LANPruneDelay: nb.lanDelay, Tracking: nb.tracking, PropDelay: nb.propagationDelay,
				OverrideIntvl: nb.overrideInterval, IsDR: nb.addr == ifc.dr,
			})
		}
		slices.SortFunc(is.Neighbors, func(a, b NeighborState) int { return a.Addr.Compare(b.Addr) })
		s.Interfaces = append(s.Interfaces, is)
	}
	if sp == nil || cap(sp.routes) < r.routes.Len() {
		sp = NewSnapshotSpace(r.routes.Len())
	}
	// Index lists and per-interface states of all routes share a few large
	// arrays: at 100,000 routes this copy runs on the event loop.
	s.Routes = sp.routes[:0]
	arena, perIf := sp.ints[:0], sp.perIf[:0]
	for rt := range r.routes.All {
		var fc ForwardingChange
		fc, arena = r.forwardingIn(rt, arena)
		rs := RouteState{
			Source: rt.src, Group: rt.grp, Flags: fc.Flags, IIF: fc.IIF, Upstream: fc.Upstream,
			MRIBNextHop: rt.rpfNexthop, MetricPref: rt.mribPref, Metric: rt.mribMetric,
			UpstreamState: rt.up.String(), JoinTimer: rt.jt.remaining(n), Keepalive: rt.kat.remaining(n),
			OIFs: fc.OIFs, Joined: fc.Joined, Pruned: fc.Pruned, Leaves: fc.Leaves, Asserted: fc.Asserted,
			RptPruned: fc.RptPruned,
		}
		if rt.asmSG() {
			rs.RptUpstreamState = r.rptUpstreamName(rt)
			if rt.rpt != nil {
				rs.OverrideTimer = rt.rpt.ot.remaining(n)
			}
		}
		from := len(perIf)
		for _, d := range rt.ds {
			is := RouteInterfaceState{
				Index: d.ifindex, JoinState: d.jp.String(), Expiry: d.et.remaining(n),
				PrunePending: d.prunePendingLeft(n), Local: d.local.String(), AssertState: d.as.String(),
				AssertTimer: d.assertTimerLeft(n), AssertWinner: d.winnerMetric().addr,
				WinnerPref: d.winnerMetric().pref, WinnerMetric: d.winnerMetric().metric,
			}
			if rt.asmSG() {
				is.RptJoinState = rptNoInfo.String()
			}
			perIf = append(perIf, is)
		}
		rs.PerInterface = perIf[from:len(perIf):len(perIf)]
		if rt.rpt != nil {
			for _, d := range rt.rpt.ds {
				i := slices.IndexFunc(rs.PerInterface, func(x RouteInterfaceState) bool { return x.Index == d.ifindex })
				if i < 0 {
					rs.PerInterface = append(rs.PerInterface, RouteInterfaceState{Index: d.ifindex,
						JoinState: jpNoInfo.String(), Local: MembershipNone.String(), AssertState: assertNoInfo.String()})
					i = len(rs.PerInterface) - 1
				}
				is := &rs.PerInterface[i]
				is.RptJoinState, is.RptExpiry, is.RptPrunePending = d.jp.String(), d.et.remaining(n), d.ppt.remaining(n)
			}
		}
		slices.SortFunc(rs.PerInterface, func(a, b RouteInterfaceState) int { return cmp.Compare(a.Index, b.Index) })
		s.Routes = append(s.Routes, rs)
	}
	return s
}

// Snapshot returns the state at now. Routes are sorted by group then source.
func (r *Router) Snapshot(now time.Time) Snapshot {
	s := r.Capture(now)
	s.SortRoutes()
	return s
}

// SortRoutes sorts the routes by group then source. Capture leaves them in
// no order so that the sorting (the larger part of a big snapshot's cost)
// can run off the event loop.
func (s *Snapshot) SortRoutes() {
	slices.SortFunc(s.Routes, func(a, b RouteState) int {
		return cmp.Or(a.Group.Compare(b.Group), a.Source.Compare(b.Source))
	})
}

// RouteCount returns the number of (S,G) entries.
func (r *Router) RouteCount() int { return r.routes.Len() }

// rptUpstreamName names the upstream (S,G,rpt) state of an ASM (S,G) entry.
func (r *Router) rptUpstreamName(rt *route) string {
	switch {
	case rt.rpt != nil && rt.rpt.up == rptUpPruned:
		return "Pruned"
	case r.rptJoinDesired(r.wcOf(rt)):
		return "NotPruned"
	}
	return "RPTNotJoined"
}

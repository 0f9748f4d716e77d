package pim

import (
	"net/netip"
	"slices"
	"strings"
)

// Flags describe a forwarding entry for mfib and pim6stat.
type Flags uint16

const (
	// FlagSPT: the iif is toward the source (the SPT bit, §4.1.3).
	FlagSPT Flags = 1 << iota
	// FlagSSM: the group is in the SSM range (RFC 4607).
	FlagSSM
	// FlagWC: a (*,G) entry: mfib installs (G/128, ::/0).
	FlagWC
	// FlagNotifyWrongIIF: mfib should ask the forwarder for wrong-iif signals
	// (an oif may need to Assert, §4.6).
	FlagNotifyWrongIIF
	// FlagNotifyData: mfib should ask for data signals (the Keepalive Timer,
	// §4.1.2; ASM entries only).
	FlagNotifyData
	// FlagRPT: an ASM (S,G) entry on the shared tree: S's packets come down
	// the RP tree (the iif is toward RP(G)) and go to inherited_olist(S,G,rpt),
	// i.e. the (*,G) oifs minus those where S was pruned (§4.2, §4.5.3).
	FlagRPT

	flagsEnd // not a flag: one past the last
)

// The flags must fit a byte: router keeps them in the high byte of the table
// route's flags. A flag past bit 7 makes this constant overflow.
const _ = uint8(flagsEnd - 1)

func (f Flags) String() string {
	var parts []string
	for _, x := range []struct {
		f Flags
		s string
	}{{FlagSPT, "SPT"}, {FlagSSM, "SSM"}, {FlagWC, "WC"}, {FlagNotifyWrongIIF, "NOTIFY_WRONG_IIF"}, {FlagNotifyData, "NOTIFY_DATA"}, {FlagRPT, "RPT"}} {
		if f&x.f != 0 {
			parts = append(parts, x.s)
		}
	}
	return strings.Join(parts, "|")
}

// ForwardingChange is a change of one entry's forwarding state, computed with
// the olist macros of RFC 7761 §4.1.6. mfib installs (Group, Source) → (IIF,
// OIFs); the reason sets are for display.
type ForwardingChange struct {
	Source  netip.Addr // :: for (*,G)
	Group   netip.Addr
	Deleted bool // the entry is gone: remove the route

	IIF      int   // RPF interface; 0 when there is no RPF
	OIFs     []int // sorted; never contains IIF. All slices are read-only.
	Joined   []int // joins(S,G): downstream Join or PrunePending
	Pruned   []int // PrunePending: a Prune is waiting for an override
	Leaves   []int // pim_include(S,G): local listeners we forward to
	Asserted []int // lost_assert(S,G): an assert winner forwards instead
	// RptPruned is prunes(S,G,rpt): interfaces where S was pruned off the
	// shared tree (ASM (S,G) entries only).
	RptPruned []int
	Flags     Flags
	Upstream  netip.Addr // RPF'(S,G), invalid when none
}

// isDR is I_am_DR(I).
func (r *Router) isDR(ifindex int) bool {
	ifc := r.ifs[ifindex]
	return ifc != nil && ifc.drIsMe
}

// lostAssert is lost_assert(S,G,I) (§4.1.6 / §4.6.5).
func (rt *route) lostAssert(d *downstream) bool {
	return d.ifindex != rt.rpfIf && d.as == assertLoser
}

// included is I in pim_include(S,G): ((I_am_DR(I) AND NOT lost_assert(S,G,I))
// OR AssertWinner(S,G,I) == me) AND local_receiver_include(S,G,I).
func (r *Router) included(rt *route, d *downstream) bool {
	if d.local != MembershipInclude {
		return false
	}
	return (r.isDR(d.ifindex) && !rt.lostAssert(d)) || d.as == assertWinner
}

func joined(d *downstream) bool { return d.jp == jpJoin || d.jp == jpPrunePending }

// inOlist is I in immediate_olist(S,G) = joins(S,G) (+) pim_include(S,G) (-)
// lost_assert(S,G), which for (*,G) and SSM (S,G) is also their inherited
// olist (ASM (S,G) entries inherit the (*,G) olist: olist_asm.go). The RPF
// interface is never an oif (§4.2).
func (r *Router) inOlist(rt *route, d *downstream) bool {
	if rt.rpfOK && d.ifindex == rt.rpfIf {
		return false
	}
	return (joined(d) || r.included(rt, d)) && !rt.lostAssert(d)
}

// joinDesired is JoinDesired(S,G) (§4.5.7): immediate_olist(S,G) != NULL, or
// the Keepalive Timer runs and inherited_olist(S,G) != NULL. For (*,G) it is
// JoinDesired(*,G) = immediate_olist(*,G) != NULL (§4.5.6).
func (r *Router) joinDesired(rt *route) bool {
	for _, d := range rt.ds {
		if r.inOlist(rt, d) {
			return true
		}
	}
	return rt.asmSG() && rt.kat.running() && r.inheritedNonEmpty(rt)
}

// couldAssert is CouldAssert(S,G,I) (§4.6.1): SPTbit(S,G) AND RPF_interface(S)
// != I AND I in joins(S,G) (+) pim_include(S,G) (+) the shared-tree part
// (ASM only, wcForwardsSource). For a (*,G) entry it is CouldAssert(*,G,I)
// (§4.6.2): RPF_interface(RP(G)) != I AND I in joins(*,G) (+)
// pim_include(*,G); like (S,G), it also needs a route toward the root
// (without one our rpt_assert_metric would be meaningless).
func (r *Router) couldAssert(rt *route, ifc *iface) bool {
	if !(rt.ssm || rt.sptbit || rt.wc) || !rt.rpfOK || rt.rpfIf == ifc.index {
		return false
	}
	d := rt.downstream(ifc.index)
	if d != nil && (joined(d) || r.included(rt, d)) {
		return true
	}
	return !rt.ssm && !rt.wc && r.wcForwardsSource(rt, ifc)
}

// assertTrackingDesired is AssertTrackingDesired(S,G,I) (§4.6.1), and for a
// (*,G) entry AssertTrackingDesired(*,G,I), whose terms are the same on the
// (*,G) state (RPTJoinDesired(G) being JoinDesired(*,G)). An ASM (S,G) entry
// also tracks the Asserts for S where we forward G from the shared tree.
func (r *Router) assertTrackingDesired(rt *route, ifc *iface) bool {
	d := rt.downstream(ifc.index)
	if d != nil {
		if joined(d) {
			return true
		}
		if d.local == MembershipInclude && (ifc.drIsMe || d.as == assertWinner) {
			return true
		}
	}
	if rt.rpfOK && rt.rpfIf == ifc.index && rt.up == upJoined {
		return true
	}
	return !rt.ssm && !rt.wc && r.wcTracksSourceAsserts(rt, rt.grp, ifc)
}

// evaluate re-runs the macro-driven transitions of one route until they settle:
// the upstream state from JoinDesired, and the assert predicates.
func (r *Router) evaluate(rt *route) {
	for range 4 {
		up, before, rpt := rt.up, assertSignature(rt), rt.rptUp()
		r.updateUpstream(rt, r.joinDesired(rt))
		r.updateRptUpstream(rt)
		r.updateAssertPredicates(rt)
		if rt.up == up && before == assertSignature(rt) && rpt == rt.rptUp() {
			return
		}
	}
}

// assertSignature summarises the assert states of rt's interfaces (to detect
// that an evaluation round changed one) without allocating.
func assertSignature(rt *route) uint64 {
	var sig uint64
	for i, d := range rt.ds {
		sig = sig*3 + uint64(d.as) + uint64(i)<<40
	}
	return sig
}

func (r *Router) flags(rt *route) Flags {
	var f Flags
	if rt.wc {
		return FlagWC
	}
	if rt.onRPT() {
		return FlagRPT
	}
	if rt.ssm || rt.sptbit {
		f |= FlagSPT
	}
	if rt.ssm {
		f |= FlagSSM
	} else {
		f |= FlagNotifyData
	}
	return f
}

// forwarding computes the entry's forwarding state.
func (r *Router) forwarding(rt *route) ForwardingChange {
	fc, _ := r.forwardingIn(rt, nil)
	return fc
}

// forwardingIn is forwarding with the index lists carved from arena (nil:
// allocated), which it returns grown: a snapshot of many routes then costs
// a few large allocations instead of several small ones per route. OIFs is
// always allocated on its own (emitForwarding keeps it as lastOIFs).
func (r *Router) forwardingIn(rt *route, arena []int) (ForwardingChange, []int) {
	fc := ForwardingChange{Source: rt.src, Group: rt.grp}
	fc.IIF = r.fwdIIF(rt)
	fc.Flags = r.flags(rt)
	if rt.onRPT() {
		if n := r.rpfPrimeRpt(rt); n != nil {
			fc.Upstream = n.addr
		}
	} else if rt.rpfPrime != nil {
		fc.Upstream = rt.rpfPrime.addr
	}
	carve := func(from int) []int {
		if len(arena) == from {
			return nil
		}
		part := arena[from:len(arena):len(arena)]
		slices.Sort(part)
		return part
	}
	if arena == nil {
		fc.OIFs = r.appendOIFs(nil, rt)
		slices.Sort(fc.OIFs)
	} else {
		from := len(arena)
		arena = r.appendOIFs(arena, rt)
		fc.OIFs = carve(from)
	}
	if rt.rpt != nil {
		from := len(arena)
		for _, d := range rt.rpt.ds {
			if rt.prunedRpt(d.ifindex) {
				arena = append(arena, d.ifindex)
			}
		}
		fc.RptPruned = carve(from)
	}
	from := len(arena)
	for _, d := range rt.ds {
		if joined(d) {
			arena = append(arena, d.ifindex)
		}
	}
	fc.Joined = carve(from)
	from = len(arena)
	for _, d := range rt.ds {
		if d.jp == jpPrunePending {
			arena = append(arena, d.ifindex)
		}
	}
	fc.Pruned = carve(from)
	from = len(arena)
	for _, d := range rt.ds {
		if r.included(rt, d) {
			arena = append(arena, d.ifindex)
		}
	}
	fc.Leaves = carve(from)
	from = len(arena)
	for _, d := range rt.ds {
		if rt.lostAssert(d) {
			arena = append(arena, d.ifindex)
		}
	}
	fc.Asserted = carve(from)
	if len(fc.OIFs) > 0 {
		fc.Flags |= FlagNotifyWrongIIF
	}
	return fc, arena
}

// emitForwarding appends a ForwardingChange when the entry's iif, oifs or
// flags differ from what mfib last saw.
func (r *Router) emitForwarding(rt *route) {
	if r.routes.Get(routeKey(rt)) != rt {
		return
	}
	if !r.installable(rt) {
		// An ASM (S,G) entry that forwards as its (*,G) does: no entry of
		// its own (and the one it had goes).
		if rt.emitted {
			r.changes = append(r.changes, ForwardingChange{Source: rt.src, Group: rt.grp, Deleted: true})
			rt.emitted, rt.lastOIFs = false, nil
		}
		return
	}
	// Cheap check first: most re-evaluations change no oif.
	iif, flags := r.fwdIIF(rt), r.flags(rt)
	r.scratch = r.appendOIFs(r.scratch[:0], rt)
	if len(r.scratch) > 0 {
		flags |= FlagNotifyWrongIIF
	}
	slices.Sort(r.scratch)
	if rt.emitted && iif == int(rt.lastIIF) && flags == rt.lastFlag && slices.Equal(r.scratch, rt.lastOIFs) {
		return
	}
	fc := r.forwarding(rt)
	if !rt.emitted && len(fc.OIFs) == 0 && rt.up == upNotJoined && !rt.onRPT() {
		// Nothing to forward and nothing installed yet: stay quiet (state
		// being set up, e.g. an Assert or a prune for an unknown entry).
		// An (S,G) entry pruned off the shared tree must be installed even
		// with no oif: it stops the (*,G) entry from forwarding S.
		return
	}
	rt.emitted, rt.lastIIF, rt.lastFlag = true, int32(fc.IIF), fc.Flags
	rt.lastOIFs = fc.OIFs // shared with the change handed out: read-only
	r.changes = append(r.changes, fc)
}

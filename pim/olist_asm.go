package pim

import "net/netip"

// The olist macros of RFC 7761 §4.1.6 for ASM (S,G) entries, which inherit
// the (*,G) olist, and the group index that lets a (*,G) change reach them.

// asmGroup indexes the ASM entries of one group: its (*,G) entry and its
// (S,G) entries. SSM entries are never indexed (no (*,G) in the SSM range).
type asmGroup struct {
	wc   *route
	rp   netip.Addr // RP(G) of the (*,G) entry (invalid: none known)
	srcs map[[16]byte]*route
	// nrpt counts the srcs holding (S,G,rpt) state, so that a Join(*,G)
	// refresh skips the scan of a group where no source is pruned.
	nrpt int
}

// indexRoute adds a new ASM entry to its group's index.
func (r *Router) indexRoute(rt *route) {
	if rt.ssm {
		return
	}
	k := rt.grp.As16()
	ag := r.groups[k]
	if ag == nil {
		ag = &asmGroup{}
		r.groups[k] = ag
	}
	if rt.wc {
		ag.wc = rt
		return
	}
	if ag.srcs == nil {
		ag.srcs = make(map[[16]byte]*route)
	}
	ag.srcs[rt.src.As16()] = rt
}

// rpOfWC is RP(G) for a (*,G) entry, as last resolved (invalid: none).
func (r *Router) rpOfWC(rt *route) netip.Addr {
	if ag := r.groups[rt.grp.As16()]; ag != nil {
		return ag.rp
	}
	return netip.Addr{}
}

// setRP records RP(G) for a (*,G) entry (indexed already).
func (r *Router) setRP(rt *route, rp netip.Addr) {
	if ag := r.groups[rt.grp.As16()]; ag != nil {
		if rp.IsValid() {
			rp = rp.WithZone("")
		}
		ag.rp = rp
	}
}

// unindexRoute removes a deleted ASM entry from its group's index.
func (r *Router) unindexRoute(rt *route) {
	if rt.ssm {
		return
	}
	k := rt.grp.As16()
	ag := r.groups[k]
	if ag == nil {
		return
	}
	if rt.wc {
		if ag.wc == rt {
			ag.wc = nil
		}
	} else if ag.srcs[rt.src.As16()] == rt {
		delete(ag.srcs, rt.src.As16())
	}
	if ag.wc == nil && len(ag.srcs) == 0 {
		delete(r.groups, k)
	}
}

// wcOf returns the (*,G) entry of an ASM (S,G) entry's group, nil if none.
func (r *Router) wcOf(rt *route) *route {
	if rt.ssm || rt.wc {
		return nil
	}
	if ag := r.groups[rt.grp.As16()]; ag != nil {
		return ag.wc
	}
	return nil
}

// dirtyGroup marks the (S,G) entries of a (*,G) entry's group for
// re-evaluation: their inherited olists, RPTJoinDesired(G) and RPF'(*,G)
// follow the (*,G) entry.
func (r *Router) dirtyGroup(wc *route) {
	ag := r.groups[wc.grp.As16()]
	if ag == nil {
		return
	}
	for _, rt := range ag.srcs {
		r.markDirty(rt)
	}
}

// pimIncludeWC is I in pim_include(*,G) (§4.1.6): ((I_am_DR(I) AND NOT
// lost_assert(*,G,I)) OR AssertWinner(*,G,I) == me) AND
// local_receiver_include(*,G,I).
func (r *Router) pimIncludeWC(g netip.Addr, wcd *downstream) bool {
	return wcd != nil && wcd.local == MembershipInclude && r.localCountsWC(g, wcd.ifindex, wcd)
}

// pimExclude is I in pim_exclude(S,G) (§4.1.6): ((I_am_DR(I) AND NOT
// lost_assert(*,G,I)) OR AssertWinner(*,G,I) == me) AND
// local_receiver_exclude(S,G,I).
func (r *Router) pimExclude(g netip.Addr, d, wcd *downstream) bool {
	return d != nil && d.local == MembershipExclude && r.localCountsWC(g, d.ifindex, wcd)
}

// localCountsWC is the condition pim_include(*,G) and pim_exclude(S,G) put
// on local listeners of I: (I_am_DR(I) AND NOT lost_assert(*,G,I)) OR
// AssertWinner(*,G,I) == me. wcd is the (*,G) state on I (may be nil).
func (r *Router) localCountsWC(g netip.Addr, ifindex int, wcd *downstream) bool {
	if wcd != nil && wcd.as == assertWinner {
		return true
	}
	return r.isDR(ifindex) && !r.lostAssertWC(g, ifindex)
}

// lostAssertRpt is lost_assert(S,G,rpt,I) (§4.1.6): never on
// RPF_interface(RP(G)), nor on RPF_interface(S) with the SPT bit set; else
// whether an (S,G) assert winner other than us exists on I.
func (rt *route) lostAssertRpt(wc *route, ifindex int, d *downstream) bool {
	if wc != nil && wc.rpfOK && wc.rpfIf == ifindex {
		return false
	}
	if rt.rpfOK && rt.rpfIf == ifindex && rt.sptbit {
		return false
	}
	return d != nil && d.as == assertLoser
}

// inRptOlist is I in inherited_olist(S,G,rpt) (§4.1.6):
//
//	( joins(*,G) (-) prunes(S,G,rpt) ) (+) ( pim_include(*,G) (-) pim_exclude(S,G) )
//	(-) ( lost_assert(*,G) (+) lost_assert(S,G,rpt) )
//
// d and wcd are the (S,G) and (*,G) states on I (either may be nil).
func (r *Router) inRptOlist(rt, wc *route, ifindex int, d, wcd *downstream) bool {
	if wcd == nil {
		return false // no (*,G) join nor (*,G) listener on I
	}
	in := (joined(wcd) && !rt.prunedRpt(ifindex)) || (r.pimIncludeWC(rt.grp, wcd) && !r.pimExclude(rt.grp, d, wcd))
	return in && !r.lostAssertWC(rt.grp, ifindex) && !rt.lostAssertRpt(wc, ifindex, d)
}

// inInheritedOlist is I in inherited_olist(S,G) (§4.1.6):
// inherited_olist(S,G,rpt) (+) joins(S,G) (+) pim_include(S,G) (-) lost_assert(S,G).
func (r *Router) inInheritedOlist(rt, wc *route, ifindex int, d, wcd *downstream) bool {
	in := r.inRptOlist(rt, wc, ifindex, d, wcd)
	if d != nil {
		in = in || joined(d) || r.included(rt, d)
		in = in && !rt.lostAssert(d)
	}
	return in
}

// asmSG reports whether rt is an ASM (S,G) entry (one that inherits).
func (rt *route) asmSG() bool { return !rt.ssm && !rt.wc }

// onRPT reports whether an ASM (S,G) entry forwards S's packets as they come
// down the shared tree (§4.2: iif RPF_interface(RP(G)), oifs
// inherited_olist(S,G,rpt)) rather than from the SPT: it is not joined
// toward S and no data keeps it alive.
func (rt *route) onRPT() bool {
	return rt.asmSG() && rt.up != upJoined && !rt.kat.running()
}

// rptMatters reports whether an (S,G) entry on the shared tree forwards
// differently from its (*,G) entry, so that mfib needs an entry for it.
func (rt *route) rptMatters() bool {
	if rt.rpt != nil && len(rt.rpt.ds) > 0 {
		return true
	}
	for _, d := range rt.ds {
		if d.local == MembershipExclude || d.as != assertNoInfo {
			return true
		}
	}
	return false
}

// installable reports whether the entry should have a forwarding entry.
func (r *Router) installable(rt *route) bool {
	if !rt.onRPT() {
		return true
	}
	wc := r.wcOf(rt)
	return wc != nil && wc.rpfOK && rt.rptMatters()
}

// fwdIIF is the entry's incoming interface: RPF_interface(S) (or RP(G) for
// (*,G)); RPF_interface(RP(G)) for an (S,G) entry on the shared tree.
func (r *Router) fwdIIF(rt *route) int {
	if rt.onRPT() {
		if wc := r.wcOf(rt); wc != nil && wc.rpfOK {
			return wc.rpfIf
		}
		return 0
	}
	if rt.rpfOK {
		return rt.rpfIf
	}
	return 0
}

// appendOIFs appends the entry's outgoing interfaces (unsorted, never the
// iif): immediate_olist for (*,G) and SSM (S,G) (the same as their inherited
// olist), inherited_olist(S,G) for an ASM (S,G) on the SPT and
// inherited_olist(S,G,rpt) for one on the shared tree (§4.2).
func (r *Router) appendOIFs(dst []int, rt *route) []int {
	if !rt.asmSG() {
		for _, d := range rt.ds {
			if r.inOlist(rt, d) {
				dst = append(dst, d.ifindex)
			}
		}
		return dst
	}
	wc := r.wcOf(rt)
	iif := r.fwdIIF(rt)
	onRPT := rt.onRPT()
	if wc != nil {
		for _, wcd := range wc.ds {
			if wcd.ifindex == iif && iif != 0 {
				continue
			}
			d := rt.downstream(wcd.ifindex)
			var in bool
			if onRPT {
				in = r.inRptOlist(rt, wc, wcd.ifindex, d, wcd)
			} else {
				in = r.inInheritedOlist(rt, wc, wcd.ifindex, d, wcd)
			}
			if in {
				dst = append(dst, wcd.ifindex)
			}
		}
	}
	if onRPT {
		return dst // only (*,G) interfaces are in inherited_olist(S,G,rpt)
	}
	for _, d := range rt.ds {
		if d.ifindex == iif && iif != 0 {
			continue
		}
		if wc != nil && wc.downstream(d.ifindex) != nil {
			continue // done above
		}
		if r.inInheritedOlist(rt, wc, d.ifindex, d, nil) {
			dst = append(dst, d.ifindex)
		}
	}
	return dst
}

// inheritedNonEmpty reports inherited_olist(S,G) != NULL (without the iif).
func (r *Router) inheritedNonEmpty(rt *route) bool {
	if !rt.asmSG() {
		for _, d := range rt.ds {
			if r.inOlist(rt, d) {
				return true
			}
		}
		return false
	}
	wc := r.wcOf(rt)
	if wc != nil {
		for _, wcd := range wc.ds {
			if rt.rpfOK && wcd.ifindex == rt.rpfIf {
				continue
			}
			if r.inInheritedOlist(rt, wc, wcd.ifindex, rt.downstream(wcd.ifindex), wcd) {
				return true
			}
		}
	}
	for _, d := range rt.ds {
		if r.inOlist(rt, d) {
			return true
		}
	}
	return false
}

// rptOlistEmpty reports inherited_olist(S,G,rpt) == NULL, the RPF interface
// toward RP(G) not counted (it is never an oif).
func (r *Router) rptOlistEmpty(rt, wc *route) bool {
	if wc == nil {
		return true
	}
	for _, wcd := range wc.ds {
		if wc.rpfOK && wcd.ifindex == wc.rpfIf {
			continue
		}
		if r.inRptOlist(rt, wc, wcd.ifindex, rt.downstream(wcd.ifindex), wcd) {
			return false
		}
	}
	return true
}

package pim

import (
	"net/netip"
	"time"
)

// LocalMembership reports the local listeners of one (S,G) or (*,G) on an
// interface, as MLD sees them (RFC 7761 §4.1.6, RFC 3810). The lead adapts
// the MLD core's listener changes to it.
type LocalMembership struct {
	Interface int
	Group     netip.Addr
	// Source is the listened-to source; invalid or :: means any source (*,G).
	Source netip.Addr
	Mode   MembershipMode
}

// SetLocalMembership records a listener change. In the SSM range only (S,G)
// listeners count (RFC 4604 §2.2.1: a router ignores any-source requests for
// SSM groups); an ASM (*,G) listener joins the shared tree toward RP(G).
// MembershipExclude of one source of an ASM group (local_receiver_exclude)
// takes the interface out of inherited_olist(S,G,rpt) (pim_exclude(S,G),
// §4.1.6), which may prune S off the shared tree (Prune(S,G,rpt), §4.5.9).
func (r *Router) SetLocalMembership(now time.Time, m LocalMembership) {
	r.begin(now)
	defer r.finish()
	r.setLocalMembership(m)
}

// SetLocalMemberships records several listener changes as one input.
func (r *Router) SetLocalMemberships(now time.Time, ms []LocalMembership) {
	r.begin(now)
	defer r.finish()
	for _, m := range ms {
		r.setLocalMembership(m)
	}
}

func (r *Router) setLocalMembership(m LocalMembership) {
	ifc := r.ifs[m.Interface]
	if ifc == nil {
		r.drop(ReasonUnknownInterface)
		return
	}
	g := m.Group.WithZone("")
	if !g.Is6() || !g.IsMulticast() || g.As16()[1]&0x0f <= 2 {
		r.drop(ReasonBadGroup)
		return
	}
	s := m.Source.WithZone("")
	if !s.IsValid() || s.IsUnspecified() {
		if r.cfg.IsSSM(g) {
			r.drop(ReasonLocalMembershipSSMWildcard)
			return
		}
		if rp, ok := r.rpOf(g); !ok || !rp.IsValid() {
			if m.Mode != MembershipNone {
				r.drop(ReasonNoRP)
			}
			return
		}
		s = netip.IPv6Unspecified() // (*,G): local_receiver_include(*,G,I)
	} else if !s.Is6() || s.IsMulticast() || s.IsLinkLocalUnicast() || s.IsLoopback() {
		r.drop(ReasonBadSource)
		return
	}
	if m.Mode == MembershipNone {
		rt := r.lookupRoute(s, g)
		if rt == nil {
			return
		}
		if d := rt.downstream(ifc.index); d != nil && d.local != MembershipNone {
			d.local = MembershipNone
			r.markDirty(rt)
		}
		return
	}
	rt := r.ensureRoute(s, g)
	d := r.ensureDownstream(rt, ifc.index)
	if d.local != m.Mode {
		d.local = m.Mode
		r.markDirty(rt)
	}
}

func (r *Router) rpOf(g netip.Addr) (netip.Addr, bool) {
	if r.cfg.RP == nil {
		return netip.Addr{}, false
	}
	return r.cfg.RP(g)
}

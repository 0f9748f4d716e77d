package router

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/mfib"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim"
)

// Snapshot returns the router's whole state in the control API's schema. It
// copies; the caller may keep it.
func (c *Core) Snapshot(now time.Time) *api.Snapshot {
	s := &api.Snapshot{
		TakenAt:    now,
		Interfaces: []api.Interface{}, Neighbors: []api.Neighbor{}, Queriers: []api.Querier{},
		Groups: []api.Group{}, Routes: []api.Route{}, RPSet: []api.RP{}, Timers: []api.Timer{},
	}
	ps := c.pim.Snapshot(now)
	pimIfs := map[int]pim.InterfaceState{}
	for _, is := range ps.Interfaces {
		pimIfs[is.Index] = is
	}
	name := func(idx int) string {
		if ifc := c.ifs[idx]; ifc != nil {
			return ifc.link.Name
		}
		for _, l := range c.st.Links() {
			if l.Index == idx {
				return l.Name
			}
		}
		return fmt.Sprintf("if%d", idx)
	}
	names := func(idxs []int) []string {
		out := make([]string, 0, len(idxs))
		for _, i := range idxs {
			out = append(out, name(i))
		}
		return out
	}
	addrs := c.st.Addrs()
	var timerID uint64
	addTimer := func(what string, d time.Duration) {
		if d > 0 {
			timerID++
			s.Timers = append(s.Timers, api.Timer{ID: timerID, Name: what, Expires: api.Secs(d)})
		}
	}

	ifcs := make([]*coreIface, 0, len(c.ifs))
	for _, ifc := range c.ifs {
		ifcs = append(ifcs, ifc)
	}
	slices.SortFunc(ifcs, func(a, b *coreIface) int { return cmp.Compare(a.mif, b.mif) })
	for _, ifc := range ifcs {
		ai := api.Interface{Name: ifc.link.Name, Index: ifc.mif, IfIndex: ifc.link.Index, Addresses: []string{}, Flags: []string{}, MLDVersions: []int{}}
		for _, a := range addrs {
			if a.LinkIndex == ifc.link.Index && a.Prefix.Addr().IsLinkLocalUnicast() {
				ai.Addresses = append(ai.Addresses, a.Prefix.String())
			}
		}
		for _, a := range addrs {
			if a.LinkIndex == ifc.link.Index && !a.Prefix.Addr().IsLinkLocalUnicast() {
				ai.Addresses = append(ai.Addresses, a.Prefix.String())
			}
		}
		if !ifc.link.Up {
			ai.Flags = append(ai.Flags, api.IfDown)
		}
		if is, ok := pimIfs[ifc.link.Index]; ok {
			ai.GenID, ai.DRPriority, ai.HelloTimer = is.GenID, is.DRPriority, api.Secs(is.HelloIn)
			if is.DR.IsValid() {
				ai.DR = is.DR.String()
			}
			if len(is.Neighbors) > 0 {
				ai.Flags = append(ai.Flags, api.IfPIM)
			}
			addTimer("pim hello "+ifc.link.Name, is.HelloIn)
			for _, nb := range is.Neighbors {
				an := api.Neighbor{Interface: ifc.link.Name, Address: nb.Addr.String(), Secondary: addrStrings(nb.Secondary),
					Holdtime: api.Seconds(nb.Holdtime), Expires: api.Secs(nb.Expires), Uptime: api.Secs(nb.Uptime), DR: nb.IsDR}
				if nb.Holdtime == 0xffff {
					an.Expires = -1
				}
				if nb.HasDRPriority {
					p := nb.DRPriority
					an.DRPriority = &p
				}
				if nb.HasGenID {
					g := nb.GenID
					an.GenID = &g
				}
				s.Neighbors = append(s.Neighbors, an)
				addTimer("pim neighbor "+nb.Addr.String()+" "+ifc.link.Name, nb.Expires)
			}
		} else {
			ai.Flags = append(ai.Flags, api.IfDisabled)
		}
		if ifc.querier == nil {
			ai.Flags = append(ai.Flags, api.IfNoListener)
		} else {
			qs := ifc.querier.Snapshot(now)
			switch qs.Version {
			case mld.Version1:
				ai.MLDVersions = []int{1}
			case mld.Version2:
				ai.MLDVersions = []int{2}
			default:
				ai.MLDVersions = []int{1, 2}
			}
			if qs.Querier {
				ai.Flags = append(ai.Flags, api.IfQuerier)
				ai.QueryTimer = api.Secs(qs.NextGeneralQuery)
				addTimer("mld query "+ifc.link.Name, qs.NextGeneralQuery)
			} else {
				addTimer("mld other querier "+ifc.link.Name, qs.OtherQuerierPresent)
			}
			qa := qs.QuerierAddress
			if !qa.IsValid() {
				qa = qs.Address
			}
			s.Queriers = append(s.Queriers, api.Querier{Interface: ifc.link.Name, Address: qa.String(), Self: qs.Querier,
				Version: max(int(qs.Version), 2), Timer: api.Secs(qs.OtherQuerierPresent)})
			for _, g := range qs.Groups {
				ag := api.Group{Interface: ifc.link.Name, Group: g.Group.String(), Mode: api.ModeInclude, Version: 2,
					Timer: api.Secs(g.FilterTimer), CompatTimer: api.Secs(g.CompatTimer), Sources: []string{}, SourceTimers: map[string]api.Seconds{}}
				if g.Mode == mld.Exclude {
					ag.Mode = api.ModeExclude
				}
				if g.Compat == mld.Version1 {
					ag.Version = 1
				}
				for _, src := range g.Sources {
					ag.Sources = append(ag.Sources, src.Source.String())
					ag.SourceTimers[src.Source.String()] = api.Secs(src.Timer)
				}
				s.Groups = append(s.Groups, ag)
			}
		}
		if is, ok := pimIfs[ifc.link.Index]; ok {
			if is.IsDR {
				ai.Flags = append(ai.Flags, api.IfDR)
			}
			if len(is.Neighbors) == 0 {
				ai.Flags = append(ai.Flags, api.IfNoNeighbor)
			}
		}
		ai.Flags = orderFlags(ai.Flags, api.InterfaceFlagOrder)
		s.Interfaces = append(s.Interfaces, ai)
	}

	for _, rs := range ps.Routes {
		ar := api.Route{Kind: api.KindSG, Source: rs.Source.String(), Group: rs.Group.String(), IIF: name(rs.IIF),
			OIFs: names(rs.OIFs), Joined: names(rs.Joined), Pruned: names(rs.Pruned), Leaves: names(rs.Leaves),
			Asserted: names(rs.Asserted), Flags: []string{}, OIFTimers: map[string]api.Seconds{},
			EntryTimer: api.Secs(rs.Keepalive), JoinPruneTimer: api.Secs(rs.JoinTimer)}
		if rs.IIF == 0 {
			ar.IIF = ""
		}
		if rs.Upstream.IsValid() {
			ar.Upstream = rs.Upstream.String()
		}
		if rs.Source.IsUnspecified() {
			ar.Kind = api.KindG
			ar.Flags = append(ar.Flags, api.RouteWC)
		} else {
			ar.Flags = append(ar.Flags, api.RouteSG)
		}
		if rs.Flags&pim.FlagSPT != 0 {
			ar.Flags = append(ar.Flags, api.RouteSPT)
		}
		if len(rs.OIFs) == 0 {
			ar.Flags = append(ar.Flags, api.RouteNullOIF)
		}
		if len(rs.Asserted) > 0 {
			ar.Flags = append(ar.Flags, api.RouteAsserted)
		}
		if _, stats, ok := c.mfib.Get(mfib.Key{Source: rs.Source, Group: rs.Group}); ok {
			ar.Flags = append(ar.Flags, api.RouteCache)
			if stats != nil {
				ar.Packets, ar.Bytes = stats.Packets.Load(), stats.Bytes.Load()
			}
		}
		var assertTimer time.Duration
		for _, pi := range rs.PerInterface {
			if pi.Expiry > 0 {
				ar.OIFTimers[name(pi.Index)] = api.Secs(pi.Expiry)
			}
			assertTimer = max(assertTimer, pi.AssertTimer)
		}
		ar.AssertTimer = api.Secs(assertTimer)
		ar.Flags = orderFlags(ar.Flags, api.RouteFlagOrder)
		entry := fmt.Sprintf("(%s,%s)", rs.Source, rs.Group)
		addTimer("pim join "+entry, rs.JoinTimer)
		addTimer("pim keepalive "+entry, rs.Keepalive)
		s.Routes = append(s.Routes, ar)
	}
	slices.SortFunc(s.Timers, func(a, b api.Timer) int { return cmp.Compare(a.Expires, b.Expires) })
	for i := range s.Timers {
		s.Timers[i].ID = uint64(i + 1)
	}
	return s
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

func orderFlags(flags, order []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range order {
		if slices.Contains(flags, f) {
			out = append(out, f)
		}
	}
	return out
}

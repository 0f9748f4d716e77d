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
	"github.com/pim6d/pim6d/rp"
	"github.com/pim6d/pim6d/stack"
)

// Snapshot returns the router's whole state in the control API's schema. It
// copies; the caller may keep it.
func (c *Core) Snapshot(now time.Time) *api.Snapshot {
	return c.CaptureSnapshot(now, nil, nil)()
}

// SnapshotSpace is memory for one CaptureSnapshot.
type SnapshotSpace struct {
	pim *pim.SnapshotSpace
	mld map[int]*mld.SnapshotSpace // by link index
}

// SnapshotSpace tells, on the event loop, how much memory a capture of the
// sections want accepts will need, and returns the function that allocates
// it, to be called off the loop (with a little room for growth meanwhile).
// Allocating tens of megabytes on the loop would hold the protocols up for
// the allocation's page faults and GC assists, not just for the copy.
func (c *Core) SnapshotSpace(want func(api.Section) bool) func() any {
	if want == nil {
		want = func(api.Section) bool { return true }
	}
	if summaryOnly(want) {
		return func() any { return nil }
	}
	routes := c.pim.RouteCount()
	type size struct{ groups, sources int }
	mlds := map[int]size{}
	if want(api.SectionGroups) {
		for idx, ifc := range c.ifs {
			if ifc.querier != nil {
				mlds[idx] = size{ifc.querier.GroupCount(), ifc.querier.SourceCount()}
			}
		}
	}
	slack := func(n int) int { return n + n/8 + 16 }
	return func() any {
		sp := &SnapshotSpace{pim: pim.NewSnapshotSpace(slack(routes)), mld: map[int]*mld.SnapshotSpace{}}
		for idx, sz := range mlds {
			sp.mld[idx] = mld.NewSnapshotSpace(slack(sz.groups), slack(sz.sources))
		}
		return sp
	}
}

// snapshotCapture is what a snapshot needs, copied from the protocol state on
// the event loop: the cores' own snapshots (addresses and durations, no
// strings) and the link names.
type snapshotCapture struct {
	now     time.Time
	want    func(api.Section) bool
	pim     pim.Snapshot
	ifcs    []capturedIface
	names   map[int]string
	addrs   []stack.Addr
	table   *stack.Table // for route counters: safe to read from any goroutine
	withMF  bool
	rps     []capturedRP
	summary api.Summary
}

// summaryOnly says whether want accepts the summary and nothing else.
func summaryOnly(want func(api.Section) bool) bool {
	for _, s := range api.AllSections {
		if want(s) != (s == api.SectionSummary) {
			return false
		}
	}
	return true
}

// capturedRP is one group-to-RP mapping with the RPF toward the RP.
type capturedRP struct {
	entry    rp.Entry
	ifindex  int
	upstream netip.Addr
}

type capturedIface struct {
	link   stack.Link
	mif    int
	mld    mld.Snapshot
	hasMLD bool
}

// CaptureSnapshot copies, on the event loop, what a snapshot of the sections
// want accepts needs (nil: all), and returns the function that builds the
// API's form from the copy. The build (strings, maps, the timer list: most of
// a snapshot's cost at 100,000 routes) runs off the event loop, so a
// pim6stat of a big router holds the protocols up only for the copy.
//
// space, if not nil, is what the function SnapshotSpace returned allocated:
// the capture then copies into it.
func (c *Core) CaptureSnapshot(now time.Time, want func(api.Section) bool, space any) func() *api.Snapshot {
	if want == nil {
		want = func(api.Section) bool { return true }
	}
	var sum api.Summary
	if want(api.SectionSummary) {
		sum = c.summary()
	}
	if summaryOnly(want) {
		// Counting is all there is to do: no copy of 100,000 entries on the
		// loop for a client that polls the counts.
		return func() *api.Snapshot { return &api.Snapshot{TakenAt: now, Summary: sum} }
	}
	sp, _ := space.(*SnapshotSpace)
	if sp == nil {
		sp = &SnapshotSpace{}
	}
	cp := &snapshotCapture{now: now, want: want, names: map[int]string{}, addrs: c.st.Addrs(), table: c.st.Table(), summary: sum}
	cp.pim = c.pim.CaptureIn(now, sp.pim) // routes sorted in build, off the loop
	for _, e := range c.rps.Entries() {
		crp := capturedRP{entry: e}
		if ifindex, nh, _, _, ok := c.rpf(e.RP); ok {
			crp.ifindex, crp.upstream = ifindex, nh
		}
		cp.rps = append(cp.rps, crp)
	}
	for _, l := range c.st.Links() {
		cp.names[l.Index] = l.Name
	}
	groups := want(api.SectionGroups)
	for _, ifc := range c.ifs {
		ci := capturedIface{link: ifc.link, mif: ifc.mif}
		cp.names[ifc.link.Index] = ifc.link.Name
		if ifc.querier != nil {
			ci.hasMLD = true
			if groups {
				ci.mld = ifc.querier.CaptureIn(now, sp.mld[ifc.link.Index]) // sorted in build, off the loop
			} else {
				ci.mld = ifc.querier.Status(now)
			}
		}
		cp.ifcs = append(cp.ifcs, ci)
	}
	return cp.build
}

func (cp *snapshotCapture) build() *api.Snapshot {
	now := cp.now
	s := &api.Snapshot{
		TakenAt:    now,
		Interfaces: []api.Interface{}, Neighbors: []api.Neighbor{}, Queriers: []api.Querier{},
		Groups: []api.Group{}, Routes: []api.Route{}, RPSet: []api.RP{}, Timers: []api.Timer{},
		Summary: cp.summary,
	}
	ps := cp.pim
	ps.SortRoutes()
	pimIfs := map[int]pim.InterfaceState{}
	for _, is := range ps.Interfaces {
		pimIfs[is.Index] = is
	}
	name := func(idx int) string {
		if n, ok := cp.names[idx]; ok {
			return n
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
	addrs := cp.addrs
	wantTimers := cp.want(api.SectionTimers)
	var timerID uint64
	addTimer := func(what func() string, d time.Duration) {
		if d > 0 && wantTimers {
			timerID++
			s.Timers = append(s.Timers, api.Timer{ID: timerID, Name: what(), Expires: api.Secs(d)})
		}
	}

	ifcs := cp.ifcs
	slices.SortFunc(ifcs, func(a, b capturedIface) int { return cmp.Compare(a.mif, b.mif) })
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
			addTimer(func() string { return "pim hello " + ifc.link.Name }, is.HelloIn)
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
				addTimer(func() string { return "pim neighbor " + nb.Addr.String() + " " + ifc.link.Name }, nb.Expires)
			}
		} else {
			ai.Flags = append(ai.Flags, api.IfDisabled)
		}
		if !ifc.hasMLD {
			ai.Flags = append(ai.Flags, api.IfNoListener)
		} else {
			qs := ifc.mld
			qs.SortGroups()
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
				addTimer(func() string { return "mld query " + ifc.link.Name }, qs.NextGeneralQuery)
			} else {
				addTimer(func() string { return "mld other querier " + ifc.link.Name }, qs.OtherQuerierPresent)
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

	s.RPSet = cp.rpSet(name)

	if !cp.want(api.SectionRoutes) && !wantTimers {
		ps.Routes = nil
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
		switch {
		case rs.Source.IsUnspecified():
			ar.Kind = api.KindG
			ar.Flags = append(ar.Flags, api.RouteWC)
		case rs.Flags&pim.FlagRPT != 0:
			// Only (S,G,rpt) state: S comes down the shared tree (iif toward
			// the RP, pim6sd's RP flag) except where it was pruned off it.
			ar.Kind = api.KindSGRpt
			ar.Flags = append(ar.Flags, api.RouteSG, api.RouteRP)
		default:
			ar.Flags = append(ar.Flags, api.RouteSG)
		}
		if len(rs.RptPruned) > 0 {
			ar.Pruned = names(mergeSorted(rs.Pruned, rs.RptPruned))
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
		if rt, ok := mfib.Lookup(cp.table, mfib.Key{Source: rs.Source, Group: rs.Group}); ok {
			ar.Flags = append(ar.Flags, api.RouteCache)
			ar.Packets, ar.Bytes = rt.Stats.Packets.Load(), rt.Stats.Bytes.Load()
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
		addTimer(func() string { return fmt.Sprintf("pim join (%s,%s)", rs.Source, rs.Group) }, rs.JoinTimer)
		addTimer(func() string { return fmt.Sprintf("pim keepalive (%s,%s)", rs.Source, rs.Group) }, rs.Keepalive)
		s.Routes = append(s.Routes, ar)
	}
	slices.SortFunc(s.Timers, func(a, b api.Timer) int { return cmp.Compare(a.Expires, b.Expires) })
	for i := range s.Timers {
		s.Timers[i].ID = uint64(i + 1)
	}
	return s
}

// rpSet groups the captured mappings by RP, in address order (KAME's RP-Set:
// each RP with the group prefixes it serves).
func (cp *snapshotCapture) rpSet(name func(int) string) []api.RP {
	out := []api.RP{}
	self := map[netip.Addr]bool{}
	for _, a := range cp.addrs {
		self[a.Prefix.Addr().WithZone("")] = true
	}
	byRP := map[string]int{}
	rps := slices.Clone(cp.rps)
	slices.SortFunc(rps, func(a, b capturedRP) int {
		return cmp.Or(a.entry.RP.Compare(b.entry.RP), a.entry.Group.Addr().Compare(b.entry.Group.Addr()), cmp.Compare(a.entry.Group.Bits(), b.entry.Group.Bits()))
	})
	for _, c := range rps {
		key := c.entry.RP.String() + "/" + c.entry.Origin.String()
		i, ok := byRP[key]
		if !ok {
			ar := api.RP{Address: c.entry.RP.String(), Origin: c.entry.Origin.String(), Self: self[c.entry.RP], Groups: []api.RPGroup{}}
			if !ar.Self && c.ifindex != 0 {
				ar.Interface = name(c.ifindex)
				if c.upstream.IsValid() && !c.upstream.IsUnspecified() {
					ar.Upstream = c.upstream.WithZone("").String()
				}
			}
			out = append(out, ar)
			i = len(out) - 1
			byRP[key] = i
		}
		out[i].Groups = append(out[i].Groups, api.RPGroup{Prefix: c.entry.Group.String(), Priority: int(c.entry.Priority)})
	}
	return out
}

// mergeSorted returns the union of two sorted index lists.
func mergeSorted(a, b []int) []int {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
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

// summary counts the state: a few counter reads.
func (c *Core) summary() api.Summary {
	s := api.Summary{Routes: c.pim.RouteCount(), Installed: c.mfib.Len()}
	for _, ifc := range c.ifs {
		if ifc.querier != nil {
			s.Groups += ifc.querier.GroupCount()
			s.Sources += ifc.querier.SourceCount()
		}
	}
	return s
}

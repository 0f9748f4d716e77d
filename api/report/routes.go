package report

import (
	"cmp"
	"slices"

	"github.com/pim6d/pim6d/api"
)

// Section headers of the routing table, 60 characters wide as in KAME.
const (
	headerG     = "---------------------------(*,G)----------------------------"
	headerSG    = "---------------------------(S,G)----------------------------"
	headerSGRpt = "-------------------------(S,G,rpt)--------------------------"
	headerRP    = "--------------------------(*,*,RP)--------------------------"
)

// kindOrder is the order of entries within one group: (*,G) first, as KAME
// printed a group's grp_route before its (S,G) chain.
func kindOrder(k string) int {
	switch k {
	case api.KindG:
		return 0
	case api.KindSG:
		return 1
	case api.KindSGRpt:
		return 2
	}
	return 3
}

// routes writes the Multicast Routing Table (KAME dump_pim_mrt): per group,
// sorted by address, its (*,G) entry then its (S,G) and (S,G,rpt) entries,
// then every (*,*,RP) entry, and the totals.
func (r *renderer) routes() {
	r.printf("Multicast Routing Table\n%s", " Source          Group           RP-addr         Flags\n")
	var perGroup, rps []api.Route
	for _, rt := range r.s.Routes {
		if rt.Kind == api.KindRP {
			rps = append(rps, rt)
		} else {
			perGroup = append(perGroup, rt)
		}
	}
	slices.SortStableFunc(perGroup, func(a, b api.Route) int {
		return cmp.Or(compareAddr(a.Group, b.Group), cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), compareAddr(a.Source, b.Source))
	})
	slices.SortStableFunc(rps, func(a, b api.Route) int { return compareAddr(a.RP, b.RP) })

	groups, mirrors := 0, 0
	for i, rt := range perGroup {
		if i == 0 || rt.Group != perGroup[i-1].Group {
			groups++
		}
		switch rt.Kind {
		case api.KindG:
			r.printf("%s\n", headerG)
			r.printf(" %-15s %-15s %-15s", "IN6ADDR_ANY", rt.Group, orNull(rt.RP))
		case api.KindSGRpt:
			r.printf("%s\n", headerSGRpt)
			r.printf(" %-15s %-15s %-15s", rt.Source, rt.Group, orNull(rt.RP))
		default:
			r.printf("%s\n", headerSG)
			r.printf(" %-15s %-15s %-15s", rt.Source, rt.Group, orNull(rt.RP))
		}
		r.routeBody(rt, true)
	}
	r.printf("%s\n", headerRP)
	for _, rt := range rps {
		r.printf(" RP = %-15s %-15s", rt.RP, "IN6ADDR_ANY")
		r.routeBody(rt, false) // KAME prints no upstream for (*,*,RP)
	}
	for _, rt := range r.s.Routes {
		if slices.Contains(rt.Flags, api.RouteCache) {
			mirrors++
		}
	}
	r.printf("Number of Groups: %d\n", groups)
	r.printf("Number of Cache MIRRORs: %d\n\n", mirrors)
}

func orNull(a string) string {
	if a == "" {
		return "NULL"
	}
	return a
}

// routeBody writes the flags that end an entry's first line, the oif strings,
// the upstream neighbour, the timers and the per-mif timer grid.
func (r *renderer) routeBody(rt api.Route, upstream bool) {
	for _, f := range ordered(rt.Flags, api.RouteFlagOrder) {
		r.printf(" %s", f)
	}
	r.printf("\n")
	r.printf("Joined   oifs: %-20s\n", r.mifString(rt.Joined, 'j'))
	r.printf("Pruned   oifs: %-20s\n", r.mifString(rt.Pruned, 'p'))
	r.printf("Leaves   oifs: %-20s\n", r.mifString(rt.Leaves, 'l'))
	r.printf("Asserted oifs: %-20s\n", r.mifString(rt.Asserted, 'a'))
	r.printf("Outgoing oifs: %-20s\n", r.mifString(rt.OIFs, 'o'))
	var iif []string
	if rt.IIF != "" {
		iif = []string{rt.IIF}
	}
	r.printf("Incoming     : %-20s\n", r.mifString(iif, 'I'))
	if upstream {
		up := rt.Upstream
		if up == "" {
			up = "NONE"
		}
		r.printf("Upstream nbr: %s\n", up)
	}
	r.printf("\nTIMERS: Entry=%d JP=%d RS=%d Assert=%d\n",
		secs(rt.EntryTimer), secs(rt.JoinPruneTimer), secs(rt.RegisterStopTimer), secs(rt.AssertTimer))

	// The per-mif timer grid, ten mifs per row.
	timers := make([]int, r.nmif)
	for name, t := range rt.OIFTimers {
		if i := r.mifIndex(name); i >= 0 && i < len(timers) {
			timers[i] = secs(t)
		}
	}
	r.printf("  MIF   0   1   2   3   4   5   6   7   8   9\n")
	for row := 0; row*10 < len(timers); row++ {
		r.printf(" %4d", row)
		for _, t := range timers[row*10 : min(row*10+10, len(timers))] {
			r.printf(" %3d", t)
		}
		r.printf("\n")
	}
}

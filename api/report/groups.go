package report

import (
	"cmp"
	"slices"

	"github.com/pim6d/pim6d/api"
)

// groups writes the Reported MLD Group list (KAME dump_mldgroups): per group
// its filter timer, compatibility mode, filter mode and Older Version Host
// Present timer, then one line per source with its timer, or "(any source)".
// KAME printed timer ids here; the report prints seconds.
func (r *renderer) groups() {
	r.printf("Reported MLD Group\n")
	r.printf(" %-3s %6s %s\n", "Mif", "PhyIF", "Group(Group-Timer,MLD-ver(Filter-Mode,Compat-Timer))/Source(TimerID)")
	gs := slices.Clone(r.s.Groups)
	slices.SortStableFunc(gs, func(a, b api.Group) int {
		return cmp.Or(cmp.Compare(r.mifIndex(a.Interface), r.mifIndex(b.Interface)), compareAddr(a.Group, b.Group))
	})
	for _, g := range gs {
		ver := "v2"
		if g.Version == 1 {
			ver = "v1"
		}
		mode := "EX"
		if g.Mode == api.ModeInclude {
			mode = "IN"
		}
		r.printf(" %-3s %6s %s (%d (%s %s %d))\n", mifLabel(r.mifIndex(g.Interface)), r.phyif(g.Interface),
			g.Group, secs(g.Timer), ver, mode, secs(g.CompatTimer))
		if len(g.Sources) == 0 {
			r.printf(" %-3s %6s   %s (-)\n", "", "", "(any source)")
			continue
		}
		srcs := slices.Clone(g.Sources)
		slices.SortFunc(srcs, compareAddr)
		for _, s := range srcs {
			r.printf(" %-3s %6s   %s (%d)\n", "", "", s, secs(g.SourceTimers[s]))
		}
	}
	r.printf("\n")
}

package report

import (
	"cmp"
	"slices"

	"github.com/pim6d/pim6d/api"
)

// timers writes the CallOut Timer Queue (KAME dump_callout_Q), soonest first:
// timer id and seconds left as KAME printed them, then what the timer is for.
func (r *renderer) timers() {
	r.printf("--------------------CallOut Timer Queue-----------------\n")
	r.printf("%-10s %-14s %s\n", "TimerID", "Expiry-Time[s]", "Name")
	ts := slices.Clone(r.s.Timers)
	slices.SortStableFunc(ts, func(a, b api.Timer) int {
		return cmp.Or(cmp.Compare(a.Expires, b.Expires), cmp.Compare(a.ID, b.ID))
	})
	for _, t := range ts {
		r.printf("#%-9d %-14d %s\n", t.ID, secs(t.Expires), t.Name)
	}
}

// summary writes the state's counts (not in KAME's report: pim6d's own, so
// that a large router can be watched without listing everything).
func (r *renderer) summary() {
	r.printf("--------------------State Summary-----------------------\n")
	r.printf("MLD groups: %d, sources: %d\n", r.s.Summary.Groups, r.s.Summary.Sources)
	r.printf("Routing entries: %d, forwarding routes in the table: %d\n", r.s.Summary.Routes, r.s.Summary.Installed)
}

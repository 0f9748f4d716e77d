package mld

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ListenerChange.Was must always be the state the group's previous change
// reported (or INCLUDE {} when there was none), whatever happened in between:
// sources added, moved between the requested and excluded lists, deleted by
// records or by timers, the group deleted and re-created, the querier closed.
// A consumer that diffs Was against the new state (router.Core does, to tell
// PIM which (S,G) memberships changed) then never misses or invents one.
// Random record sequences on virtual time, checked against a model that
// remembers every reported state.
func TestWasIsThePreviouslyReportedState(t *testing.T) {
	groups := []netip.Addr{grp, netip.MustParseAddr("ff0e::5678")}
	srcs := []netip.Addr{s1, s2, s3, s4, s5}
	types := []RecordType{ModeIsInclude, ModeIsExclude, ChangeToInclude, ChangeToExclude, AllowNewSources, BlockOldSources}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		q := newTestQuerier(t, Config{})
		last := map[netip.Addr]Listener{}
		now := t0
		var out Output
		check := func(step string) {
			t.Helper()
			for _, ch := range out.Changes {
				want, ok := last[ch.Group]
				if !ok {
					want = Listener{LinkIndex: testLink, Group: ch.Group}
				}
				if diff := cmp.Diff(want, ch.Was, addrCmp, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("seed %d, %s: Was of %v (-previously reported +Was):\n%s", seed, step, ch.Group, diff)
				}
				l := ch.Listener
				l.Sources = slices.Clone(l.Sources) // valid only until out.Reset
				last[ch.Group] = l
			}
			out.Reset()
		}
		for step := range 40 {
			switch rng.IntN(4) {
			case 0: // let timers run: LLQT-sized or MALI-sized steps
				d := []time.Duration{time.Second, 3 * time.Second, 300 * time.Second}[rng.IntN(3)]
				now = now.Add(d)
				q.Tick(now, &out)
			default:
				var recs []Record
				for range 1 + rng.IntN(2) {
					var ss []netip.Addr
					for _, s := range srcs {
						if rng.IntN(3) == 0 {
							ss = append(ss, s)
						}
					}
					recs = append(recs, rec(types[rng.IntN(len(types))], groups[rng.IntN(len(groups))], ss...))
				}
				q.HandlePacket(now, reportPacket(recs...), &out)
			}
			check("step " + string(rune('0'+step%10)))
		}
		q.Close(&out)
		check("close")
		for g, l := range last {
			if !l.Gone() {
				t.Fatalf("seed %d: after Close, %v still reported as %+v", seed, g, l)
			}
		}
	}
}

// The source lists of a flush's changes share the Output's array; a second
// flush into the same Output (the caller gathers several calls before
// consuming) must not overwrite the first one's lists.
func TestChangesOfSeveralCallsInOneOutputStayIntact(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, reportPacket(rec(AllowNewSources, grp, s1, s2)), &out)
	q.HandlePacket(t0, reportPacket(rec(AllowNewSources, grp, s3), rec(AllowNewSources, netip.MustParseAddr("ff0e::99"), s4, s5)), &out)
	want := [][]netip.Addr{{s1, s2}, {s1, s2, s3}, {s4, s5}}
	if len(out.Changes) != len(want) {
		t.Fatalf("changes = %d, want %d", len(out.Changes), len(want))
	}
	for i, ch := range out.Changes {
		if diff := cmp.Diff(want[i], ch.Sources, addrCmp); diff != "" {
			t.Errorf("change %d sources (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff([]netip.Addr{s1, s2}, out.Changes[1].Was.Sources, addrCmp); diff != "" {
		t.Errorf("second change's Was (-want +got):\n%s", diff)
	}
}

package mld

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// With the RFC 3810 §9 defaults: MALI = 2*125s + 10s, LLQT = 2 * 1s.
const (
	mali = 260 * time.Second
	llqt = 2 * time.Second
	// elapsed is how long after the setup the record under test arrives:
	// timers set by the setup have mali-elapsed left.
	elapsed = 10 * time.Second
	aged    = mali - elapsed
)

// setupInclude leaves grp in INCLUDE (A) with A = {s1, s2}.
func setupInclude(q *Querier) { feed(q, t0, rec(ModeIsInclude, grp, s1, s2)) }

// setupExclude leaves grp in EXCLUDE (X, Y) with X = {s1, s2}, Y = {s3, s4}.
func setupExclude(q *Querier) {
	feed(q, t0, rec(ModeIsExclude, grp, s3, s4))
	feed(q, t0, rec(AllowNewSources, grp, s1, s2))
}

type transitionCase struct {
	name     string // the table row, as the RFC writes it
	setup    func(*Querier)
	record   Record
	want     groupState
	wantQ    []sentQuery
	wantView Listener
}

func runTransitions(t *testing.T, cases []transitionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			tc.setup(q)
			now := at(elapsed)
			out := feed(q, now, tc.record)
			got := stateOf(q, now, grp)
			if got == nil {
				t.Fatalf("group %v has no record after %v", grp, tc.record.Type)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("state after %v (-want +got):\n%s", tc.record.Type, diff)
			}
			if diff := cmp.Diff(tc.wantQ, specificQueries(t, q, out), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("queries sent (-want +got):\n%s", diff)
			}
			view, _ := q.Listener(grp)
			tc.wantView.LinkIndex, tc.wantView.Group = testLink, grp
			if diff := cmp.Diff(tc.wantView, view, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("listener view (-want +got):\n%s", diff)
			}
		})
	}
}

func srcQuery(srcs ...netip.Addr) sentQuery {
	return sentQuery{Dst: grp, Group: grp, Sources: srcs}
}

// TestCurrentStateRecords covers each row of the router table of RFC 3810
// §7.4.1 (reception of Current State Records).
func TestCurrentStateRecords(t *testing.T) {
	runTransitions(t, []transitionCase{{
		name:     "INCLUDE (A) IS_IN (B) -> INCLUDE (A+B); (B)=MALI",
		setup:    setupInclude,
		record:   rec(ModeIsInclude, grp, s2, s3),
		want:     groupState{Mode: Include, Sources: srcTimers(s1, aged, s2, mali, s3, mali)},
		wantView: Listener{Mode: Include, Sources: []netip.Addr{s1, s2, s3}},
	}, {
		name:     "INCLUDE (A) IS_EX (B) -> EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); MAT=MALI",
		setup:    setupInclude,
		record:   rec(ModeIsExclude, grp, s2, s3),
		want:     groupState{Mode: Exclude, Filter: mali, Sources: srcTimers(s2, aged, s3, time.Duration(0))},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s3}},
	}, {
		name:     "EXCLUDE (X,Y) IS_IN (A) -> EXCLUDE (X+A, Y-A); (A)=MALI",
		setup:    setupExclude,
		record:   rec(ModeIsInclude, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: aged, Sources: srcTimers(s1, aged, s2, mali, s3, mali, s4, time.Duration(0), s5, mali)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s4}},
	}, {
		name:     "EXCLUDE (X,Y) IS_EX (A) -> EXCLUDE (A-Y, Y*A); (A-X-Y)=MALI; Delete (X-A); Delete (Y-A); MAT=MALI",
		setup:    setupExclude,
		record:   rec(ModeIsExclude, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: mali, Sources: srcTimers(s2, aged, s3, time.Duration(0), s5, mali)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s3}},
	}})
}

// TestStateChangeRecords covers each row of the router table of RFC 3810
// §7.4.2 (reception of Filter Mode Change and Source List Change Records),
// with the querier's "Send Q" actions and the timer lowering of §7.6.3.
func TestStateChangeRecords(t *testing.T) {
	runTransitions(t, []transitionCase{{
		name:     "INCLUDE (A) ALLOW (B) -> INCLUDE (A+B); (B)=MALI",
		setup:    setupInclude,
		record:   rec(AllowNewSources, grp, s2, s3),
		want:     groupState{Mode: Include, Sources: srcTimers(s1, aged, s2, mali, s3, mali)},
		wantView: Listener{Mode: Include, Sources: []netip.Addr{s1, s2, s3}},
	}, {
		name:     "INCLUDE (A) BLOCK (B) -> INCLUDE (A); Send Q(MA,A*B)",
		setup:    setupInclude,
		record:   rec(BlockOldSources, grp, s2, s3),
		want:     groupState{Mode: Include, Sources: srcTimers(s1, aged, s2, llqt)},
		wantQ:    []sentQuery{srcQuery(s2)},
		wantView: Listener{Mode: Include, Sources: []netip.Addr{s1, s2}},
	}, {
		name:     "INCLUDE (A) TO_EX (B) -> EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Send Q(MA,A*B); MAT=MALI",
		setup:    setupInclude,
		record:   rec(ChangeToExclude, grp, s2, s3),
		want:     groupState{Mode: Exclude, Filter: mali, Sources: srcTimers(s2, llqt, s3, time.Duration(0))},
		wantQ:    []sentQuery{srcQuery(s2)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s3}},
	}, {
		name:     "INCLUDE (A) TO_IN (B) -> INCLUDE (A+B); (B)=MALI; Send Q(MA,A-B)",
		setup:    setupInclude,
		record:   rec(ChangeToInclude, grp, s2, s3),
		want:     groupState{Mode: Include, Sources: srcTimers(s1, llqt, s2, mali, s3, mali)},
		wantQ:    []sentQuery{srcQuery(s1)},
		wantView: Listener{Mode: Include, Sources: []netip.Addr{s1, s2, s3}},
	}, {
		name:     "EXCLUDE (X,Y) ALLOW (A) -> EXCLUDE (X+A, Y-A); (A)=MALI",
		setup:    setupExclude,
		record:   rec(AllowNewSources, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: aged, Sources: srcTimers(s1, aged, s2, mali, s3, mali, s4, time.Duration(0), s5, mali)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s4}},
	}, {
		name:     "EXCLUDE (X,Y) BLOCK (A) -> EXCLUDE (X+(A-Y), Y); (A-X-Y)=MAT; Send Q(MA,A-Y)",
		setup:    setupExclude,
		record:   rec(BlockOldSources, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: aged, Sources: srcTimers(s1, aged, s2, llqt, s3, time.Duration(0), s4, time.Duration(0), s5, llqt)},
		wantQ:    []sentQuery{srcQuery(s2, s5)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s3, s4}},
	}, {
		name:     "EXCLUDE (X,Y) TO_EX (A) -> EXCLUDE (A-Y, Y*A); (A-X-Y)=MAT; Delete (X-A); Delete (Y-A); Send Q(MA,A-Y); MAT=MALI",
		setup:    setupExclude,
		record:   rec(ChangeToExclude, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: mali, Sources: srcTimers(s2, llqt, s3, time.Duration(0), s5, llqt)},
		wantQ:    []sentQuery{srcQuery(s2, s5)},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s3}},
	}, {
		name:     "EXCLUDE (X,Y) TO_IN (A) -> EXCLUDE (X+A, Y-A); (A)=MALI; Send Q(MA,X-A); Send Q(MA)",
		setup:    setupExclude,
		record:   rec(ChangeToInclude, grp, s2, s3, s5),
		want:     groupState{Mode: Exclude, Filter: llqt, Sources: srcTimers(s1, llqt, s2, mali, s3, mali, s4, time.Duration(0), s5, mali)},
		wantQ:    []sentQuery{srcQuery(s1), {Dst: grp, Group: grp}},
		wantView: Listener{Mode: Exclude, Sources: []netip.Addr{s4}},
	}})
}

// TestTOEXSourcesGetGroupTimer pins the ordering inside the §7.4.2 EXCLUDE
// TO_EX row: new sources take the group timer before it is reset to MALI
// (checked on a non-querier, which does not lower them by querying).
func TestTOEXSourcesGetGroupTimer(t *testing.T) {
	q := newTestQuerier(t, Config{})
	setupExclude(q)
	var out Output
	// a lower-addressed querier silences us (§7.6.2)
	q.HandlePacket(t0, packetFrom(netip.MustParseAddr("fe80::1"), allNodes, &Query{MaxRespCode: 10000, QQIC: 125}), &out)
	now := at(elapsed)
	out = feed(q, now, rec(ChangeToExclude, grp, s2, s3, s5))
	if got := specificQueries(t, q, out); len(got) != 0 {
		t.Errorf("non-querier sent %v, want no queries (§7.6.3: only the querier sends)", got)
	}
	got := stateOf(q, now, grp)
	want := groupState{Mode: Exclude, Filter: mali, Sources: srcTimers(s2, aged, s3, time.Duration(0), s5, aged)}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// TestRecordOnUnknownGroup: a group nobody reported is INCLUDE {} (§7.4);
// records that neither add sources nor switch to EXCLUDE create no state.
func TestRecordOnUnknownGroup(t *testing.T) {
	for _, r := range []Record{
		rec(ModeIsInclude, grp),
		rec(AllowNewSources, grp),
		rec(ChangeToInclude, grp),
		rec(BlockOldSources, grp, s1),
	} {
		t.Run(r.Type.String(), func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			out := feed(q, t0, r)
			if st := stateOf(q, t0, grp); st != nil {
				t.Errorf("state after %v on INCLUDE {} = %+v, want none", r.Type, st)
			}
			if len(out.Changes) != 0 || len(out.Packets) != 0 {
				t.Errorf("output = %+v, want nothing", out)
			}
		})
	}
}

package mld

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestGeneralQuerySchedule: RFC 3810 §7.6.2, §9.6, §9.7: a starting querier
// sends Startup Query Count General Queries Startup Query Interval apart, then
// one every Query Interval.
func TestGeneralQuerySchedule(t *testing.T) {
	q, err := NewQuerier(Config{}, testLink, ourAddr, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 31250 * time.Millisecond, 31250*time.Millisecond + 125*time.Second, 31250*time.Millisecond + 250*time.Second}
	var got []time.Duration
	for range want {
		d, ok := q.NextDeadline()
		if !ok {
			t.Fatal("NextDeadline() = none, want the next General Query")
		}
		var out Output
		q.Tick(d.Add(-time.Nanosecond), &out)
		if len(out.Packets) != 0 {
			t.Fatalf("Tick before the deadline sent %d packets, want 0", len(out.Packets))
		}
		q.Tick(d, &out)
		qs := queries(t, q, out)
		if len(qs) != 1 || qs[0].Dst != allNodes || !qs[0].Group.IsUnspecified() || qs[0].Suppress || qs[0].V1 {
			t.Fatalf("at %v sent %+v, want one v2 General Query to ff02::1", d.Sub(t0), qs)
		}
		m, _ := Parse(out.Packets[0].Payload)
		gq := m.(*Query)
		if gq.MaxResponseDelay() != 10*time.Second || gq.QRV != 2 || gq.QueryInterval() != 125*time.Second {
			t.Errorf("general query fields = delay %v QRV %d QQI %v, want 10s 2 125s", gq.MaxResponseDelay(), gq.QRV, gq.QueryInterval())
		}
		got = append(got, d.Sub(t0))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("General Query times (-want +got):\n%s", diff)
	}
}

// TestStartupJitter: the first startup query waits the injected jitter.
func TestStartupJitter(t *testing.T) {
	q, err := NewQuerier(Config{Jitter: func(max time.Duration) time.Duration { return max / 5 }}, testLink, ourAddr, t0)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := q.NextDeadline()
	if want := at(31250 * time.Millisecond / 5); !d.Equal(want) {
		t.Errorf("first query at %v, want %v", d.Sub(t0), want.Sub(t0))
	}
}

// TestSourceTimerExpiresInInclude: RFC 3810 §7.2.3: in INCLUDE mode an
// expired source is deleted, and the group with its last source.
func TestSourceTimerExpiresInInclude(t *testing.T) {
	q := newTestQuerier(t, Config{})
	feed(q, t0, rec(ModeIsInclude, grp, s1))
	feed(q, at(100*time.Second), rec(ModeIsInclude, grp, s2))
	var out Output
	q.Tick(at(mali-time.Nanosecond), &out)
	if len(out.Changes) != 0 {
		t.Fatalf("changes before MALI: %+v", out.Changes)
	}
	q.Tick(at(mali), &out)
	want := []Listener{{LinkIndex: testLink, Group: grp, Mode: Include, Sources: []netip.Addr{s2}}}
	if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
		t.Errorf("changes at s1's expiry (-want +got):\n%s", diff)
	}
	out.Reset()
	q.Tick(at(100*time.Second+mali), &out)
	want = []Listener{{LinkIndex: testLink, Group: grp, Mode: Include}}
	if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
		t.Errorf("changes at the last source's expiry (-want +got):\n%s", diff)
	}
	if !out.Changes[0].Gone() || stateOf(q, at(400*time.Second), grp) != nil {
		t.Errorf("group still present after its last source expired")
	}
}

// TestSourceTimerExpiresInExclude: RFC 3810 §7.2.3: in EXCLUDE mode an
// expired source stays, excluded: its traffic is no longer forwarded.
func TestSourceTimerExpiresInExclude(t *testing.T) {
	q := newTestQuerier(t, Config{})
	feed(q, t0, rec(ModeIsExclude, grp))
	feed(q, t0, rec(AllowNewSources, grp, s1))
	feed(q, at(100*time.Second), rec(ModeIsExclude, grp, s1)) // keeps s1's timer, MAT=MALI
	var out Output
	q.Tick(at(mali), &out)
	want := []Listener{{LinkIndex: testLink, Group: grp, Mode: Exclude, Sources: []netip.Addr{s1}}}
	if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if st := stateOf(q, at(mali), grp); st == nil || st.Sources[s1] != 0 {
		t.Errorf("state = %+v, want s1 kept with timer 0", st)
	}
}

// TestGroupTimerExpires: RFC 3810 §7.5: when the filter timer of an EXCLUDE
// record expires, it switches to INCLUDE with the sources whose timers run;
// the excluded sources go; with none left the record goes.
func TestGroupTimerExpires(t *testing.T) {
	t.Run("to INCLUDE with running sources", func(t *testing.T) {
		q := newTestQuerier(t, Config{})
		feed(q, t0, rec(ModeIsExclude, grp, s2))
		feed(q, at(100*time.Second), rec(AllowNewSources, grp, s1))
		var out Output
		q.Tick(at(mali), &out)
		want := []Listener{{LinkIndex: testLink, Group: grp, Mode: Include, Sources: []netip.Addr{s1}}}
		if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		st := stateOf(q, at(mali), grp)
		wantSt := groupState{Mode: Include, Sources: srcTimers(s1, 100*time.Second)}
		if diff := cmp.Diff(wantSt, *st); diff != "" {
			t.Errorf("state (-want +got):\n%s", diff)
		}
	})
	t.Run("no sources left: deleted", func(t *testing.T) {
		q := newTestQuerier(t, Config{})
		feed(q, t0, rec(ModeIsExclude, grp, s2))
		var out Output
		q.Tick(at(mali), &out)
		want := []Listener{{LinkIndex: testLink, Group: grp, Mode: Include}}
		if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if q.Snapshot(at(mali)).Sources != 0 {
			t.Errorf("source records left after the group went")
		}
	})
}

// TestLastListenerQueries: RFC 3810 §7.6.3.1: after TO_IN({}) in EXCLUDE
// mode the querier sends LLQC Multicast Address Specific Queries LLQI apart
// and the group is gone LLQT later when nobody answers.
func TestLastListenerQueries(t *testing.T) {
	q := newTestQuerier(t, Config{})
	feed(q, t0, rec(ModeIsExclude, grp))
	t1 := at(elapsed)
	out := feed(q, t1, rec(ChangeToInclude, grp))
	mas := sentQuery{Dst: grp, Group: grp}
	if diff := cmp.Diff([]sentQuery{mas}, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("queries at TO_IN (-want +got):\n%s", diff)
	}
	out = Output{}
	q.Tick(t1.Add(time.Second), &out)
	if diff := cmp.Diff([]sentQuery{mas}, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("retransmission after LLQI (-want +got):\n%s", diff)
	}
	out = Output{}
	q.Tick(t1.Add(llqt), &out)
	if got := specificQueries(t, q, out); len(got) != 0 {
		t.Errorf("sent %d more queries, want LLQC = 2 in all", len(got))
	}
	if len(out.Changes) != 1 || !out.Changes[0].Gone() {
		t.Errorf("changes at LLQT = %+v, want the group gone", out.Changes)
	}
}

// TestSFlagOnRetransmission: RFC 3810 §7.6.3.1: a retransmitted query has
// the S flag set when a report raised the group timer above LLQT meanwhile.
func TestSFlagOnRetransmission(t *testing.T) {
	q := newTestQuerier(t, Config{})
	feed(q, t0, rec(ModeIsExclude, grp))
	t1 := at(elapsed)
	feed(q, t1, rec(ChangeToInclude, grp))
	feed(q, t1.Add(500*time.Millisecond), rec(ModeIsExclude, grp)) // a listener answers
	var out Output
	q.Tick(t1.Add(time.Second), &out)
	want := []sentQuery{{Dst: grp, Group: grp, Suppress: true}}
	if diff := cmp.Diff(want, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("retransmission (-want +got):\n%s", diff)
	}
	q.Tick(t1.Add(10*time.Second), &out)
	if st := stateOf(q, t1.Add(10*time.Second), grp); st == nil || st.Mode != Exclude {
		t.Errorf("state = %+v, want EXCLUDE kept alive by the answer", st)
	}
}

// TestSourceSpecificRetransmission: RFC 3810 §7.6.3.2: sources queried get
// LLQC queries; each query is split by S flag according to whether the
// source timer is above LLQT.
func TestSourceSpecificRetransmission(t *testing.T) {
	q := newTestQuerier(t, Config{})
	feed(q, t0, rec(ModeIsInclude, grp, s1, s2))
	t1 := at(elapsed)
	out := feed(q, t1, rec(BlockOldSources, grp, s1, s2))
	if diff := cmp.Diff([]sentQuery{srcQuery(s1, s2)}, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("first query (-want +got):\n%s", diff)
	}
	feed(q, t1.Add(500*time.Millisecond), rec(AllowNewSources, grp, s2)) // s2 still wanted
	out = Output{}
	q.Tick(t1.Add(time.Second), &out)
	want := []sentQuery{srcQuery(s1), {Dst: grp, Group: grp, Sources: []netip.Addr{s2}, Suppress: true}}
	if diff := cmp.Diff(want, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("retransmission (-want +got):\n%s", diff)
	}
	out = Output{}
	q.Tick(t1.Add(llqt), &out)
	wantCh := []Listener{{LinkIndex: testLink, Group: grp, Mode: Include, Sources: []netip.Addr{s2}}}
	if diff := cmp.Diff(wantCh, states(out.Changes), addrCmp); diff != "" {
		t.Errorf("changes at LLQT (-want +got):\n%s", diff)
	}
	if got := specificQueries(t, q, out); len(got) != 0 {
		t.Errorf("queries after LLQC = %+v, want none", got)
	}
}

// TestOlderVersionHostPresentTimer: RFC 3810 §8.3.2: the group returns to
// MLDv2 mode when no MLDv1 report was heard for the Older Version Host
// Present Timeout.
func TestOlderVersionHostPresentTimer(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(hostAddr, grp, &V1Report{Group: grp}), &out)
	feed(q, at(100*time.Second), rec(ModeIsExclude, grp)) // a v2 host keeps the group
	compat := func(now time.Time) Version {
		for _, g := range q.Snapshot(now).Groups {
			if g.Group == grp {
				return g.Compat
			}
		}
		return 0
	}
	q.Tick(at(mali-time.Second), &out)
	if c := compat(at(mali - time.Second)); c != Version1 {
		t.Errorf("compat before the timeout = %v, want v1", c)
	}
	q.Tick(at(mali), &out)
	if c := compat(at(mali)); c != Version2 {
		t.Errorf("compat after the timeout = %v, want v2", c)
	}
}

// TestNextDeadlineTracksEarliestTimer: NextDeadline is the earliest timer.
func TestNextDeadlineTracksEarliestTimer(t *testing.T) {
	q := newTestQuerier(t, Config{StartupQueryCount: 1})
	feed(q, t0, rec(ModeIsInclude, grp, s1))
	if d, _ := q.NextDeadline(); !d.Equal(at(125 * time.Second)) {
		t.Errorf("NextDeadline = %v, want the general query at 125s", d.Sub(t0))
	}
	feed(q, at(time.Second), rec(BlockOldSources, grp, s1))
	if d, _ := q.NextDeadline(); !d.Equal(at(2 * time.Second)) {
		t.Errorf("NextDeadline = %v, want the retransmission at 2s", d.Sub(t0))
	}
}

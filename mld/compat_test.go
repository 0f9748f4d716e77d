package mld

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func v1Report(g netip.Addr) Message { return &V1Report{Group: g} }
func v1Done(g netip.Addr) Message   { return &V1Done{Group: g} }

// TestV1ReportPutsGroupInV1Mode: RFC 3810 §8.3.2: an MLDv1 Report is
// IS_EX({}) and starts the Older Version Host Present timer.
func TestV1ReportPutsGroupInV1Mode(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Report(grp)), &out)
	want := []Listener{{LinkIndex: testLink, Group: grp, Mode: Exclude}}
	if diff := cmp.Diff(want, states(out.Changes), addrCmp); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	gs := q.Snapshot(t0).Groups[0]
	if gs.Compat != Version1 || gs.CompatTimer != mali || gs.Mode != Exclude || gs.FilterTimer != mali {
		t.Errorf("group = compat %v timer %v mode %v filter %v; want v1 260s EXCLUDE 260s", gs.Compat, gs.CompatTimer, gs.Mode, gs.FilterTimer)
	}
}

// TestV1CompatIgnoresBlockAndToExSources: RFC 3810 §8.3.2: in MLDv1 mode
// BLOCK records and the source lists of TO_EX records are ignored.
func TestV1CompatIgnoresBlockAndToExSources(t *testing.T) {
	tests := []struct {
		name   string
		record Record
		want   groupState
	}{
		{"BLOCK ignored", rec(BlockOldSources, grp, s1), groupState{Mode: Exclude, Filter: mali - elapsed, Sources: srcTimers()}},
		{"TO_EX sources ignored", rec(ChangeToExclude, grp, s1), groupState{Mode: Exclude, Filter: mali, Sources: srcTimers()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			var out Output
			q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Report(grp)), &out)
			feed(q, at(elapsed), tc.record)
			if diff := cmp.Diff(tc.want, *stateOf(q, at(elapsed), grp)); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			if c := q.Counters(); c.IgnoredFor(IgnoreCompatBlock) != 1 {
				t.Errorf("v1-compat ignores = %d, want 1", c.IgnoredFor(IgnoreCompatBlock))
			}
		})
	}
}

// TestV1DoneQueriesAndLeaves: RFC 3810 §8.3.2: an MLDv1 Done is TO_IN({}):
// the querier sends Multicast Address Specific Queries and the group is gone
// after LLQT without an answer.
func TestV1DoneQueriesAndLeaves(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Report(grp)), &out)
	out = Output{}
	q.HandlePacket(at(elapsed), packetFrom(hostAddr, allRoutersLL, v1Done(grp)), &out)
	if diff := cmp.Diff([]sentQuery{{Dst: grp, Group: grp}}, specificQueries(t, q, out), addrCmp); diff != "" {
		t.Errorf("queries after Done (-want +got):\n%s", diff)
	}
	out = Output{}
	q.Tick(at(elapsed+llqt), &out)
	if len(out.Changes) != 1 || !out.Changes[0].Gone() {
		t.Errorf("changes = %+v, want the group gone at LLQT", out.Changes)
	}
}

var allRoutersLL = netip.MustParseAddr("ff02::2")

// TestVersionSetting: an interface set to one version ignores the other's
// reports (counted) and a v1 interface sends 24-byte MLDv1 queries.
func TestVersionSetting(t *testing.T) {
	t.Run("v2 only drops MLDv1", func(t *testing.T) {
		q := newTestQuerier(t, Config{Version: Version2})
		var out Output
		q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Report(grp)), &out)
		q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Done(grp)), &out)
		if c := q.Counters(); c.Drops(DropVersion) != 2 || len(q.Snapshot(t0).Groups) != 0 {
			t.Errorf("version drops %d, groups %d; want 2, 0", c.Drops(DropVersion), len(q.Snapshot(t0).Groups))
		}
	})
	t.Run("v1 only drops MLDv2 reports and queries in v1", func(t *testing.T) {
		q, _ := NewQuerier(Config{Version: Version1}, testLink, ourAddr, t0)
		var out Output
		q.Tick(t0, &out)
		if len(out.Packets) != 1 || len(out.Packets[0].Payload) != 24 {
			t.Fatalf("v1 general query = %d packets, want one of 24 bytes", len(out.Packets))
		}
		feed(q, t0, rec(ModeIsExclude, grp))
		if c := q.Counters(); c.Drops(DropVersion) != 1 {
			t.Errorf("version drops = %d, want 1", c.Drops(DropVersion))
		}
		q.HandlePacket(t0, packetFrom(hostAddr, grp, v1Report(grp)), &out)
		out = Output{}
		q.HandlePacket(at(time.Second), packetFrom(hostAddr, allRoutersLL, v1Done(grp)), &out)
		qs := specificQueries(t, q, out)
		if len(qs) != 1 || !qs[0].V1 || qs[0].Group != grp {
			t.Errorf("after Done sent %+v, want one MLDv1 Multicast Address Specific Query", qs)
		}
		m, _ := Parse(out.Packets[0].Payload)
		if d := m.(*Query).MaxResponseDelay(); d != time.Second {
			t.Errorf("v1 query delay = %v, want LLQI 1s", d)
		}
	})
}

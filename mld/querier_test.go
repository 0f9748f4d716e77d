package mld

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6d/pim6d/stack"
)

func generalQuery(qrv uint8, qi time.Duration) *Query {
	return &Query{MaxRespCode: EncodeMaxRespCode(10 * time.Second), QRV: qrv, QQIC: EncodeQQIC(qi)}
}

// TestQuerierElection: RFC 3810 §7.6.2: the lowest address is querier.
func TestQuerierElection(t *testing.T) {
	lower := netip.MustParseAddr("fe80::1")
	higher := netip.MustParseAddr("fe80::99")
	tests := []struct {
		name        string
		from        netip.Addr
		wantQuerier bool
	}{
		{"query from a lower address silences us", lower, false},
		{"query from a higher address does not", higher, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			var out Output
			q.HandlePacket(at(time.Second), packetFrom(tc.from, allNodes, generalQuery(2, 125*time.Second)), &out)
			if q.IsQuerier() != tc.wantQuerier {
				t.Errorf("IsQuerier() = %v, want %v", q.IsQuerier(), tc.wantQuerier)
			}
			out = Output{}
			q.Tick(at(200*time.Second), &out) // past the second startup query and one interval
			if sent := len(out.Packets) > 0; sent != tc.wantQuerier {
				t.Errorf("sent queries = %v, want %v", sent, tc.wantQuerier)
			}
		})
	}
}

// TestOtherQuerierPresentTimer: RFC 3810 §7.6.2, §9.5: a silenced router
// becomes querier again when the querier has been quiet for the Other
// Querier Present Interval (RV*QI + QRI/2 = 255s), and queries at once.
func TestOtherQuerierPresentTimer(t *testing.T) {
	q := newTestQuerier(t, Config{})
	lower := netip.MustParseAddr("fe80::1")
	var out Output
	q.HandlePacket(at(time.Second), packetFrom(lower, allNodes, generalQuery(2, 125*time.Second)), &out)
	if sn := q.Snapshot(at(time.Second)); sn.QuerierAddress != lower || sn.OtherQuerierPresent != 255*time.Second {
		t.Fatalf("snapshot querier %v timer %v, want %v 255s", sn.QuerierAddress, sn.OtherQuerierPresent, lower)
	}
	// a refresh restarts the timer
	q.HandlePacket(at(100*time.Second), packetFrom(lower, allNodes, generalQuery(2, 125*time.Second)), &out)
	out = Output{}
	q.Tick(at(354*time.Second), &out)
	if len(out.Packets) != 0 || q.IsQuerier() {
		t.Fatalf("took over before the Other Querier Present timer expired")
	}
	q.Tick(at(355*time.Second), &out)
	qs := queries(t, q, out)
	if !q.IsQuerier() || len(qs) != 1 || qs[0].Dst != allNodes {
		t.Errorf("at expiry: querier %v, queries %+v; want querier with one General Query", q.IsQuerier(), qs)
	}
	if d, _ := q.NextDeadline(); !d.Equal(at(355*time.Second + 125*time.Second)) {
		t.Errorf("next General Query at %v, want a Query Interval later", d.Sub(t0))
	}
}

// TestAdoptQuerierRobustnessAndInterval: RFC 3810 §5.1.8, §5.1.9: a
// non-querier uses the querier's QRV and QQI, which change its timers.
func TestAdoptQuerierRobustnessAndInterval(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(netip.MustParseAddr("fe80::1"), allNodes, generalQuery(3, 60*time.Second)), &out)
	sn := q.Snapshot(t0)
	if sn.Robustness != 3 || sn.QueryInterval != 60*time.Second {
		t.Errorf("operational RV, QI = %d, %v; want 3, 60s", sn.Robustness, sn.QueryInterval)
	}
	if sn.OtherQuerierPresent != 3*60*time.Second+5*time.Second {
		t.Errorf("Other Querier Present = %v, want 185s", sn.OtherQuerierPresent)
	}
	feed(q, t0, rec(ModeIsInclude, grp, s1))
	if st := stateOf(q, t0, grp); st.Sources[s1] != 3*60*time.Second+10*time.Second {
		t.Errorf("source timer = %v, want MALI with the adopted values, 190s", st.Sources[s1])
	}
}

// TestReceivedSpecificQueryLowersTimers: RFC 3810 §7.6.1: queries with the S
// flag clear lower the group or source timers to LLQT; with S set they don't.
func TestReceivedSpecificQueryLowersTimers(t *testing.T) {
	querier := netip.MustParseAddr("fe80::1")
	tests := []struct {
		name       string
		query      *Query
		wantFilter time.Duration
		wantS1     time.Duration
	}{
		{"MAS query, S clear", &Query{MaxRespCode: 1000, Group: grp}, llqt, mali},
		{"MAS query, S set", &Query{MaxRespCode: 1000, Group: grp, SuppressRouterSide: true}, mali, mali},
		{"MASSQ, S clear", &Query{MaxRespCode: 1000, Group: grp, Sources: []netip.Addr{s1}}, mali, llqt},
		{"MASSQ, S set", &Query{MaxRespCode: 1000, Group: grp, Sources: []netip.Addr{s1}, SuppressRouterSide: true}, mali, mali},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			var out Output
			q.HandlePacket(t0, packetFrom(querier, allNodes, generalQuery(2, 125*time.Second)), &out)
			feed(q, t0, rec(ModeIsExclude, grp), rec(AllowNewSources, grp, s1))
			q.HandlePacket(t0, packetFrom(querier, grp, tc.query), &out)
			st := stateOf(q, t0, grp)
			if st.Filter != tc.wantFilter || st.Sources[s1] != tc.wantS1 {
				t.Errorf("group timer %v, s1 timer %v; want %v, %v", st.Filter, st.Sources[s1], tc.wantFilter, tc.wantS1)
			}
		})
	}
}

// link connects queriers on one simulated LAN: every packet one sends is
// delivered to the others, as a real link would.
type link struct {
	qs  []*Querier
	out []Output
}

func (l *link) run(t *testing.T, until time.Time) {
	t.Helper()
	for {
		// earliest deadline among all routers
		var next time.Time
		idx := -1
		for i, q := range l.qs {
			if q == nil {
				continue
			}
			if d, ok := q.NextDeadline(); ok && (idx < 0 || d.Before(next)) {
				next, idx = d, i
			}
		}
		if idx < 0 || next.After(until) {
			return
		}
		var out Output
		l.qs[idx].Tick(next, &out)
		l.out[idx].Packets = append(l.out[idx].Packets, out.Packets...)
		for _, p := range out.Packets {
			for j, other := range l.qs {
				if j == idx || other == nil {
					continue
				}
				var o Output
				other.HandlePacket(next, stack.Packet{LinkIndex: testLink, Src: p.Src, Dst: p.Dst, HopLimit: 1, RouterAlert: true, Proto: 58, Payload: p.Payload}, &o)
				l.out[j].Packets = append(l.out[j].Packets, o.Packets...)
			}
		}
	}
}

// TestTwoRoutersElectAndTakeOver: two routers on one link: the lower address
// becomes querier and the other goes quiet; when the querier stops, the other
// takes over after the Other Querier Present Interval (RFC 3810 §7.6.2).
func TestTwoRoutersElectAndTakeOver(t *testing.T) {
	cfg := Config{QueryInterval: 10 * time.Second, QueryResponseInterval: 2 * time.Second}
	a, _ := NewQuerier(cfg, testLink, netip.MustParseAddr("fe80::a"), t0)
	b, _ := NewQuerier(cfg, testLink, netip.MustParseAddr("fe80::b"), t0)
	l := &link{qs: []*Querier{a, b}, out: make([]Output, 2)}
	l.run(t, at(60*time.Second))
	if !a.IsQuerier() || b.IsQuerier() {
		t.Fatalf("querier a %v, b %v; want a (lower address) only", a.IsQuerier(), b.IsQuerier())
	}
	l.out[1] = Output{}
	l.run(t, at(100*time.Second))
	if n := len(l.out[1].Packets); n != 0 {
		t.Errorf("non-querier b sent %d queries, want 0", n)
	}
	// a stops at 100s; its last query was at 92.5s (startup at 0 and 2.5s, then every 10s)
	l.qs[0] = nil
	oqpi := 2*10*time.Second + time.Second
	l.run(t, at(92500*time.Millisecond).Add(oqpi-time.Nanosecond))
	if b.IsQuerier() {
		t.Fatalf("b took over before the Other Querier Present Interval")
	}
	l.run(t, at(92500*time.Millisecond).Add(oqpi))
	if !b.IsQuerier() || len(l.out[1].Packets) != 1 {
		t.Errorf("after OQPI: b querier %v, sent %d; want querier with one General Query", b.IsQuerier(), len(l.out[1].Packets))
	}
}

// TestOwnQueryIgnored: our own query looped back changes nothing.
func TestOwnQueryIgnored(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(ourAddr, allNodes, generalQuery(2, 125*time.Second)), &out)
	c := q.Counters()
	if !q.IsQuerier() || c.Drops(DropOwnQuery) != 1 {
		t.Errorf("querier %v, own-query drops %d; want querier, 1", q.IsQuerier(), c.Drops(DropOwnQuery))
	}
}

// TestSetAddressLowerTakesOver: a router whose address drops below the
// querier's becomes querier (§7.6.2).
func TestSetAddressLowerTakesOver(t *testing.T) {
	q := newTestQuerier(t, Config{})
	var out Output
	q.HandlePacket(t0, packetFrom(netip.MustParseAddr("fe80::5"), allNodes, generalQuery(2, 125*time.Second)), &out)
	out = Output{}
	if err := q.SetAddress(at(time.Second), netip.MustParseAddr("fe80::2"), &out); err != nil {
		t.Fatal(err)
	}
	if !q.IsQuerier() || len(out.Packets) != 1 {
		t.Errorf("querier %v, sent %d; want querier with one General Query", q.IsQuerier(), len(out.Packets))
	}
}

// TestCloseReportsAllGone: closing the interface reports every group gone.
func TestCloseReportsAllGone(t *testing.T) {
	q := newTestQuerier(t, Config{})
	g2 := netip.MustParseAddr("ff0e::2")
	feed(q, t0, rec(ModeIsExclude, grp), rec(ModeIsInclude, g2, s1))
	var out Output
	q.Close(&out)
	if len(out.Changes) != 2 || !out.Changes[0].Gone() || !out.Changes[1].Gone() {
		t.Errorf("changes = %+v, want both groups gone", out.Changes)
	}
	if _, ok := q.NextDeadline(); ok {
		t.Errorf("timers still armed after Close")
	}
}

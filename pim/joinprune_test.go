package pim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
)

// upstreamRPF: S is reached over interface 1 via the upstream router's global
// address glob(100), which only its Address List option reveals (§4.3.4).
var upstreamRPF = rpfTable{netip.MustParsePrefix("2001:db8:5::/48"): {ifindex: 1, nexthop: glob(100), pref: 110, metric: 10}}

// newMidRouter: interface 1 toward the upstream neighbour fe80::100, interface 2
// downstream with neighbours fe80::200 (and fe80::201 when lan).
func newMidRouter(t *testing.T, lan bool) *Router {
	t.Helper()
	// DR priority 100 on interface 2: we are DR there, so local listeners count.
	r := newTestRouter(t, 1, upstreamRPF, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2), DRPriority: 100})
	// Holdtime 0xffff: the neighbours stay without refreshes.
	forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
	r.Receive(t0, 1, ll(100), AllPIMRouters, hello(1, forever, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(100)} }))
	r.Receive(t0, 2, ll(200), AllPIMRouters, hello(2, forever))
	if lan {
		r.Receive(t0, 2, ll(201), AllPIMRouters, hello(3, forever))
	}
	r.Tick(at(5 * time.Second)) // pay the triggered Hellos
	r.Outbox()
	return r
}

func jpEntries(out []Send) (joins, prunes map[netip.Addr][]netip.Addr) {
	joins, prunes = map[netip.Addr][]netip.Addr{}, map[netip.Addr][]netip.Addr{}
	for _, s := range out {
		jp, ok := s.Message.(*wire.JoinPrune)
		if !ok {
			continue
		}
		for _, g := range jp.Groups {
			for _, j := range g.Joins {
				joins[jp.UpstreamNeighbor] = append(joins[jp.UpstreamNeighbor], j.Addr)
			}
			for _, p := range g.Prunes {
				prunes[jp.UpstreamNeighbor] = append(prunes[jp.UpstreamNeighbor], p.Addr)
			}
		}
	}
	return joins, prunes
}

func TestDownstreamSG(t *testing.T) {
	// RFC 7761 §4.5.2, downstream (S,G) state machine on interface 2.
	type step struct {
		at   time.Duration
		from netip.Addr
		msg  *wire.JoinPrune
	}
	join := func(at time.Duration, ht uint16) step {
		return step{at, ll(200), joinMsg(ll(2), ht, grpG, []netip.Addr{srcS}, nil)}
	}
	prune := func(at time.Duration) step {
		return step{at, ll(200), joinMsg(ll(2), 210, grpG, nil, []netip.Addr{srcS})}
	}
	tests := []struct {
		name      string
		lan       bool
		steps     []step
		check     time.Duration
		wantState string
		wantOIF   bool
		wantEcho  bool
	}{
		{name: "NoInfo-Join: receive Join starts Expiry Timer", steps: []step{join(10*time.Second, 210)},
			check: 219 * time.Second, wantState: "Join", wantOIF: true},
		{name: "Join-NoInfo: Expiry Timer expires at HoldTime", steps: []step{join(10*time.Second, 210)},
			check: 221 * time.Second, wantState: "NoInfo"},
		{name: "Join-Join: Join restarts Expiry Timer with max", steps: []step{join(10*time.Second, 210), join(100*time.Second, 30)},
			check: 219 * time.Second, wantState: "Join", wantOIF: true},
		{name: "Join-Join: later Join extends", steps: []step{join(10*time.Second, 210), join(100*time.Second, 210)},
			check: 300 * time.Second, wantState: "Join", wantOIF: true},
		{name: "Join-NoInfo: Prune with one neighbour prunes at once", steps: []step{join(10*time.Second, 210), prune(20 * time.Second)},
			check: 20 * time.Second, wantState: "NoInfo"},
		{name: "Join-PrunePending: Prune on a LAN waits J/P_Override_Interval", lan: true,
			steps: []step{join(10*time.Second, 210), prune(20 * time.Second)},
			check: 22900 * time.Millisecond, wantState: "PrunePending", wantOIF: true},
		{name: "PrunePending-NoInfo: PrunePending Timer expires, PruneEcho sent", lan: true,
			steps: []step{join(10*time.Second, 210), prune(20 * time.Second)},
			check: 23100 * time.Millisecond, wantState: "NoInfo", wantEcho: true},
		{name: "PrunePending-Join: Join overrides the Prune", lan: true,
			steps: []step{join(10*time.Second, 210), prune(20 * time.Second), {21 * time.Second, ll(201), joinMsg(ll(2), 210, grpG, []netip.Addr{srcS}, nil)}},
			check: 30 * time.Second, wantState: "Join", wantOIF: true},
		{name: "NoInfo: Prune without state does nothing", steps: []step{prune(20 * time.Second)},
			check: 20 * time.Second, wantState: "NoInfo"},
		{name: "Join: holdtime 0xffff never expires", steps: []step{join(10*time.Second, 0xffff)},
			check: 100 * time.Hour, wantState: "Join", wantOIF: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMidRouter(t, tt.lan)
			var out []Send
			now := at(5 * time.Second)
			for _, s := range tt.steps {
				out = append(out, runUntil(r, now, at(s.at))...)
				now = at(s.at)
				r.Receive(now, 2, s.from, AllPIMRouters, s.msg)
				o, _ := r.Outbox()
				out = append(out, o...)
			}
			out = append(out, runUntil(r, now, at(tt.check))...)
			rs, _ := routeState(r, srcS, grpG, at(tt.check))
			if got := ifState(rs, 2).JoinState; got != tt.wantState {
				t.Errorf("state at %v = %s, want %s", tt.check, got, tt.wantState)
			}
			if got := slices.Contains(rs.OIFs, 2); got != tt.wantOIF {
				t.Errorf("interface 2 in olist = %v, want %v", got, tt.wantOIF)
			}
			_, prunes := jpEntries(out)
			if got := len(prunes[ll(2)]) > 0; got != tt.wantEcho {
				t.Errorf("PruneEcho sent = %v, want %v", got, tt.wantEcho)
			}
		})
	}
}

func TestUpstreamSG(t *testing.T) {
	// RFC 7761 §4.5.7, upstream (S,G) state machine; RPF'(S,G) is fe80::100,
	// found through its secondary address 2001:db8::100 (§4.3.4).
	r := newMidRouter(t, false)
	now := at(10 * time.Second)
	r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
	out, changes := r.Outbox()
	joins, _ := jpEntries(out)
	if !slices.Equal(joins[ll(100)], []netip.Addr{srcS}) {
		t.Fatalf("NotJoined->Joined: joins sent %v, want Join(S,G) to fe80::100", joins)
	}
	if len(changes) != 1 || changes[0].IIF != 1 || !slices.Equal(changes[0].OIFs, []int{2}) || changes[0].Upstream != ll(100) {
		t.Fatalf("forwarding changes = %+v, want iif 1 oifs [2] upstream fe80::100", changes)
	}
	rs, _ := routeState(r, srcS, grpG, now)
	if rs.UpstreamState != "Joined" || rs.JoinTimer != 60*time.Second {
		t.Fatalf("upstream %s JT %v, want Joined 60s", rs.UpstreamState, rs.JoinTimer)
	}

	t.Run("Joined: Join Timer expiry sends periodic Join", func(t *testing.T) {
		out := runUntil(r, now, now.Add(61*time.Second))
		if j, _ := jpEntries(out); len(j[ll(100)]) != 1 {
			t.Errorf("joins in 61 s = %v, want 1 to fe80::100", j)
		}
		now = now.Add(61 * time.Second)
	})
	t.Run("Joined: See Join to RPF' suppresses (T bit clear)", func(t *testing.T) {
		// Another router without tracking support: suppression enabled.
		r.Receive(now, 1, ll(101), AllPIMRouters, hello(9, func(h *wire.Hello) { h.LANPruneDelay.TrackingSupport = false }))
		r.Receive(now, 1, ll(101), AllPIMRouters, joinMsg(glob(100), 210, grpG, []netip.Addr{srcS}, nil))
		rs, _ := routeState(r, srcS, grpG, now)
		if rs.JoinTimer < 66*time.Second || rs.JoinTimer > 84*time.Second {
			t.Errorf("JT after seen Join = %v, want t_suppressed in [66s, 84s]", rs.JoinTimer)
		}
	})
	t.Run("Joined: See Prune to RPF' overrides within t_override", func(t *testing.T) {
		r.Outbox()
		r.Receive(now, 1, ll(101), AllPIMRouters, joinMsg(ll(100), 210, grpG, nil, []netip.Addr{srcS}))
		rs, _ := routeState(r, srcS, grpG, now)
		if rs.JoinTimer > 2500*time.Millisecond {
			t.Errorf("JT after seen Prune = %v, want <= 2.5s", rs.JoinTimer)
		}
		out := runUntil(r, now, now.Add(2600*time.Millisecond))
		if j, _ := jpEntries(out); len(j[ll(100)]) != 1 {
			t.Errorf("override joins = %v, want 1 Join to fe80::100", j)
		}
		now = now.Add(3 * time.Second)
	})
	t.Run("Joined->NotJoined: JoinDesired false sends Prune", func(t *testing.T) {
		r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipNone})
		out, changes := r.Outbox()
		if _, p := jpEntries(out); !slices.Equal(p[ll(100)], []netip.Addr{srcS}) {
			t.Errorf("prunes = %v, want Prune(S,G) to fe80::100", p)
		}
		if len(changes) != 1 || !changes[0].Deleted {
			t.Errorf("changes = %+v, want the entry deleted", changes)
		}
		if r.RouteCount() != 0 {
			t.Errorf("RouteCount = %d, want 0", r.RouteCount())
		}
	})
}

func TestSSMRejectsWildcardAndRpt(t *testing.T) {
	// RFC 4607 §2 / RFC 7761 §4.8: in the SSM range only (S,G) state exists.
	r := newMidRouter(t, false)
	m := &wire.JoinPrune{UpstreamNeighbor: ll(2), Holdtime: 210, Groups: []wire.JoinPruneGroup{{
		Group: wire.EncodedGroup{Addr: grpG, MaskLen: 128},
		Joins: []wire.EncodedSource{
			{Addr: glob(7), MaskLen: 128, Sparse: true, WC: true, RPT: true},
			{Addr: srcS, MaskLen: 128, Sparse: true, RPT: true},
			{Addr: srcS, MaskLen: 64, Sparse: true},
		},
	}}}
	r.Receive(at(10*time.Second), 2, ll(200), AllPIMRouters, m)
	r.SetLocalMembership(at(10*time.Second), LocalMembership{Interface: 2, Group: grpG, Mode: MembershipInclude})
	for _, reason := range []Reason{ReasonWildcardSSM, ReasonRptSSM, ReasonBadSource, ReasonLocalMembershipSSMWildcard} {
		if r.Drops(reason) != 1 {
			t.Errorf("Drops(%v) = %d, want 1", reason, r.Drops(reason))
		}
	}
	if r.RouteCount() != 0 {
		t.Errorf("RouteCount = %d, want 0", r.RouteCount())
	}
}

func TestJoinPruneFromNonNeighborIgnored(t *testing.T) {
	r := newMidRouter(t, false)
	r.Receive(at(10*time.Second), 2, ll(999), AllPIMRouters, joinMsg(ll(2), 210, grpG, []netip.Addr{srcS}, nil))
	if r.Drops(ReasonNotNeighbor) != 1 || r.RouteCount() != 0 {
		t.Errorf("drops %d routes %d, want 1 drop and no state (§4.5)", r.Drops(ReasonNotNeighbor), r.RouteCount())
	}
}

func TestRPFChangeMovesJoin(t *testing.T) {
	// §4.5.7 "RPF'(S,G) changes not due to an Assert": Join to the new, Prune to the old.
	rpf := rpfTable{netip.MustParsePrefix("2001:db8:5::/48"): {ifindex: 1, nexthop: ll(100)}}
	r := newTestRouter(t, 1, rpf, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2)}, Interface{Index: 3, LinkLocal: ll(3)})
	r.Receive(t0, 1, ll(100), AllPIMRouters, hello(1))
	r.Receive(t0, 3, ll(300), AllPIMRouters, hello(1))
	r.SetLocalMembership(t0, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
	r.Outbox()
	rpf[netip.MustParsePrefix("2001:db8:5::/48")] = rpfAnswer{ifindex: 3, nexthop: ll(300)}
	r.RouteChanged(at(time.Second), netip.MustParsePrefix("2001:db8:5::/64"))
	out, changes := r.Outbox()
	joins, prunes := jpEntries(out)
	if len(joins[ll(300)]) != 1 || len(prunes[ll(100)]) != 1 {
		t.Errorf("joins %v prunes %v, want Join to fe80::300 and Prune to fe80::100", joins, prunes)
	}
	if len(changes) != 1 || changes[0].IIF != 3 {
		t.Errorf("changes = %+v, want iif 3", changes)
	}
}

func TestPackingRespectsMTU(t *testing.T) {
	var groups []wire.JoinPruneGroup
	for g := 0; g < 40; g++ {
		grp := wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: netip.AddrFrom16([16]byte{0xff, 0x3e, 15: byte(g)}), MaskLen: 128}}
		for s := 0; s < 30; s++ {
			grp.Joins = append(grp.Joins, wire.EncodedSource{Addr: netip.AddrFrom16([16]byte{0x20, 0x01, 14: byte(g), 15: byte(s)}), MaskLen: 128, Sparse: true})
		}
		groups = append(groups, grp)
	}
	msgs := packJoinPrune(ll(1), 210, groups, 1500-40)
	total := 0
	for _, m := range msgs {
		n, err := wire.Marshal(ll(2), AllPIMRouters, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(n) > 1460 || len(n) != joinPruneLen(m) {
			t.Errorf("message of %d bytes (computed %d), want <= 1460 and equal", len(n), joinPruneLen(m))
		}
		for _, g := range m.Groups {
			total += len(g.Joins)
		}
	}
	if total != 1200 {
		t.Errorf("packed %d joins, want 1200", total)
	}
	if want := (1200*20 + 1459) / 1400; len(msgs) > want+2 {
		t.Errorf("%d messages, want about %d (many groups per message)", len(msgs), want)
	}
}

func TestPeriodicJoinsAreSpread(t *testing.T) {
	// 20,000 entries joined in one burst: the periodic refreshes go out spread
	// in pacer slots, not in one burst, and stay spread.
	r := newMidRouter(t, false)
	now := at(10 * time.Second)
	var ms []LocalMembership
	for i := range 20000 {
		s := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 5, 12: byte(i >> 16), 13: byte(i >> 8), 14: byte(i)})
		ms = append(ms, LocalMembership{Interface: 2, Group: grpG, Source: s, Mode: MembershipInclude})
	}
	r.SetLocalMemberships(now, ms)
	r.Outbox()
	perSecond := map[int64]int{}
	end := now.Add(3 * time.Minute)
	for {
		d := r.NextDeadline()
		if d.After(end) {
			break
		}
		r.Tick(d)
		out, _ := r.Outbox()
		j, _ := jpEntries(out)
		perSecond[d.Unix()] += len(j[ll(100)])
	}
	total, peak := 0, 0
	for _, n := range perSecond {
		total += n
		peak = max(peak, n)
	}
	if total < 40000 {
		t.Errorf("refreshed %d entries in 3 min, want >= 40000 (each refreshed every 60 s)", total)
	}
	if peak > 20000/5 {
		t.Errorf("peak %d entries in one second, want spread (< %d)", peak, 20000/5)
	}
}

func TestWildcardJoinRPCheck(t *testing.T) {
	// RFC 7761 §4.5.1: a (*,G) Join must name RP(G); §4.8: none in the SSM range.
	asm := netip.MustParseAddr("ff0e::1234")
	noRP := netip.MustParseAddr("ff0e::9999")
	rp := glob(0x77)
	tests := []struct {
		name      string
		group     netip.Addr
		rpInMsg   netip.Addr
		reason    Reason
		wantState bool
	}{
		{"§4.5.1 Join(*,G) to RP(G) creates (*,G)", asm, rp, 0, true},
		{"§4.5.1 Join(*,G) naming another RP is ignored", asm, glob(0x78), ReasonWrongRP, false},
		{"Join(*,G) for a group without RP is dropped", noRP, rp, ReasonNoRP, false},
		{"RFC 4607 Join(*,G) in the SSM range is dropped", grpG, rp, ReasonWildcardSSM, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, 1, rpfTable{netip.PrefixFrom(rp, 128): {ifindex: 1, nexthop: ll(100)}}, func(c *Config) {
				c.RP = func(g netip.Addr) (netip.Addr, bool) { return rp, g == asm }
			}, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2)})
			r.Receive(t0, 2, ll(200), AllPIMRouters, hello(1))
			m := &wire.JoinPrune{UpstreamNeighbor: ll(2), Holdtime: 210, Groups: []wire.JoinPruneGroup{{
				Group: wire.EncodedGroup{Addr: tt.group, MaskLen: 128},
				Joins: []wire.EncodedSource{{Addr: tt.rpInMsg, MaskLen: 128, Sparse: true, WC: true, RPT: true}},
			}}}
			r.Receive(t0, 2, ll(200), AllPIMRouters, m)
			if tt.reason != 0 && r.Drops(tt.reason) != 1 {
				t.Errorf("Drops(%v) = %d, want 1", tt.reason, r.Drops(tt.reason))
			}
			_, ok := routeState(r, netip.IPv6Unspecified(), tt.group, t0)
			if ok != tt.wantState {
				t.Errorf("(*,G) state exists = %v, want %v", ok, tt.wantState)
			}
		})
	}
}

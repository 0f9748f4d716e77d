package pim

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

// ASM test group and its RP, reached over interface 1 like S.
var (
	asmG     = netip.MustParseAddr("ff0e::4321:1234")
	rpA      = netip.MustParseAddr("2001:db8:99::1")
	anySrc   = netip.IPv6Unspecified()
	rptRPF   = rpfTable{sPrefix: {ifindex: 1, nexthop: glob(100), pref: 110, metric: 10}, netip.PrefixFrom(rpA, 128): {ifindex: 1, nexthop: glob(100), pref: 110, metric: 20}}
	withRPA  = func(c *Config) { c.RP = func(g netip.Addr) (netip.Addr, bool) { return rpA, !DefaultIsSSM(g) } }
	foreverH = func(h *wire.Hello) { h.Holdtime = 0xffff }
)

func wcSrc(rp netip.Addr) wire.EncodedSource {
	return wire.EncodedSource{Addr: rp, MaskLen: 128, Sparse: true, WC: true, RPT: true}
}
func rptSrc(s netip.Addr) wire.EncodedSource {
	return wire.EncodedSource{Addr: s, MaskLen: 128, Sparse: true, RPT: true}
}
func sgSrc(s netip.Addr) wire.EncodedSource {
	return wire.EncodedSource{Addr: s, MaskLen: 128, Sparse: true}
}

func jp(up netip.Addr, ht uint16, g netip.Addr, joins, prunes []wire.EncodedSource) *wire.JoinPrune {
	return &wire.JoinPrune{UpstreamNeighbor: up, Holdtime: ht, Groups: []wire.JoinPruneGroup{
		{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}, Joins: joins, Prunes: prunes}}}
}

// fwdView is what mfib would hold: the latest ForwardingChange per entry.
type fwdView map[[2]netip.Addr]ForwardingChange

func (v fwdView) apply(chs []ForwardingChange) {
	for _, c := range chs {
		k := [2]netip.Addr{c.Source, c.Group}
		if c.Deleted {
			delete(v, k)
		} else {
			v[k] = c
		}
	}
}

// forwardsOn reports whether a packet from s to g goes out on oif: the (S,G)
// entry when there is one, else the (*,G) entry (longest match, as mfib).
func (v fwdView) forwardsOn(s, g netip.Addr, oif int) bool {
	fc, ok := v[[2]netip.Addr{s, g}]
	if !ok {
		fc, ok = v[[2]netip.Addr{anySrc, g}]
	}
	return ok && slices.Contains(fc.OIFs, oif)
}

func (v fwdView) take(r *Router) []Send {
	out, ch := r.Outbox()
	v.apply(ch)
	return out
}

// runView is runUntil keeping the forwarding changes.
func runView(r *Router, v fwdView, from, end time.Time) []Send {
	return tickUntil(r, from, end, v.take)
}

// newRptRouter: interface 1 toward S and RP(G) (upstream fe80::100, known by
// glob(100) through its Address List; fe80::101 is another downstream router
// on that LAN), interface 2 downstream with fe80::200 (and fe80::201 when
// lan), interface 3 downstream with fe80::300. We are DR on 2 and 3.
func newRptRouter(t *testing.T, lan bool) (*Router, fwdView) {
	t.Helper()
	r := newTestRouter(t, 1, rptRPF, withRPA,
		Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2), DRPriority: 100},
		Interface{Index: 3, LinkLocal: ll(3), DRPriority: 100})
	r.Receive(t0, 1, ll(100), AllPIMRouters, hello(1, foreverH, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(100)} }))
	r.Receive(t0, 1, ll(101), AllPIMRouters, hello(4, foreverH))
	r.Receive(t0, 2, ll(200), AllPIMRouters, hello(2, foreverH))
	if lan {
		r.Receive(t0, 2, ll(201), AllPIMRouters, hello(3, foreverH))
	}
	r.Receive(t0, 3, ll(300), AllPIMRouters, hello(5, foreverH))
	r.Tick(at(5 * time.Second))
	v := fwdView{}
	v.take(r)
	return r, v
}

func rptIfState(r *Router, s, g netip.Addr, now time.Time, idx int) string {
	rs, ok := routeState(r, s, g, now)
	if !ok {
		return "NoInfo"
	}
	for _, p := range rs.PerInterface {
		if p.Index == idx && p.RptJoinState != "" {
			return p.RptJoinState
		}
	}
	return "NoInfo"
}

func TestRptDownstream(t *testing.T) {
	// RFC 7761 §4.5.3 (RFC 4601 §4.5.4): the downstream (S,G,rpt) state
	// machine on interface 2, on which fe80::200 joined (*,G).
	type step struct {
		at   time.Duration
		from netip.Addr
		msg  *wire.JoinPrune
	}
	wcJoin := func(at time.Duration) step {
		return step{at, ll(200), jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil)}
	}
	prune := func(at time.Duration, ht uint16) step {
		return step{at, ll(200), jp(ll(2), ht, asmG, nil, []wire.EncodedSource{rptSrc(srcS)})}
	}
	compound := func(at time.Duration, ht uint16) step {
		return step{at, ll(200), jp(ll(2), ht, asmG, []wire.EncodedSource{wcSrc(rpA)}, []wire.EncodedSource{rptSrc(srcS)})}
	}
	rptJoin := func(at time.Duration, from netip.Addr) step {
		return step{at, from, jp(ll(2), 210, asmG, []wire.EncodedSource{rptSrc(srcS)}, nil)}
	}
	tests := []struct {
		name      string
		lan       bool
		steps     []step
		check     time.Duration
		wantState string
		wantFwd   bool // S is forwarded out of interface 2
	}{
		{name: "§4.5.3 NoInfo: no (S,G,rpt) state, S follows (*,G)", steps: []step{wcJoin(10 * time.Second)},
			check: 20 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 NoInfo->PrunePending: Prune(S,G,rpt) on a LAN waits J/P_Override_Interval", lan: true,
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210)},
			check: 22900 * time.Millisecond, wantState: "PrunePending", wantFwd: true},
		{name: "§4.5.3 PrunePending->Prune: Prune-Pending Timer expires", lan: true,
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210)},
			check: 23100 * time.Millisecond, wantState: "Prune"},
		{name: "§4.5.3 NoInfo->Prune: one neighbour, Prune-Pending Timer zero",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210)},
			check: 20 * time.Second, wantState: "Prune"},
		{name: "§4.5.3 Prune->NoInfo: Expiry Timer expires at HoldTime",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 30)},
			check: 51 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 Prune->Prune: Prune(S,G,rpt) restarts the Expiry Timer",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 30), prune(40*time.Second, 210)},
			check: 100 * time.Second, wantState: "Prune"},
		{name: "§4.5.3 Prune->NoInfo: Receive Join(S,G,rpt)",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210), rptJoin(30*time.Second, ll(200))},
			check: 31 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 PrunePending->NoInfo: another router's Join(S,G,rpt) overrides", lan: true,
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210), rptJoin(21*time.Second, ll(201))},
			check: 30 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 Prune->PruneTmp->NoInfo: Join(*,G) without Prune(S,G,rpt), End of Message",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210), wcJoin(30 * time.Second)},
			check: 31 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 Prune->PruneTmp->Prune: Join(*,G) with Prune(S,G,rpt) restarts the Expiry Timer",
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 30), compound(30*time.Second, 210)},
			check: 100 * time.Second, wantState: "Prune"},
		{name: "§4.5.3 PrunePending->PrunePendingTmp->NoInfo: End of Message cancels the Prune-Pending Timer", lan: true,
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210), wcJoin(21 * time.Second)},
			check: 25 * time.Second, wantState: "NoInfo", wantFwd: true},
		{name: "§4.5.3 PrunePending->PrunePendingTmp->PrunePending: Prune-Pending Timer keeps running", lan: true,
			steps: []step{wcJoin(10 * time.Second), prune(20*time.Second, 210), compound(21*time.Second, 210)},
			check: 23100 * time.Millisecond, wantState: "Prune"},
		{name: "§4.5.3 compound Join(*,G)+Prune(S,G,rpt) from NoInfo prunes S at once",
			steps: []step{compound(10*time.Second, 210)},
			check: 11 * time.Second, wantState: "Prune"},
		{name: "§4.5.3 NoInfo: Join(S,G,rpt) without state does nothing",
			steps: []step{wcJoin(10 * time.Second), rptJoin(20*time.Second, ll(200))},
			check: 21 * time.Second, wantState: "NoInfo", wantFwd: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, v := newRptRouter(t, tt.lan)
			now := at(5 * time.Second)
			for _, s := range tt.steps {
				runView(r, v, now, at(s.at))
				now = at(s.at)
				r.Receive(now, 2, s.from, AllPIMRouters, s.msg)
				v.take(r)
			}
			runView(r, v, now, at(tt.check))
			if got := rptIfState(r, srcS, asmG, at(tt.check), 2); got != tt.wantState {
				t.Errorf("(S,G,rpt) state on 2 at %v = %s, want %s", tt.check, got, tt.wantState)
			}
			if got := v.forwardsOn(srcS, asmG, 2); got != tt.wantFwd {
				t.Errorf("S forwarded out of 2 = %v, want %v (mfib view %v)", got, tt.wantFwd, v)
			}
			if got := r.Drops(ReasonASMUnsupported); got != 0 {
				t.Errorf("asm-unsupported drops = %d, want 0", got)
			}
			// Other sources of G keep following (*,G).
			if !v.forwardsOn(netip.MustParseAddr("2001:db8:5::2"), asmG, 2) {
				t.Errorf("another source is not forwarded out of 2: %v", v)
			}
		})
	}
}

func TestRptPrunedEntryForwarding(t *testing.T) {
	// §4.1.6 / §4.2: an (S,G) entry on the shared tree takes its iif toward
	// RP(G) and forwards to inherited_olist(S,G,rpt): the (*,G) oifs minus
	// the interfaces where S was pruned.
	r, v := newRptRouter(t, false)
	now := at(10 * time.Second)
	r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil))
	r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, []wire.EncodedSource{rptSrc(srcS)}))
	v.take(r)
	fc, ok := v[[2]netip.Addr{srcS, asmG}]
	if !ok {
		t.Fatalf("no (S,G,rpt) forwarding entry: %v", v)
	}
	if fc.IIF != 1 || !slices.Equal(fc.OIFs, []int{2}) || fc.Flags&FlagRPT == 0 || !slices.Equal(fc.RptPruned, []int{3}) {
		t.Errorf("(S,G) = %+v, want iif 1, oifs [2], RPT flag, RptPruned [3]", fc)
	}
	if wc := v[[2]netip.Addr{anySrc, asmG}]; !slices.Equal(wc.OIFs, []int{2, 3}) {
		t.Errorf("(*,G) oifs = %v, want [2 3]", wc.OIFs)
	}
	// The pruning router joins (*,G) again without the Prune: the entry goes.
	r.Receive(at(20*time.Second), 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil))
	v.take(r)
	if fc, ok := v[[2]netip.Addr{srcS, asmG}]; ok {
		t.Errorf("(S,G) entry %+v still installed after End of Message cleared the prune", fc)
	}
	if r.RouteCount() != 1 {
		t.Errorf("RouteCount = %d, want 1 (the (*,G) only)", r.RouteCount())
	}
}

func TestInheritedOlist(t *testing.T) {
	// §4.1.6: inherited_olist(S,G) = inherited_olist(S,G,rpt) (+) joins(S,G)
	// (+) pim_include(S,G) (-) lost_assert(S,G).
	tests := []struct {
		name    string
		setup   func(r *Router, now time.Time)
		wantSG  []int // (S,G) oifs
		wantUp  bool  // (S,G) upstream Joined
		wantRPT bool  // (S,G) entry on the shared tree
	}{
		{name: "§4.1.6 (S,G) join on 3 inherits the (*,G) join on 2", setup: func(r *Router, now time.Time) {
			r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil))
			r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{sgSrc(srcS)}, nil))
		}, wantSG: []int{2, 3}, wantUp: true},
		{name: "§4.1.6 local (S,G) listener on 3 inherits (*,G) listener on 2", setup: func(r *Router, now time.Time) {
			r.SetLocalMemberships(now, []LocalMembership{
				{Interface: 2, Group: asmG, Mode: MembershipInclude},
				{Interface: 3, Group: asmG, Source: srcS, Mode: MembershipInclude}})
		}, wantSG: []int{2, 3}, wantUp: true},
		{name: "§4.1.6 prunes(S,G,rpt) removes the (*,G) interface from inherited_olist(S,G)", setup: func(r *Router, now time.Time) {
			r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, []wire.EncodedSource{rptSrc(srcS)}))
			r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{sgSrc(srcS)}, nil))
		}, wantSG: []int{3}, wantUp: true},
		{name: "§4.1.6 joins(S,G) keeps an interface that pruned S off the shared tree", setup: func(r *Router, now time.Time) {
			r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA), sgSrc(srcS)}, []wire.EncodedSource{rptSrc(srcS)}))
		}, wantSG: []int{2}, wantUp: true},
		{name: "§4.1.6 pim_exclude(S,G) removes a (*,G) listener interface", setup: func(r *Router, now time.Time) {
			r.SetLocalMemberships(now, []LocalMembership{
				{Interface: 2, Group: asmG, Mode: MembershipInclude},
				{Interface: 3, Group: asmG, Mode: MembershipInclude},
				{Interface: 3, Group: asmG, Source: srcS, Mode: MembershipExclude}})
		}, wantSG: []int{2}, wantRPT: true},
		{name: "§4.5.7 JoinDesired(S,G) false when only inherited_olist(S,G) is non-empty and no KAT", setup: func(r *Router, now time.Time) {
			r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil))
			r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, []wire.EncodedSource{rptSrc(srcS)}))
		}, wantSG: []int{2}, wantRPT: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, v := newRptRouter(t, false)
			tt.setup(r, at(10*time.Second))
			v.take(r)
			fc := v[[2]netip.Addr{srcS, asmG}]
			if !slices.Equal(fc.OIFs, tt.wantSG) {
				t.Errorf("(S,G) oifs = %v, want %v (entry %+v)", fc.OIFs, tt.wantSG, fc)
			}
			if got := fc.Flags&FlagRPT != 0; got != tt.wantRPT {
				t.Errorf("(S,G) on the shared tree = %v, want %v", got, tt.wantRPT)
			}
			rs, _ := routeState(r, srcS, asmG, at(10*time.Second))
			if got := rs.UpstreamState == "Joined"; got != tt.wantUp {
				t.Errorf("(S,G) upstream = %q, want Joined %v", rs.UpstreamState, tt.wantUp)
			}
		})
	}
}

func TestJoinDesiredKeepalive(t *testing.T) {
	// §4.5.7: JoinDesired(S,G) = immediate_olist(S,G) != NULL OR (KAT running
	// AND inherited_olist(S,G) != NULL): with the Keepalive Timer running an
	// (S,G) whose own join went keeps joined for the (*,G) receivers.
	r, v := newRptRouter(t, false)
	now := at(10 * time.Second)
	r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 0xffff, asmG, []wire.EncodedSource{wcSrc(rpA)}, nil))
	r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{sgSrc(srcS)}, nil))
	r.DataSignal(now, stack.DataSignal{Kind: stack.SignalData, LinkIndex: 1, Src: srcS, Group: asmG})
	v.take(r)
	r.Receive(at(20*time.Second), 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, nil, []wire.EncodedSource{sgSrc(srcS)}))
	v.take(r)
	rs, _ := routeState(r, srcS, asmG, at(20*time.Second))
	if rs.UpstreamState != "Joined" || !slices.Equal(v[[2]netip.Addr{srcS, asmG}].OIFs, []int{2}) {
		t.Errorf("with KAT: upstream %s oifs %v, want Joined [2]", rs.UpstreamState, v[[2]netip.Addr{srcS, asmG}].OIFs)
	}
	// The Keepalive Timer (210 s) runs out: JoinDesired(S,G) false, the
	// (S,G) entry goes and S follows (*,G) again.
	runView(r, v, at(20*time.Second), at(300*time.Second))
	if _, ok := routeState(r, srcS, asmG, at(300*time.Second)); ok {
		t.Error("(S,G) entry still there after the Keepalive Timer expired")
	}
	if !v.forwardsOn(srcS, asmG, 2) {
		t.Errorf("S not forwarded out of 2 by (*,G): %v", v)
	}
}

// upstreamJPs returns the Join/Prune groups we sent to fe80::100 for g.
func upstreamJPs(out []Send, g netip.Addr) []wire.JoinPruneGroup {
	var res []wire.JoinPruneGroup
	for _, m := range sends[*wire.JoinPrune](out) {
		if m.UpstreamNeighbor != ll(100) {
			continue
		}
		for _, jg := range m.Groups {
			if jg.Group.Addr == g {
				res = append(res, jg)
			}
		}
	}
	return res
}

func hasSource(list []wire.EncodedSource, want wire.EncodedSource) bool {
	return slices.ContainsFunc(list, func(es wire.EncodedSource) bool {
		return es.Addr == want.Addr && es.WC == want.WC && es.RPT == want.RPT
	})
}

func TestRptUpstream(t *testing.T) {
	// RFC 4601 §4.5.9 (RFC 7761 §4.5.7): the upstream (S,G,rpt) machine, with
	// local listeners on interface 2 (we are DR) and RPF'(*,G) = fe80::100.
	wcInclude := LocalMembership{Interface: 2, Group: asmG, Mode: MembershipInclude}
	wcNone := LocalMembership{Interface: 2, Group: asmG, Mode: MembershipNone}
	exclS := LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipExclude}
	noneS := LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipNone}
	type msgCheck struct {
		wcJoin, wcPrune, rptPrune, rptJoin bool
	}
	tests := []struct {
		name   string
		before [][]LocalMembership // applied at 10 s, 11 s, ...; output ignored
		last   []LocalMembership   // applied at 30 s; output checked
		see    *wire.JoinPrune     // or: received from fe80::101 on 1 at 30 s
		until  time.Duration       // collect output from 30 s until then
		want   msgCheck
		state  string // upstream (S,G,rpt) state at the end
	}{
		{name: "§4.5.9 RPTNotJoined->Pruned: Prune(S,G,rpt) in the same message as the triggered Join(*,G)",
			last: []LocalMembership{wcInclude, exclS}, want: msgCheck{wcJoin: true, rptPrune: true}, state: "Pruned"},
		{name: "§4.5.9 NotPruned->Pruned: PruneDesired(S,G,rpt) becomes true, send Prune(S,G,rpt)",
			before: [][]LocalMembership{{wcInclude}}, last: []LocalMembership{exclS},
			want: msgCheck{rptPrune: true}, state: "Pruned"},
		{name: "§4.5.9 Pruned->NotPruned: PruneDesired(S,G,rpt) becomes false, send Join(S,G,rpt)",
			before: [][]LocalMembership{{wcInclude, exclS}}, last: []LocalMembership{noneS},
			want: msgCheck{rptJoin: true}, state: ""},
		{name: "§4.5.9 Pruned->RPTNotJoined: RPTJoinDesired(G) becomes false, only Prune(*,G) is sent",
			before: [][]LocalMembership{{wcInclude, exclS}}, last: []LocalMembership{wcNone},
			want: msgCheck{wcPrune: true}, state: "RPTNotJoined"},
		{name: "§4.5.8 periodic: the Join(*,G) refresh carries Prune(S,G,rpt)",
			before: [][]LocalMembership{{wcInclude, exclS}}, until: 100 * time.Second,
			want: msgCheck{wcJoin: true, rptPrune: true}, state: "Pruned"},
		{name: "§4.5.9 NotPruned: See Prune(S,G,rpt) to RPF'(S,G,rpt) -> Override Timer, Join(S,G,rpt)",
			before: [][]LocalMembership{{wcInclude}},
			see:    jp(glob(100), 210, asmG, []wire.EncodedSource{wcSrc(rpA)}, []wire.EncodedSource{rptSrc(srcS)}),
			until:  33 * time.Second, want: msgCheck{rptJoin: true}, state: ""},
		{name: "§4.5.9 NotPruned: See Prune(S,G) to RPF'(S,G,rpt) -> Override Timer, Join(S,G,rpt)",
			before: [][]LocalMembership{{wcInclude}},
			see:    jp(ll(100), 210, asmG, nil, []wire.EncodedSource{sgSrc(srcS)}),
			until:  33 * time.Second, want: msgCheck{rptJoin: true}, state: ""},
		{name: "§4.5.9 Pruned: See Prune(S,G,rpt) -> no override",
			before: [][]LocalMembership{{wcInclude, exclS}},
			see:    jp(ll(100), 210, asmG, nil, []wire.EncodedSource{rptSrc(srcS)}),
			until:  33 * time.Second, want: msgCheck{}, state: "Pruned"},
		{name: "§4.5.9 RPTNotJoined: See Prune(S,G,rpt) -> no override",
			see:   jp(ll(100), 210, asmG, nil, []wire.EncodedSource{rptSrc(srcS)}),
			until: 33 * time.Second, want: msgCheck{}, state: ""},
		{name: "§4.5.9 See Prune(S,G,rpt) to another neighbour -> no override",
			before: [][]LocalMembership{{wcInclude}},
			see:    jp(ll(101), 210, asmG, nil, []wire.EncodedSource{rptSrc(srcS)}),
			until:  33 * time.Second, want: msgCheck{}, state: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, v := newRptRouter(t, false)
			now := at(10 * time.Second)
			for _, ms := range tt.before {
				runView(r, v, now, now)
				r.SetLocalMemberships(now, ms)
				v.take(r)
				now = now.Add(time.Second)
			}
			runView(r, v, now, at(30*time.Second))
			now = at(30 * time.Second)
			var out []Send
			if tt.last != nil {
				r.SetLocalMemberships(now, tt.last)
				out = append(out, v.take(r)...)
			}
			if tt.see != nil {
				r.Receive(now, 1, ll(101), AllPIMRouters, tt.see)
				out = append(out, v.take(r)...)
			}
			if tt.until > 0 {
				out = append(out, runView(r, v, now, at(tt.until))...)
			}
			var got msgCheck
			for _, jg := range upstreamJPs(out, asmG) {
				got.wcJoin = got.wcJoin || hasSource(jg.Joins, wcSrc(rpA))
				got.wcPrune = got.wcPrune || hasSource(jg.Prunes, wcSrc(rpA))
				got.rptPrune = got.rptPrune || hasSource(jg.Prunes, rptSrc(srcS))
				got.rptJoin = got.rptJoin || hasSource(jg.Joins, rptSrc(srcS))
				if tt.want.wcJoin && tt.want.rptPrune && hasSource(jg.Prunes, rptSrc(srcS)) && !hasSource(jg.Joins, wcSrc(rpA)) {
					t.Errorf("Prune(S,G,rpt) sent without the Join(*,G) in the same group record: %+v", jg)
				}
			}
			if got != tt.want {
				t.Errorf("sent to RPF'(*,G) = %+v, want %+v", got, tt.want)
			}
			state := ""
			if rs, ok := routeState(r, srcS, asmG, at(max(30*time.Second, tt.until))); ok {
				state = rs.RptUpstreamState
			}
			if state != tt.state {
				t.Errorf("upstream (S,G,rpt) state = %q, want %q", state, tt.state)
			}
		})
	}
}

func TestRptSSMUnchanged(t *testing.T) {
	// RFC 4607 / RFC 7761 §4.8.1: in the SSM range (*,G) and (S,G,rpt)
	// entries are counted and dropped, and an SSM (S,G) inherits nothing.
	r, v := newRptRouter(t, false)
	now := at(10 * time.Second)
	r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, grpG, []wire.EncodedSource{rptSrc(srcS)}, []wire.EncodedSource{rptSrc(srcS)}))
	r.Receive(now, 2, ll(200), AllPIMRouters, jp(ll(2), 210, grpG, []wire.EncodedSource{wcSrc(rpA)}, nil))
	r.Receive(now, 3, ll(300), AllPIMRouters, jp(ll(3), 210, grpG, []wire.EncodedSource{sgSrc(srcS)}, nil))
	v.take(r)
	if got := r.Drops(ReasonRptSSM); got != 2 {
		t.Errorf("rpt-in-ssm-range drops = %d, want 2", got)
	}
	if got := r.Drops(ReasonWildcardSSM); got != 1 {
		t.Errorf("wildcard-in-ssm-range drops = %d, want 1", got)
	}
	fc := v[[2]netip.Addr{srcS, grpG}]
	if !slices.Equal(fc.OIFs, []int{3}) || fc.Flags&FlagSSM == 0 {
		t.Errorf("SSM (S,G) = %+v, want oifs [3] SSM", fc)
	}
	if r.RouteCount() != 1 {
		t.Errorf("RouteCount = %d, want 1", r.RouteCount())
	}
}

// FuzzRptJoinPrune drives the ASM machines ((*,G), (S,G), (S,G,rpt), local
// listeners) with arbitrary sequences of Join/Prune entries and membership
// changes on three interfaces. Invariants: no panic; no forwarding entry has
// its iif among its oifs; once the inputs stop and the listeners leave,
// every entry times out (no (S,G,rpt) state leaks).
func FuzzRptJoinPrune(f *testing.F) {
	f.Add([]byte{0x21, 0x80, 0x22, 0x80, 0x21, 0x40, 0x2a, 0x41, 0x07, 0x02, 0x03, 0x42})
	f.Add([]byte{0x01, 0x82, 0x06, 0x82, 0x41, 0x42, 0x02, 0x42, 0xe5, 0x01})
	f.Add([]byte{0x03, 0x80, 0x0b, 0x80, 0x13, 0x40, 0x01, 0x03})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r, v := newRptRouter(t, true)
		sources := []netip.Addr{srcS, netip.MustParseAddr("2001:db8:5::2"), netip.MustParseAddr("2001:db8:5::3"), srcS}
		holdtimes := []uint16{0, 5, 30, 210}
		neighbors := map[int][]netip.Addr{1: {ll(101), ll(100)}, 2: {ll(200), ll(201)}, 3: {ll(300), ll(300)}}
		type lm struct {
			ifindex int
			src     netip.Addr
		}
		listeners := map[lm]bool{}
		now := at(10 * time.Second)
		check := func(when string) {
			for k, fc := range v {
				if fc.IIF != 0 && slices.Contains(fc.OIFs, fc.IIF) {
					t.Fatalf("%s: entry %v has its iif %d among its oifs %v", when, k, fc.IIF, fc.OIFs)
				}
			}
		}
		for i := 0; i+1 < len(ops) && i < 400; i += 2 {
			a, b := ops[i], ops[i+1]
			next := now.Add(time.Duration(b>>5) * 700 * time.Millisecond)
			runView(r, v, now, next)
			now = next
			ifindex := 1 + int(b>>3&3)%3
			src := sources[a>>3&3]
			switch a & 3 {
			case 3: // local listener change on 2 or 3
				idx := 2 + int(b>>3&1)
				if a&0x80 != 0 {
					src = anySrc
				}
				mode := MembershipMode(a >> 5 & 3 % 3)
				r.SetLocalMembership(now, LocalMembership{Interface: idx, Group: asmG, Source: src, Mode: mode})
				listeners[lm{idx, src}] = mode != MembershipNone
			default:
				es := sgSrc(src)
				switch a & 3 {
				case 1:
					es = wcSrc(rpA)
				case 2:
					es = rptSrc(src)
				}
				from := neighbors[ifindex][b&1]
				up := ll(ifindex) // to us
				if ifindex == 1 && a&0x40 != 0 {
					up = ll(100) // seen on the upstream LAN
				}
				var joins, prunes []wire.EncodedSource
				if a&4 != 0 {
					joins = append(joins, es)
				} else {
					prunes = append(prunes, es)
				}
				if a&0x20 != 0 { // a compound message: Join(*,G) first
					joins = append([]wire.EncodedSource{wcSrc(rpA)}, joins...)
				}
				r.Receive(now, ifindex, from, AllPIMRouters, jp(up, holdtimes[b>>1&3], asmG, joins, prunes))
			}
			v.take(r)
			check("during input")
			r.Snapshot(now)
		}
		for k, on := range listeners {
			if on {
				r.SetLocalMembership(now, LocalMembership{Interface: k.ifindex, Group: asmG, Source: k.src, Mode: MembershipNone})
				v.take(r)
			}
		}
		runView(r, v, now, now.Add(30*time.Minute))
		check("after the inputs stopped")
		if n := r.RouteCount(); n != 0 {
			t.Fatalf("RouteCount = %d 30 min after the last input, want 0: %+v", n, r.Snapshot(now.Add(30*time.Minute)).Routes)
		}
		if len(v) != 0 {
			t.Fatalf("forwarding entries left: %v", v)
		}
	})
}

func TestRptUpstreamAssertOnRPFInterface(t *testing.T) {
	// RFC 4601 §4.5.9: RPF'(S,G,rpt) is the (S,G) assert winner on
	// RPF_interface(RP(G)) while we lose an (S,G) assert there; when that
	// assert ends, "RPF'(S,G,rpt) -> RPF'(*,G)" in NotPruned sets the
	// Override Timer and a Join(S,G,rpt) goes to RPF'(*,G).
	r, v := newRptRouter(t, false)
	r.SetLocalMembership(at(10*time.Second), LocalMembership{Interface: 2, Group: asmG, Mode: MembershipInclude})
	v.take(r)
	runView(r, v, at(10*time.Second), at(20*time.Second))
	grp := wire.EncodedGroup{Addr: asmG, MaskLen: 128}
	r.Receive(at(20*time.Second), 1, ll(101), AllPIMRouters, &wire.Assert{Group: grp, Source: srcS, MetricPreference: 100, Metric: 5})
	v.take(r)
	rs, ok := routeState(r, srcS, asmG, at(20*time.Second))
	if !ok || rs.Upstream != ll(101) {
		t.Fatalf("(S,G) after losing the assert on the RPT interface: %+v (ok %v), want upstream RPF'(S,G,rpt) = %v", rs, ok, ll(101))
	}
	// RFC 4601 §4.5.8: meanwhile the periodic Join(*,G) to RPF'(*,G) carries
	// Prune(S,G,rpt), since S comes from the assert winner.
	periodic := upstreamJPs(runView(r, v, at(20*time.Second), at(80*time.Second)), asmG)
	if len(periodic) == 0 || !hasSource(periodic[0].Joins, wcSrc(rpA)) || !hasSource(periodic[0].Prunes, rptSrc(srcS)) {
		t.Errorf("periodic Join/Prune while diverted = %+v, want Join(*,G) with Prune(S,G,rpt)", periodic)
	}
	// The winner cancels: the (S,G) assert ends.
	r.Receive(at(80*time.Second), 1, ll(101), AllPIMRouters, &wire.Assert{Group: grp, Source: srcS, RPT: true, MetricPreference: 0x7fffffff, Metric: 0xffffffff})
	out := v.take(r)
	out = append(out, runView(r, v, at(80*time.Second), at(83*time.Second))...)
	joined := false
	for _, jg := range upstreamJPs(out, asmG) {
		joined = joined || hasSource(jg.Joins, rptSrc(srcS))
	}
	if !joined {
		t.Errorf("no Join(S,G,rpt) to RPF'(*,G) after RPF'(S,G,rpt) returned to it; sent %+v", upstreamJPs(out, asmG))
	}
}

func TestSGUpstreamSeesSharedTreePrunes(t *testing.T) {
	// RFC 4601 §4.5.7, upstream (S,G) Joined: "See Prune(S,G,rpt) to
	// RPF'(S,G)" and "See Prune(*,G) to RPF'(S,G)" decrease the Join Timer to
	// t_override, so our Join(S,G) is restated long before t_periodic.
	tests := []struct {
		name     string
		seen     *wire.JoinPrune
		wantJoin bool
	}{
		{"§4.5.7 See Prune(S,G,rpt) to RPF'(S,G)", jp(ll(100), 210, asmG, nil, []wire.EncodedSource{rptSrc(srcS)}), true},
		{"§4.5.7 See Prune(*,G) to RPF'(S,G)", jp(ll(100), 210, asmG, nil, []wire.EncodedSource{wcSrc(rpA)}), true},
		{"§4.5.7 Prune(S,G,rpt) to another neighbour: no effect", jp(ll(101), 210, asmG, nil, []wire.EncodedSource{rptSrc(srcS)}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, v := newRptRouter(t, false)
			r.Receive(at(10*time.Second), 3, ll(300), AllPIMRouters, jp(ll(3), 210, asmG, []wire.EncodedSource{sgSrc(srcS)}, nil))
			v.take(r)
			runView(r, v, at(10*time.Second), at(20*time.Second))
			r.Receive(at(20*time.Second), 1, ll(101), AllPIMRouters, tt.seen)
			out := append(v.take(r), runView(r, v, at(20*time.Second), at(23*time.Second))...)
			got := false
			for _, jg := range upstreamJPs(out, asmG) {
				got = got || hasSource(jg.Joins, sgSrc(srcS))
			}
			if got != tt.wantJoin {
				t.Errorf("Join(S,G) restated within t_override = %v, want %v", got, tt.wantJoin)
			}
		})
	}
}

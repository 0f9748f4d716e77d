package pim

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

// An ASM group with RP wcRP, for the (*,G) Assert tests (RFC 7761 §4.6.2).
var (
	wcGroup    = netip.MustParseAddr("ff0e::4321:77")
	wcRP       = netip.MustParseAddr("2001:db8:99::1")
	wcRPPrefix = netip.MustParsePrefix("2001:db8:99::/48")
	wcSource   = netip.MustParseAddr("2001:db8:7::1") // an ASM source without (S,G) state
	anySource  = netip.IPv6Unspecified()
)

func withWCRP(c *Config) {
	c.RP = func(g netip.Addr) (netip.Addr, bool) { return wcRP, g == wcGroup }
}

// wcJoinMsg is a Join/Prune carrying Join(*,G) or Prune(*,G) for wcGroup.
func wcJoinMsg(upstream netip.Addr, holdtime uint16, join bool) *wire.JoinPrune {
	es := wire.EncodedSource{Addr: wcRP, MaskLen: 128, Sparse: true, WC: true, RPT: true}
	jg := wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: wcGroup, MaskLen: 128}}
	if join {
		jg.Joins = []wire.EncodedSource{es}
	} else {
		jg.Prunes = []wire.EncodedSource{es}
	}
	return &wire.JoinPrune{UpstreamNeighbor: upstream, Holdtime: holdtime, Groups: []wire.JoinPruneGroup{jg}}
}

// wcAssert is an Assert(*,G) for wcGroup (source ::, RPT bit set).
func wcAssert(pref, metric uint32) *wire.Assert { return wcAssertFor(anySource, pref, metric) }

// wcAssertFor is an Assert with the RPT bit set naming source s.
func wcAssertFor(s netip.Addr, pref, metric uint32) *wire.Assert {
	return &wire.Assert{Group: wire.EncodedGroup{Addr: wcGroup, MaskLen: 128}, Source: s, RPT: true, MetricPreference: pref, Metric: metric}
}

// newWCAssertRouter: RP(G) and S reached on interface 1 (preference 110,
// metric 10); on interface 2 fe80::200 joins (*,G) through us and fe80::201
// is another upstream router; interface 3 has no neighbours.
func newWCAssertRouter(t *testing.T) (*Router, rpfTable) {
	t.Helper()
	rpf := rpfTable{wcRPPrefix: {ifindex: 1, pref: 110, metric: 10}, sPrefix: {ifindex: 1, pref: 110, metric: 10}}
	r := newTestRouter(t, 1, rpf, withWCRP,
		Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(0x150)}, Interface{Index: 3, LinkLocal: ll(0x160)})
	forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, hello(1, forever))
	r.Receive(t0, 2, ll(0x201), AllPIMRouters, hello(2, forever))
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, wcJoinMsg(ll(0x150), 0xffff, true))
	r.Tick(at(5 * time.Second))
	r.Outbox()
	return r, rpf
}

func TestAssertWCStateMachine(t *testing.T) {
	better, worse := wcAssert(110, 5), wcAssert(110, 20)
	isCancel := func(a *wire.Assert) bool { return a.RPT && a.MetricPreference == 0x7fffffff && a.Metric == 0xffffffff }
	tests := []struct {
		name        string
		steps       []assertStep
		check       time.Duration
		wantState   string
		wantOIF     bool
		wantAsserts int                       // Asserts we sent
		wantLast    func(*wire.Assert) string // checks the last Assert sent; "" when fine
		wantWinner  netip.Addr
	}{
		// NoInfo state.
		{name: "§4.6.2 NoInfo-Winner: Receive Inferior Assert with RPTbit set and CouldAssert(*,G,I)",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: worse}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1, wantWinner: ll(0x150),
			wantLast: func(a *wire.Assert) string {
				// A1: Assert(*,G) with rpt_assert_metric(G,I) (§4.6.3).
				if !a.RPT || a.MetricPreference != 110 || a.Metric != 10 || a.Source != anySource || a.Group.Addr != wcGroup {
					return "want Assert(*,G) RPT 110/10 source ::"
				}
				return ""
			}},
		{name: "§4.6.2 NoInfo-Winner: data arrives for G on I and CouldAssert(*,G,I)",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1,
			wantLast: func(a *wire.Assert) string {
				if !a.RPT || a.Metric != 10 || a.Source != wcSource {
					return "want Assert(*,G) RPT metric 10 naming the data's source"
				}
				return ""
			}},
		{name: "§4.6.2 NoInfo-Loser: Receive Acceptable Assert with RPTbit set and AssertTrackingDesired(*,G,I)",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}},
			check: 11 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
		{name: "§4.6.2 NoInfo-Loser: an RPTbit Assert for S without (S,G) state goes to the (*,G) machine",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: wcAssertFor(wcSource, 110, 5)}},
			check: 11 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
		{name: "§4.6.2 NoInfo: an Assert with RPTbit clear is not a (*,G) Assert",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: &wire.Assert{Group: wire.EncodedGroup{Addr: wcGroup, MaskLen: 128}, Source: anySource, MetricPreference: 1, Metric: 1}}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 NoInfo: an AssertCancel elects nobody",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: assertCancel(wcGroup, anySource)}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 NoInfo: data on an interface outside the (*,G) olist asserts nothing",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource, link: 3}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6 NoInfo: an Assert(*,G) from a non-neighbour is ignored",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x999), msg: better}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
		// Winner state.
		{name: "§4.6.2 Winner: Assert Timer expires, re-assert [A3] after 177 s",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource}},
			check: 188 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 2,
			wantLast: func(a *wire.Assert) string {
				if !a.RPT || a.Metric != 10 || a.Source != anySource {
					return "want a refresh Assert(*,G) with source ::"
				}
				return ""
			}},
		{name: "§4.6.2 Winner: Receive Inferior Assert, re-assert [A3]",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource}, {at: 11 * time.Second, from: ll(0x201), msg: worse}},
			check: 12 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 2},
		{name: "§4.6.2 Winner-Loser: Receive Preferred Assert [A2]",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource}, {at: 11 * time.Second, from: ll(0x201), msg: better}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantAsserts: 1, wantWinner: ll(0x201)},
		{name: "§4.6.2 Winner-NoInfo: CouldAssert(*,G,I) -> FALSE sends AssertCancel(*,G) [A4]",
			steps: []assertStep{{at: 10 * time.Second, data: wcSource}, {at: 11 * time.Second, from: ll(0x200), msg: wcJoinMsg(ll(0x150), 210, false)}},
			check: 15 * time.Second, wantState: "NoInfo", wantOIF: false, wantAsserts: 2,
			wantLast: func(a *wire.Assert) string {
				if !isCancel(a) || a.Source != anySource || a.Group.Addr != wcGroup {
					return "want AssertCancel(*,G)"
				}
				return ""
			}},
		// Loser state.
		{name: "§4.6.2 Loser-NoInfo: Assert Timer expires after 180 s [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}},
			check: 191 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser: Receive Preferred Assert, new winner [A2]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x200), msg: wcAssert(100, 50)}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x200)},
		{name: "§4.6.2 Loser: Receive Acceptable Assert from Current Winner with RPTbit set refreshes [A2]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 150 * time.Second, from: ll(0x201), msg: better}},
			check: 300 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
		{name: "§4.6.2 Loser-NoInfo: Receive Inferior Assert from Current Winner [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x201), msg: worse}},
			check: 12 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser-NoInfo: Receive AssertCancel from Current Winner [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x201), msg: assertCancel(wcGroup, anySource)}},
			check: 12 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser: an inferior Assert from another router changes nothing",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x200), msg: worse}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
		{name: "§4.6.2 Loser-NoInfo: AssertTrackingDesired(*,G,I) -> FALSE [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x200), msg: wcJoinMsg(ll(0x150), 210, false)}},
			check: 15 * time.Second, wantState: "NoInfo", wantOIF: false},
		{name: "§4.6.2 Loser-NoInfo: my_metric becomes better than the winner's [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
				{at: 11 * time.Second, mrib: func(t rpfTable) { t[wcRPPrefix] = rpfAnswer{ifindex: 1, pref: 110, metric: 1} }}},
			check: 12 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser-NoInfo: Current Winner's GenID changes [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
				{at: 11 * time.Second, from: ll(0x201), msg: hello(77, func(h *wire.Hello) { h.Holdtime = 0xffff })}},
			check: 12 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser-NoInfo: Current Winner's NLT expires [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
				{at: 11 * time.Second, from: ll(0x201), msg: hello(2, func(h *wire.Hello) { h.Holdtime = 30 })}},
			check: 42 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser-NoInfo: Receive Join(*,G) on interface I [A5]",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x200), msg: wcJoinMsg(ll(0x150), 210, true)}},
			check: 12 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.2 Loser: a Join(*,G) to the winner changes nothing",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, from: ll(0x200), msg: wcJoinMsg(ll(0x201), 210, true)}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
		{name: "§4.6.2 Loser: data arriving asserts nothing",
			steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}, {at: 11 * time.Second, data: wcSource}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantWinner: ll(0x201)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.steps) > 1 || strings.Contains(tt.name, "-NoInfo") {
				if got := stateAfterFirstStep(t, newWCAssertRouter, anySource, wcGroup, tt.steps); got == "NoInfo" {
					t.Fatalf("state after the first step = %s: the case does not leave from Winner or Loser", got)
				}
			}
			r, rpf := newWCAssertRouter(t)
			out := runAssertSteps(r, rpf, wcGroup, tt.steps, tt.check)
			rs, _ := routeState(r, anySource, wcGroup, at(tt.check))
			is := ifState(rs, 2)
			if is.AssertState != tt.wantState {
				t.Errorf("(*,G) assert state on 2 = %s, want %s", is.AssertState, tt.wantState)
			}
			if got := slices.Contains(rs.OIFs, 2); got != tt.wantOIF {
				t.Errorf("interface 2 in the (*,G) olist = %v (oifs %v), want %v", got, rs.OIFs, tt.wantOIF)
			}
			if got := r.lostAssertWC(wcGroup, 2); got != (tt.wantState == "Loser") {
				t.Errorf("lostAssertWC(G, 2) = %v, want %v", got, tt.wantState == "Loser")
			}
			if tt.wantWinner.IsValid() && is.AssertWinner != tt.wantWinner {
				t.Errorf("AssertWinner(*,G,2) = %v, want %v", is.AssertWinner, tt.wantWinner)
			}
			as := sends[*wire.Assert](out)
			if len(as) != tt.wantAsserts {
				t.Fatalf("sent %d Asserts %+v, want %d", len(as), as, tt.wantAsserts)
			}
			if tt.wantLast != nil {
				if msg := tt.wantLast(as[len(as)-1]); msg != "" {
					t.Errorf("last Assert sent = %+v: %s", as[len(as)-1], msg)
				}
			}
		})
	}
}

func TestAssertWCInteractionWithSG(t *testing.T) {
	// RFC 7761 §4.6.1/§4.6.2: an (S,G) Assert overrides (*,G) for S on I.
	t.Run("§4.6.1 NoInfo-Loser: Assert(S,G) RPTbit clear where we forward S from the shared tree", func(t *testing.T) {
		r, _ := newWCAssertRouter(t)
		now := at(10 * time.Second)
		sgAssert := &wire.Assert{Group: wire.EncodedGroup{Addr: wcGroup, MaskLen: 128}, Source: wcSource, MetricPreference: 120, Metric: 50}
		r.Receive(now, 2, ll(0x201), AllPIMRouters, sgAssert)
		r.Outbox()
		sg, ok := routeState(r, wcSource, wcGroup, now)
		if !ok {
			t.Fatal("no (S,G) state after an Assert(S,G) for a source we forward from the shared tree")
		}
		if got := ifState(sg, 2); got.AssertState != "Loser" || got.AssertWinner != ll(0x201) {
			t.Errorf("(S,G) assert on 2 = %s winner %v, want Loser to %v", got.AssertState, got.AssertWinner, ll(0x201))
		}
		wc, _ := routeState(r, anySource, wcGroup, now)
		if got := ifState(wc, 2).AssertState; got != "NoInfo" || !slices.Contains(wc.OIFs, 2) {
			t.Errorf("(*,G) on 2 = %s oifs %v, want NoInfo and still an oif (other sources)", got, wc.OIFs)
		}
		// The (S,G) Assert state rules S on I: S's packets arriving there do
		// not start a (*,G) Assert (§4.2: SPTbit(S,G) FALSE and I not in
		// inherited_olist(S,G,rpt)).
		r.DataSignal(now.Add(time.Second), stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: wcSource, Group: wcGroup})
		if out, _ := r.Outbox(); len(sends[*wire.Assert](out)) != 0 {
			t.Errorf("sent %+v for S's data after losing the (S,G) Assert, want nothing", out)
		}
		// Another source's data still starts the (*,G) Assert.
		other := netip.MustParseAddr("2001:db8:8::1")
		r.DataSignal(now.Add(time.Second), stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: other, Group: wcGroup})
		out, _ := r.Outbox()
		if as := sends[*wire.Assert](out); len(as) != 1 || as[0].Source != other || !as[0].RPT {
			t.Errorf("sent %+v for another source's data, want one Assert(*,G) naming it", as)
		}
	})
	t.Run("§4.6.1 Assert(S,G) RPTbit clear without any forwarding state is dropped", func(t *testing.T) {
		r, _ := newWCAssertRouter(t)
		g := netip.MustParseAddr("ff0e::4321:78") // no (*,G) state
		r.Receive(at(10*time.Second), 2, ll(0x201), AllPIMRouters, &wire.Assert{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}, Source: wcSource, MetricPreference: 1, Metric: 1})
		if got := r.Drops(ReasonAssertNoState); got != 1 {
			t.Errorf("Drops(assert-no-state) = %d, want 1", got)
		}
		if r.RouteCount() != 1 {
			t.Errorf("RouteCount = %d, want 1 (the (*,G) only)", r.RouteCount())
		}
	})
	t.Run("§4.6.1 Assert(S,G) naming a multicast source creates no state", func(t *testing.T) {
		r, _ := newWCAssertRouter(t)
		r.Receive(at(10*time.Second), 2, ll(0x201), AllPIMRouters, assertMsgFor(wcGroup, netip.MustParseAddr("ff0e::9"), 1, 1))
		if got := r.Drops(ReasonBadSource); got != 1 || r.RouteCount() != 1 {
			t.Errorf("Drops(bad-source) = %d, RouteCount = %d; want 1, 1", got, r.RouteCount())
		}
	})
	t.Run("§4.6.2 an RPTbit Assert for S goes to the (S,G) machine first", func(t *testing.T) {
		// We are on S's shortest-path tree (SPT bit) and forward S onto 2:
		// CouldAssert(S,G,2); the Assert(*,G) naming S is answered by the
		// (S,G) machine with an Assert(S,G) (RPT bit clear), and the (*,G)
		// machine stays out of it.
		r, _ := newWCAssertRouter(t)
		now := at(10 * time.Second)
		r.Receive(now, 2, ll(0x200), AllPIMRouters, joinMsg(ll(0x150), 0xffff, wcGroup, []netip.Addr{srcS}, nil))
		r.DataSignal(now, stack.DataSignal{Kind: stack.SignalData, LinkIndex: 1, Src: srcS, Group: wcGroup})
		r.Outbox()
		if rs, _ := routeState(r, srcS, wcGroup, now); rs.Flags&FlagSPT == 0 {
			t.Fatalf("(S,G) flags = %v, want SPT (test set-up)", rs.Flags)
		}
		r.Receive(now, 2, ll(0x201), AllPIMRouters, wcAssertFor(srcS, 100, 1))
		out, _ := r.Outbox()
		as := sends[*wire.Assert](out)
		if len(as) != 1 || as[0].RPT || as[0].Source != srcS || as[0].Metric != 10 {
			t.Errorf("sent %+v, want one Assert(S,G) with RPT clear, metric 10", as)
		}
		sg, _ := routeState(r, srcS, wcGroup, now)
		if got := ifState(sg, 2).AssertState; got != "Winner" {
			t.Errorf("(S,G) assert state on 2 = %s, want Winner", got)
		}
		wc, _ := routeState(r, anySource, wcGroup, now)
		if got := ifState(wc, 2).AssertState; got != "NoInfo" {
			t.Errorf("(*,G) assert state on 2 = %s, want NoInfo", got)
		}
	})
}

func TestAssertSGOnSharedTreeInterfaces(t *testing.T) {
	// RFC 7761 §4.6.2 CouldAssert(S,G,I) and AssertTrackingDesired(S,G,I)
	// include the interfaces an ASM (S,G) inherits from (*,G).
	// newSPTRouter: on top of newWCAssertRouter's (*,G) join on 2, a local
	// (S,G) listener on 3 joins S's shortest-path tree (iif 1) and the first
	// packet sets the SPT bit. Interface 2 is in S's olist only through (*,G).
	newSPTRouter := func(t *testing.T) *Router {
		t.Helper()
		r, _ := newWCAssertRouter(t)
		now := at(10 * time.Second)
		r.SetLocalMembership(now, LocalMembership{Interface: 3, Group: wcGroup, Source: srcS, Mode: MembershipInclude})
		r.DataSignal(now, stack.DataSignal{Kind: stack.SignalData, LinkIndex: 1, Src: srcS, Group: wcGroup})
		r.Outbox()
		if rs, _ := routeState(r, srcS, wcGroup, now); rs.Flags&FlagSPT == 0 || !slices.Contains(rs.OIFs, 2) {
			t.Fatalf("(S,G) = %+v, want the SPT flag and interface 2 inherited from (*,G) (test set-up)", rs)
		}
		return r
	}
	wrongIIF := func(r *Router, when time.Duration) []*wire.Assert {
		r.DataSignal(at(when), stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: srcS, Group: wcGroup})
		out, _ := r.Outbox()
		return sends[*wire.Assert](out)
	}
	t.Run("§4.6.1 NoInfo-Winner: data on an interface inherited from (*,G) with the SPT bit set", func(t *testing.T) {
		r := newSPTRouter(t)
		as := wrongIIF(r, 11*time.Second)
		if len(as) != 1 || as[0].RPT || as[0].Source != srcS || as[0].Metric != 10 {
			t.Fatalf("sent %+v, want one Assert(S,G) RPT clear metric 10", as)
		}
		sg, _ := routeState(r, srcS, wcGroup, at(11*time.Second))
		if got := ifState(sg, 2).AssertState; got != "Winner" {
			t.Errorf("(S,G) assert state on 2 = %s, want Winner", got)
		}
		wc, _ := routeState(r, anySource, wcGroup, at(11*time.Second))
		if got := ifState(wc, 2).AssertState; got != "NoInfo" {
			t.Errorf("(*,G) assert state on 2 = %s, want NoInfo (the SPT bit sends S's data to the (S,G) machine)", got)
		}
	})
	t.Run("§4.6.1 NoInfo-Loser: Assert(S,G) on an interface inherited from (*,G), and the loss holds", func(t *testing.T) {
		r := newSPTRouter(t)
		r.Receive(at(11*time.Second), 2, ll(0x201), AllPIMRouters, assertMsgFor(wcGroup, srcS, 100, 1))
		runUntil(r, at(11*time.Second), at(20*time.Second))
		sg, _ := routeState(r, srcS, wcGroup, at(20*time.Second))
		if got := ifState(sg, 2); got.AssertState != "Loser" || got.AssertWinner != ll(0x201) {
			t.Errorf("(S,G) assert on 2 = %s winner %v, want Loser to %v (AssertTrackingDesired through (*,G))", got.AssertState, got.AssertWinner, ll(0x201))
		}
		if slices.Contains(sg.OIFs, 2) {
			t.Errorf("(S,G) oifs = %v, want 2 removed (lost_assert(S,G))", sg.OIFs)
		}
	})
	t.Run("§4.6.1 S pruned off the shared tree on I: no Assert", func(t *testing.T) {
		r := newSPTRouter(t)
		prune := joinMsg(ll(0x150), 210, wcGroup, nil, []netip.Addr{srcS})
		prune.Groups[0].Prunes[0].RPT = true // Prune(S,G,rpt)
		r.Receive(at(11*time.Second), 2, ll(0x200), AllPIMRouters, prune)
		runUntil(r, at(11*time.Second), at(20*time.Second))
		if sg, _ := routeState(r, srcS, wcGroup, at(20*time.Second)); slices.Contains(sg.OIFs, 2) {
			t.Fatalf("(S,G) oifs = %v after Prune(S,G,rpt) on 2, want 2 removed (test set-up)", sg.OIFs)
		}
		if as := wrongIIF(r, 21*time.Second); len(as) != 0 {
			t.Errorf("sent %+v, want no Assert: S is not forwarded onto 2", as)
		}
	})
	t.Run("§4.6.2 a downstream router on the shared tree tracks the (S,G) winner on RPF_interface(RP(G))", func(t *testing.T) {
		// RP(G) is reached on 2 through fe80::200; a listener on 1 keeps
		// (*,G) joined. An Assert(S,G) on 2 creates (S,G) Loser state there:
		// the winner is RPF'(S,G,rpt) (§4.5.9).
		rpf := rpfTable{wcRPPrefix: {ifindex: 2, nexthop: ll(0x200), pref: 110, metric: 20}}
		r := newTestRouter(t, 1, rpf, withWCRP, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(0x150)})
		forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
		r.Receive(t0, 2, ll(0x200), AllPIMRouters, hello(1, forever))
		r.Receive(t0, 2, ll(0x201), AllPIMRouters, hello(2, forever))
		r.SetLocalMembership(t0, LocalMembership{Interface: 1, Group: wcGroup, Mode: MembershipInclude})
		runUntil(r, t0, at(5*time.Second))
		r.Receive(at(10*time.Second), 2, ll(0x201), AllPIMRouters, assertMsgFor(wcGroup, wcSource, 100, 1))
		r.Outbox()
		sg, ok := routeState(r, wcSource, wcGroup, at(10*time.Second))
		if got := ifState(sg, 2); !ok || got.AssertState != "Loser" || got.AssertWinner != ll(0x201) {
			t.Errorf("(S,G) assert on RPF_interface(RP(G)) = %s winner %v (entry %v), want Loser to %v", got.AssertState, got.AssertWinner, ok, ll(0x201))
		}
	})
}

func TestAssertLoserOnRPFInterface(t *testing.T) {
	// RFC 7761 §4.5.6/§4.5.7: as a downstream router, the assert winner on our
	// RPF interface becomes RPF'; §4.6.1/§4.6.2 Loser: "RPF_interface(S)
	// stops being I" / "RPF_interface(RP(G)) stops being I" -> NoInfo [A5].
	// Interface 1: our receivers; 2: upstream LAN (MRIB next hop fe80::200,
	// another forwarder fe80::201); 3: another upstream, fe80::300.
	tests := []struct {
		name     string
		src, grp netip.Addr
		prefix   netip.Prefix
		assert   *wire.Assert
	}{
		{"§4.5.7/§4.6.1 (S,G)", srcS, grpG, sPrefix, assertMsg(110, 5)},
		{"§4.5.6/§4.6.2 (*,G)", anySource, wcGroup, wcRPPrefix, wcAssert(110, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rpf := rpfTable{tt.prefix: {ifindex: 2, nexthop: ll(0x200), pref: 110, metric: 20}}
			r := newTestRouter(t, 1, rpf, withWCRP,
				Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(0x150)}, Interface{Index: 3, LinkLocal: ll(0x160)})
			forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
			r.Receive(t0, 2, ll(0x200), AllPIMRouters, hello(1, forever))
			r.Receive(t0, 2, ll(0x201), AllPIMRouters, hello(2, forever))
			r.Receive(t0, 3, ll(0x300), AllPIMRouters, hello(3, forever))
			r.SetLocalMembership(t0, LocalMembership{Interface: 1, Group: tt.grp, Source: tt.src, Mode: MembershipInclude})
			runUntil(r, t0, at(5*time.Second))
			if rs, _ := routeState(r, tt.src, tt.grp, at(5*time.Second)); rs.Upstream != ll(0x200) || rs.UpstreamState != "Joined" {
				t.Fatalf("before: RPF' = %v (%s), want %v Joined", rs.Upstream, rs.UpstreamState, ll(0x200))
			}

			r.Receive(at(10*time.Second), 2, ll(0x201), AllPIMRouters, tt.assert)
			out := runUntil(r, at(10*time.Second), at(14*time.Second))
			rs, _ := routeState(r, tt.src, tt.grp, at(14*time.Second))
			if got := ifState(rs, 2); got.AssertState != "Loser" || rs.Upstream != ll(0x201) {
				t.Errorf("after the Assert: state %s, RPF' %v; want Loser, RPF' = the winner %v", got.AssertState, rs.Upstream, ll(0x201))
			}
			// §4.5.6/§4.5.7 "RPF' changes due to an Assert": Join within t_override.
			joinedWinner := false
			for _, jp := range sends[*wire.JoinPrune](out) {
				if jp.UpstreamNeighbor == ll(0x201) && len(jp.Groups) == 1 && len(jp.Groups[0].Joins) == 1 {
					joinedWinner = true
				}
			}
			if !joinedWinner {
				t.Errorf("sent %+v, want a Join to the winner %v", out, ll(0x201))
			}

			rpf[tt.prefix] = rpfAnswer{ifindex: 3, nexthop: ll(0x300), pref: 110, metric: 20}
			r.RouteChanged(at(20*time.Second), netip.Prefix{})
			r.Outbox()
			rs, _ = routeState(r, tt.src, tt.grp, at(20*time.Second))
			if got := ifState(rs, 2).AssertState; got != "NoInfo" {
				t.Errorf("after the RPF interface moved: assert state on 2 = %s, want NoInfo", got)
			}
			if rs.Upstream != ll(0x300) {
				t.Errorf("after the RPF interface moved: RPF' = %v, want %v", rs.Upstream, ll(0x300))
			}
		})
	}
}

func TestSimAssertWC(t *testing.T) {
	// RFC 7761 §4.6.2: U1 and U2 both forward an ASM group from the shared
	// tree onto the LAN, each for its own downstream router (D1's MRIB next
	// hop toward RP(G) is U1, D2's is U2). A packet arriving on the LAN at
	// one of them starts the (*,G) Assert; the better rpt_assert_metric (or
	// the higher address) wins, the loser stops forwarding onto the LAN, and
	// the downstream router of the loser joins the winner, its RPF'(*,G)
	// (§4.5.6).
	tests := []struct {
		name           string
		metric1        uint32 // U1's and U2's metric toward RP(G)
		metric2        uint32
		dataAt         int // index (0: U1, 1: U2) of the router the wrong-iif packet reaches
		wantWinnerIdx  int
		wantWinnerMetr uint32
	}{
		{"better rpt metric wins, data at the winner", 10, 20, 0, 0, 10},
		{"better rpt metric wins, data at the loser", 10, 20, 1, 0, 10},
		{"equal metrics: the higher address wins", 10, 10, 0, 1, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := simGlobal(9, 1)
			rpPrefix := netip.PrefixFrom(rp, 128)
			withRP := func(c *Config) {
				c.RP = func(g netip.Addr) (netip.Addr, bool) { return rp, g == wcGroup }
			}
			n := newSimNet(t)
			u1 := n.addRouter("U1", 1, rpfTable{rpPrefix: {ifindex: 1, pref: 110, metric: tc.metric1}}, withRP, "up1", "lan")
			u2 := n.addRouter("U2", 2, rpfTable{rpPrefix: {ifindex: 1, pref: 110, metric: tc.metric2}}, withRP, "up2", "lan")
			d1 := n.addRouter("D1", 3, rpfTable{rpPrefix: {ifindex: 1, nexthop: simLL(1, 2), pref: 110, metric: 30}}, withRP, "lan", "r1")
			d2 := n.addRouter("D2", 4, rpfTable{rpPrefix: {ifindex: 1, nexthop: simLL(2, 2), pref: 110, metric: 30}}, withRP, "lan", "r2")
			n.run(10 * time.Second)
			for _, d := range []*simRouter{d1, d2} {
				n.do(d, func(now time.Time) {
					d.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: wcGroup, Mode: MembershipInclude})
				})
			}
			n.run(time.Second)
			ups := []*simRouter{u1, u2}
			downs := []*simRouter{d1, d2}
			for _, u := range ups {
				if fc, ok := u.route(anySource, wcGroup); !ok || !slices.Equal(fc.OIFs, []int{2}) {
					t.Fatalf("%s (*,G) before the assert: %+v, want oifs [2] (duplicates on the LAN)", u.name, fc)
				}
			}
			winner, loser := ups[tc.wantWinnerIdx], ups[1-tc.wantWinnerIdx]
			loserDown := downs[1-tc.wantWinnerIdx]
			winnerAddr := simLL(tc.wantWinnerIdx+1, 2)
			sentBefore := len(loserDown.sent)

			// The other upstream's packet reaches ups[dataAt] on its oif: wrong iif.
			at := ups[tc.dataAt]
			n.do(at, func(now time.Time) {
				at.r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: wcSource, Group: wcGroup})
			})
			n.run(10 * time.Second)

			if fc, _ := winner.route(anySource, wcGroup); !slices.Equal(fc.OIFs, []int{2}) {
				t.Errorf("winner %s (*,G) oifs = %v, want [2]", winner.name, fc.OIFs)
			}
			if fc, _ := loser.route(anySource, wcGroup); len(fc.OIFs) != 0 || !slices.Equal(fc.Asserted, []int{2}) {
				t.Errorf("loser %s (*,G) = %+v, want no oifs, asserted [2]", loser.name, fc)
			}
			rs, _ := routeState(winner.r, anySource, wcGroup, n.now)
			if is := ifState(rs, 2); is.AssertState != "Winner" || is.WinnerMetric != tc.wantWinnerMetr {
				t.Errorf("winner %s assert state %s metric %d, want Winner %d", winner.name, is.AssertState, is.WinnerMetric, tc.wantWinnerMetr)
			}
			for _, d := range downs {
				if rs, _ := routeState(d.r, anySource, wcGroup, n.now); rs.Upstream != winnerAddr {
					t.Errorf("%s RPF'(*,G) = %v, want the assert winner %v", d.name, rs.Upstream, winnerAddr)
				}
			}
			// The loser's downstream router sent its Join(*,G) to the winner.
			joined := false
			for _, s := range loserDown.sent[sentBefore:] {
				if jp, ok := s.Message.(*wire.JoinPrune); ok && jp.UpstreamNeighbor == winnerAddr &&
					len(jp.Groups) == 1 && len(jp.Groups[0].Joins) == 1 && jp.Groups[0].Joins[0].WC {
					joined = true
				}
			}
			if !joined {
				t.Errorf("%s sent no Join(*,G) to the winner %v after the assert", loserDown.name, winnerAddr)
			}

			// The winner's re-asserts keep the state; the loser's downstream
			// Join expires and it leaves the tree.
			n.run(10 * time.Minute)
			if fc, _ := loser.route(anySource, wcGroup); len(fc.OIFs) != 0 {
				t.Errorf("after 10 min loser %s oifs = %v, want none", loser.name, fc.OIFs)
			}
			if fc, _ := winner.route(anySource, wcGroup); !slices.Equal(fc.OIFs, []int{2}) {
				t.Errorf("after 10 min winner %s oifs = %v, want [2]", winner.name, fc.OIFs)
			}
			rs, _ = routeState(winner.r, anySource, wcGroup, n.now)
			if got := ifState(rs, 2).AssertState; got != "Winner" {
				t.Errorf("after 10 min winner %s assert state = %s, want Winner", winner.name, got)
			}
			for _, d := range downs {
				if rs, _ := routeState(d.r, anySource, wcGroup, n.now); rs.Upstream != winnerAddr {
					t.Errorf("after 10 min %s RPF'(*,G) = %v, want %v", d.name, rs.Upstream, winnerAddr)
				}
			}
		})
	}
}

func TestSimAssertSPTOverRPT(t *testing.T) {
	// RFC 7761 §4.6.1/§4.6.2: U1 forwards G onto the LAN from the shared tree
	// (D1 joined (*,G)), U2 forwards S onto it from S's shortest-path tree (D2
	// joined (S,G)). S's packets from U2 reach U1 on its (*,G) oif: U1's
	// Assert(*,G) names S, U2 answers with Assert(S,G) (RPT bit clear, it
	// wins), and U1 stops forwarding S — only S — onto the LAN.
	rp := simGlobal(9, 1)
	rpPrefix := netip.PrefixFrom(rp, 128)
	withRP := func(c *Config) {
		c.RP = func(g netip.Addr) (netip.Addr, bool) { return rp, g == wcGroup }
	}
	n := newSimNet(t)
	u1 := n.addRouter("U1", 1, rpfTable{rpPrefix: {ifindex: 1, pref: 110, metric: 10}, sPrefix: {ifindex: 1, pref: 110, metric: 10}}, withRP, "up1", "lan")
	u2 := n.addRouter("U2", 2, rpfTable{rpPrefix: {ifindex: 1, pref: 110, metric: 10}, sPrefix: {ifindex: 1, pref: 110, metric: 10}}, withRP, "up2", "lan")
	d1 := n.addRouter("D1", 3, rpfTable{rpPrefix: {ifindex: 1, nexthop: simLL(1, 2), pref: 110, metric: 30}, sPrefix: {ifindex: 1, nexthop: simLL(2, 2), pref: 110, metric: 30}}, withRP, "lan", "r1")
	d2 := n.addRouter("D2", 4, rpfTable{rpPrefix: {ifindex: 1, nexthop: simLL(1, 2), pref: 110, metric: 30}, sPrefix: {ifindex: 1, nexthop: simLL(2, 2), pref: 110, metric: 30}}, withRP, "lan", "r2")
	n.run(10 * time.Second)
	n.do(d1, func(now time.Time) {
		d1.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: wcGroup, Mode: MembershipInclude})
	})
	n.do(d2, func(now time.Time) {
		d2.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: wcGroup, Source: srcS, Mode: MembershipInclude})
	})
	n.run(time.Second)
	// S's first packet on U2's RPF interface sets the SPT bit (§4.2.2).
	n.do(u2, func(now time.Time) {
		u2.r.DataSignal(now, stack.DataSignal{Kind: stack.SignalData, LinkIndex: 1, Src: srcS, Group: wcGroup})
	})
	n.run(time.Second)
	if fc, ok := u1.route(anySource, wcGroup); !ok || !slices.Equal(fc.OIFs, []int{2}) {
		t.Fatalf("U1 (*,G) = %+v, want oifs [2]", fc)
	}
	if fc, ok := u2.route(srcS, wcGroup); !ok || !slices.Equal(fc.OIFs, []int{2}) || fc.Flags&FlagSPT == 0 {
		t.Fatalf("U2 (S,G) = %+v, want SPT, oifs [2]", fc)
	}

	n.do(u1, func(now time.Time) {
		u1.r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: srcS, Group: wcGroup})
	})
	n.run(5 * time.Second)

	rs, _ := routeState(u2.r, srcS, wcGroup, n.now)
	if got := ifState(rs, 2).AssertState; got != "Winner" || !slices.Equal(rs.OIFs, []int{2}) {
		t.Errorf("U2 (S,G) assert state %s oifs %v, want Winner, [2]", got, rs.OIFs)
	}
	rs, ok := routeState(u1.r, srcS, wcGroup, n.now)
	if got := ifState(rs, 2); !ok || got.AssertState != "Loser" || got.AssertWinner != simLL(2, 2) {
		t.Errorf("U1 (S,G) assert on the LAN = %s winner %v (entry %v), want Loser to U2", got.AssertState, got.AssertWinner, ok)
	}
	if fc, ok := u1.route(srcS, wcGroup); !ok || slices.Contains(fc.OIFs, 2) {
		t.Errorf("U1 forwarding for S = %+v (ok %v), want an (S,G) entry without the LAN", fc, ok)
	}
	if fc, _ := u1.route(anySource, wcGroup); !slices.Equal(fc.OIFs, []int{2}) {
		t.Errorf("U1 (*,G) oifs = %v, want [2]: other sources still come from U1", fc.OIFs)
	}
	if rs, _ := routeState(d1.r, anySource, wcGroup, n.now); rs.Upstream != simLL(1, 2) {
		t.Errorf("D1 RPF'(*,G) = %v, want U1", rs.Upstream)
	}
	// U2's re-asserts keep U1 off the LAN for S.
	n.run(10 * time.Minute)
	if fc, ok := u1.route(srcS, wcGroup); !ok || slices.Contains(fc.OIFs, 2) {
		t.Errorf("after 10 min U1 forwarding for S = %+v (ok %v), want an (S,G) entry without the LAN", fc, ok)
	}
	if fc, _ := u2.route(srcS, wcGroup); !slices.Equal(fc.OIFs, []int{2}) {
		t.Errorf("after 10 min U2 (S,G) oifs = %v, want [2]", fc.OIFs)
	}
}

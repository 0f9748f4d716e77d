package pim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

func TestAssertMetricOrder(t *testing.T) {
	// RFC 7761 §4.6.3: RPT bit clear wins, then lower preference, lower
	// metric, higher address.
	tests := []struct {
		name string
		a, b assertMetric
		want bool
	}{
		{"rpt bit clear beats set", assertMetric{rpt: false, pref: 200, metric: 200}, assertMetric{rpt: true, pref: 1, metric: 1}, true},
		{"lower preference wins", assertMetric{pref: 100, metric: 50}, assertMetric{pref: 110, metric: 1}, true},
		{"lower metric wins", assertMetric{pref: 110, metric: 5}, assertMetric{pref: 110, metric: 10}, true},
		{"higher address breaks the tie", assertMetric{pref: 110, metric: 5, addr: ll(9)}, assertMetric{pref: 110, metric: 5, addr: ll(3)}, true},
		{"lower address loses the tie", assertMetric{pref: 110, metric: 5, addr: ll(3)}, assertMetric{pref: 110, metric: 5, addr: ll(9)}, false},
		{"anything beats infinite", assertMetric{pref: 0x7ffffffe, metric: 0xfffffffe}, infiniteAssertMetric, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.better(tt.b); got != tt.want {
				t.Errorf("%+v.better(%+v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// newAssertRouter: S directly connected on interface 1 (metric 10); on
// interface 2 fe80::200 joins (S,G) through us, fe80::201 is another upstream.
func newAssertRouter(t *testing.T) *Router {
	t.Helper()
	r, _ := newAssertRouterMRIB(t)
	return r
}

// newAssertRouterMRIB is newAssertRouter that also returns its MRIB, which
// a test may change (then call RouteChanged).
func newAssertRouterMRIB(t *testing.T) (*Router, rpfTable) {
	t.Helper()
	rpf := rpfTable{sPrefix: {ifindex: 1, pref: 110, metric: 10}}
	r := newTestRouter(t, 1, rpf, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(0x150)})
	forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, hello(1, forever))
	r.Receive(t0, 2, ll(0x201), AllPIMRouters, hello(2, forever))
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, joinMsg(ll(0x150), 0xffff, grpG, []netip.Addr{srcS}, nil))
	r.Tick(at(5 * time.Second))
	r.Outbox()
	return r, rpf
}

func assertMsg(pref, metric uint32) *wire.Assert {
	return &wire.Assert{Group: wire.EncodedGroup{Addr: grpG, MaskLen: 128}, Source: srcS, MetricPreference: pref, Metric: metric}
}

// assertMsgFor is an Assert(S,G) (RPT bit clear) for any group.
func assertMsgFor(g, s netip.Addr, pref, metric uint32) *wire.Assert {
	return &wire.Assert{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}, Source: s, MetricPreference: pref, Metric: metric}
}

func assertCancel(g, s netip.Addr) *wire.Assert {
	return &wire.Assert{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}, Source: s, RPT: true, MetricPreference: 0x7fffffff, Metric: 0xffffffff}
}

// assertStep is one input of an assert state machine test, at a virtual time.
type assertStep struct {
	at   time.Duration
	data netip.Addr // when valid: a wrong-iif packet from this source on link (2 if 0)
	link int
	from netip.Addr   // sender of msg, on interface 2
	msg  wire.Message // received from `from`
	mrib func(rpfTable)
}

// runAssertSteps feeds the steps to r (from 5 s on, ticking timers in
// between) up to check and returns what r sent.
func runAssertSteps(r *Router, rpf rpfTable, grp netip.Addr, steps []assertStep, check time.Duration) []Send {
	now := at(5 * time.Second)
	var out []Send
	for _, s := range steps {
		out = append(out, runUntil(r, now, at(s.at))...)
		now = at(s.at)
		switch {
		case s.mrib != nil:
			s.mrib(rpf)
			r.RouteChanged(now, netip.Prefix{})
		case s.data.IsValid():
			link := s.link
			if link == 0 {
				link = 2
			}
			r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: link, Src: s.data, Group: grp})
		default:
			r.Receive(now, 2, s.from, AllPIMRouters, s.msg)
		}
		o, _ := r.Outbox()
		out = append(out, o...)
	}
	return append(out, runUntil(r, now, at(check))...)
}

// stateAfterFirstStep runs only the first step on a fresh router and returns
// the assert state of (src,grp) on interface 2 one second later: the state
// a multi-step case leaves from.
func stateAfterFirstStep(t *testing.T, mk func(*testing.T) (*Router, rpfTable), src, grp netip.Addr, steps []assertStep) string {
	t.Helper()
	r, rpf := mk(t)
	end := steps[0].at + time.Second
	runAssertSteps(r, rpf, grp, steps[:1], end)
	rs, _ := routeState(r, src, grp, at(end))
	return ifState(rs, 2).AssertState
}

func TestAssertStateMachine(t *testing.T) {
	better := assertMsg(110, 5)
	tests := []struct {
		name        string
		steps       []assertStep
		check       time.Duration
		wantState   string
		wantOIF     bool
		wantAsserts int // Asserts we sent
	}{
		{name: "§4.6.1 NoInfo-Winner: data on a downstream interface", steps: []assertStep{{at: 10 * time.Second, data: srcS}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1},
		{name: "§4.6.1 Winner: Assert Timer expiry re-asserts after 177 s", steps: []assertStep{{at: 10 * time.Second, data: srcS}},
			check: 188 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 2},
		{name: "§4.6.1 NoInfo-Winner: inferior assert", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 20)}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1},
		{name: "§4.6.1 NoInfo-Loser: preferred assert, interface leaves olist", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}},
			check: 11 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6.1 Winner-Loser: preferred assert", steps: []assertStep{{at: 10 * time.Second, data: srcS}, {at: 11 * time.Second, from: ll(0x201), msg: assertMsg(100, 50)}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantAsserts: 1},
		{name: "§4.6.1 Loser-NoInfo: Assert Timer expires after 180 s", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better}},
			check: 191 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser-NoInfo: AssertCancel from the winner", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x201), msg: assertCancel(grpG, srcS)}},
			check: 21 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser: acceptable assert from the winner refreshes", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 150 * time.Second, from: ll(0x201), msg: better}},
			check: 300 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6 Assert from a non-neighbour is ignored", steps: []assertStep{{at: 10 * time.Second, from: ll(0x999), msg: assertMsg(1, 1)}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser-NoInfo: Receive Join(S,G) on I", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x200), msg: joinMsg(ll(0x150), 210, grpG, []netip.Addr{srcS}, nil)}},
			check: 21 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser: a Join(S,G) to another router changes nothing", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x200), msg: joinMsg(ll(0x201), 210, grpG, []netip.Addr{srcS}, nil)}},
			check: 21 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6.1 Loser-NoInfo: Current Winner's GenID changes", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x201), msg: hello(77, func(h *wire.Hello) { h.Holdtime = 0xffff })}},
			check: 21 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser-NoInfo: Current Winner's NLT expires", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x201), msg: hello(2, func(h *wire.Hello) { h.Holdtime = 30 })}},
			check: 51 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser: another neighbour's NLT expiry changes nothing", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, from: ll(0x202), msg: hello(3, func(h *wire.Hello) { h.Holdtime = 5 })}},
			check: 51 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6.1 Loser-NoInfo: my_metric becomes better than the winner's", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, mrib: func(t rpfTable) { t[sPrefix] = rpfAnswer{ifindex: 1, pref: 110, metric: 1} }}},
			check: 21 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser: my_metric still worse than the winner's", steps: []assertStep{{at: 10 * time.Second, from: ll(0x201), msg: better},
			{at: 20 * time.Second, mrib: func(t rpfTable) { t[sPrefix] = rpfAnswer{ifindex: 1, pref: 110, metric: 7} }}},
			check: 21 * time.Second, wantState: "Loser", wantOIF: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.steps) > 1 || strings.Contains(tt.name, "-NoInfo") {
				if got := stateAfterFirstStep(t, newAssertRouterMRIB, srcS, grpG, tt.steps); got == "NoInfo" {
					t.Fatalf("state after the first step = %s: the case does not leave from Winner or Loser", got)
				}
			}
			r, rpf := newAssertRouterMRIB(t)
			out := runAssertSteps(r, rpf, grpG, tt.steps, tt.check)
			rs, _ := routeState(r, srcS, grpG, at(tt.check))
			if got := ifState(rs, 2).AssertState; got != tt.wantState {
				t.Errorf("assert state = %s, want %s", got, tt.wantState)
			}
			if got := len(rs.OIFs) == 1; got != tt.wantOIF {
				t.Errorf("interface 2 in olist = %v (oifs %v), want %v", got, rs.OIFs, tt.wantOIF)
			}
			if got := len(sends[*wire.Assert](out)); got != tt.wantAsserts {
				t.Errorf("sent %d Asserts, want %d", got, tt.wantAsserts)
			}
		})
	}
}

func TestAssertCancelWhenCouldAssertFalse(t *testing.T) {
	// §4.6.1 Winner: CouldAssert(S,G,I) -> FALSE: send AssertCancel [A4].
	r := newAssertRouter(t)
	now := at(10 * time.Second)
	r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: srcS, Group: grpG})
	r.Outbox()
	r.Receive(now, 2, ll(0x200), AllPIMRouters, joinMsg(ll(0x150), 210, grpG, nil, []netip.Addr{srcS}))
	out := runUntil(r, now, now.Add(4*time.Second)) // PrunePending: 3 s on this LAN
	as := sends[*wire.Assert](out)
	if len(as) != 1 || !as[0].RPT || as[0].MetricPreference != 0x7fffffff || as[0].Metric != 0xffffffff {
		t.Errorf("sent %+v, want one AssertCancel (infinite metric, RPT bit)", as)
	}
}

package pim

import (
	"net/netip"
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
	rpf := rpfTable{sPrefix: {ifindex: 1, pref: 110, metric: 10}}
	r := newTestRouter(t, 1, rpf, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(0x150)})
	forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, hello(1, forever))
	r.Receive(t0, 2, ll(0x201), AllPIMRouters, hello(2, forever))
	r.Receive(t0, 2, ll(0x200), AllPIMRouters, joinMsg(ll(0x150), 0xffff, grpG, []netip.Addr{srcS}, nil))
	r.Tick(at(5 * time.Second))
	r.Outbox()
	return r
}

func assertMsg(pref, metric uint32) *wire.Assert {
	return &wire.Assert{Group: wire.EncodedGroup{Addr: grpG, MaskLen: 128}, Source: srcS, MetricPreference: pref, Metric: metric}
}

func TestAssertStateMachine(t *testing.T) {
	type step struct {
		at   time.Duration
		data bool // wrong-iif data on interface 2
		from netip.Addr
		msg  *wire.Assert
	}
	tests := []struct {
		name        string
		steps       []step
		check       time.Duration
		wantState   string
		wantOIF     bool
		wantAsserts int // Asserts we sent
	}{
		{name: "§4.6.1 NoInfo-Winner: data on a downstream interface", steps: []step{{at: 10 * time.Second, data: true}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1},
		{name: "§4.6.1 Winner: Assert Timer expiry re-asserts after 177 s", steps: []step{{at: 10 * time.Second, data: true}},
			check: 188 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 2},
		{name: "§4.6.1 NoInfo-Winner: inferior assert", steps: []step{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 20)}},
			check: 11 * time.Second, wantState: "Winner", wantOIF: true, wantAsserts: 1},
		{name: "§4.6.1 NoInfo-Loser: preferred assert, interface leaves olist", steps: []step{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 5)}},
			check: 11 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6.1 Winner-Loser: preferred assert", steps: []step{{at: 10 * time.Second, data: true}, {at: 11 * time.Second, from: ll(0x201), msg: assertMsg(100, 50)}},
			check: 12 * time.Second, wantState: "Loser", wantOIF: false, wantAsserts: 1},
		{name: "§4.6.1 Loser-NoInfo: Assert Timer expires after 180 s", steps: []step{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 5)}},
			check: 191 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser-NoInfo: AssertCancel from the winner", steps: []step{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 5)},
			{at: 20 * time.Second, from: ll(0x201), msg: &wire.Assert{Group: wire.EncodedGroup{Addr: grpG, MaskLen: 128}, Source: srcS, RPT: true, MetricPreference: 0x7fffffff, Metric: 0xffffffff}}},
			check: 21 * time.Second, wantState: "NoInfo", wantOIF: true},
		{name: "§4.6.1 Loser: acceptable assert from the winner refreshes", steps: []step{{at: 10 * time.Second, from: ll(0x201), msg: assertMsg(110, 5)},
			{at: 150 * time.Second, from: ll(0x201), msg: assertMsg(110, 5)}},
			check: 300 * time.Second, wantState: "Loser", wantOIF: false},
		{name: "§4.6 Assert from a non-neighbour is ignored", steps: []step{{at: 10 * time.Second, from: ll(0x999), msg: assertMsg(1, 1)}},
			check: 11 * time.Second, wantState: "NoInfo", wantOIF: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAssertRouter(t)
			now := at(5 * time.Second)
			var out []Send
			for _, s := range tt.steps {
				out = append(out, runUntil(r, now, at(s.at))...)
				now = at(s.at)
				if s.data {
					r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: srcS, Group: grpG})
				} else {
					r.Receive(now, 2, s.from, AllPIMRouters, s.msg)
				}
				o, _ := r.Outbox()
				out = append(out, o...)
			}
			out = append(out, runUntil(r, now, at(tt.check))...)
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

package pim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6d/pim6d/pim/wire"
)

func TestHelloTimers(t *testing.T) {
	// RFC 7761 §4.3.1: first Hello at a random time in [0, Triggered_Hello_Delay],
	// then every Hello_Period, holdtime 3.5 × Hello_Period.
	r := newTestRouter(t, 1, nil, nil)
	r.AddInterface(t0, Interface{Index: 1, Name: "eth0", LinkLocal: ll(1), Secondary: []netip.Addr{glob(1)}})
	if out, _ := r.Outbox(); len(out) != 0 {
		t.Fatalf("AddInterface sent %d messages at once, want 0 (Hello is delayed)", len(out))
	}
	first := r.NextDeadline()
	if d := first.Sub(t0); d < 0 || d > 5*time.Second {
		t.Fatalf("first Hello after %v, want within [0, 5s]", d)
	}
	out := runUntil(r, t0, first.Add(95*time.Second))
	hs := sends[*wire.Hello](out)
	if len(hs) != 4 {
		t.Fatalf("sent %d Hellos in first+95s, want 4 (every 30 s)", len(hs))
	}
	want := &wire.Hello{Holdtime: 105, HasHoldtime: true, DRPriority: 1, HasDRPriority: true,
		GenerationID: hs[0].GenerationID, HasGenID: true,
		LANPruneDelay: &wire.LANPruneDelay{TrackingSupport: true, PropagationDelay: 500, OverrideInterval: 2500},
		AddressList:   []netip.Addr{glob(1)}}
	if diff := cmp.Diff(want, hs[0], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Hello (-want +got):\n%s", diff)
	}
	if out[0].Src != ll(1) || out[0].Dst != AllPIMRouters || out[0].Interface != 1 {
		t.Errorf("Hello sent %v -> %v on %d, want fe80::1 -> ff02::d on 1", out[0].Src, out[0].Dst, out[0].Interface)
	}
}

func TestPerInterfaceHelloTiming(t *testing.T) {
	// RFC 7761 §4.11: Hello_Period, Propagation_Delay and t_override are
	// per-interface settings; the holdtime follows the link's period (3.5x).
	r := newTestRouter(t, 1, nil, nil)
	r.AddInterface(t0, Interface{Index: 1, Name: "eth0", LinkLocal: ll(1), HelloPeriod: 2 * time.Second,
		PropagationDelay: 100 * time.Millisecond, OverrideInterval: 900 * time.Millisecond})
	r.AddInterface(t0, Interface{Index: 2, Name: "eth1", LinkLocal: ll(2)})
	out := runUntil(r, t0, t0.Add(5*time.Second+10*time.Second))
	var fast, slow []*wire.Hello
	for _, s := range out {
		if h, ok := s.Message.(*wire.Hello); ok {
			if s.Interface == 1 {
				fast = append(fast, h)
			} else {
				slow = append(slow, h)
			}
		}
	}
	if len(fast) < 5 || len(slow) != 1 {
		t.Fatalf("in 15 s: %d Hellos on the 2 s link (want >= 5), %d on the default link (want 1)", len(fast), len(slow))
	}
	if h := fast[0]; h.Holdtime != 7 || h.LANPruneDelay.PropagationDelay != 100 || h.LANPruneDelay.OverrideInterval != 900 {
		t.Errorf("Hello on the 2 s link: holdtime %d, LAN prune delay %+v; want 7, 100 ms, 900 ms", h.Holdtime, *h.LANPruneDelay)
	}
	if h := slow[0]; h.Holdtime != 105 || h.LANPruneDelay.OverrideInterval != 2500 {
		t.Errorf("Hello on the default link: holdtime %d, override %d; want 105, 2500", h.Holdtime, h.LANPruneDelay.OverrideInterval)
	}
}

func TestShutdownSendsHoldtimeZero(t *testing.T) {
	// RFC 7761 §4.3.2: a router going down sends a Hello with holdtime 0.
	r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2)})
	r.Shutdown(at(time.Second))
	out, _ := r.Outbox()
	hs := sends[*wire.Hello](out)
	if len(hs) != 2 || hs[0].Holdtime != 0 || hs[1].Holdtime != 0 {
		t.Fatalf("Shutdown sent %+v, want two Hellos with holdtime 0", hs)
	}
	if !r.NextDeadline().IsZero() {
		t.Errorf("timers still running after Shutdown")
	}
}

func TestNeighborLiveness(t *testing.T) {
	tests := []struct {
		name      string
		holdtime  uint16
		has       bool
		aliveAt   time.Duration
		goneAt    time.Duration // 0: never
		goodbyeAt time.Duration
	}{
		{name: "§4.3.2 holdtime 105 expires", holdtime: 105, has: true, aliveAt: 104 * time.Second, goneAt: 106 * time.Second},
		{name: "§4.9.2 default holdtime 105 without option", aliveAt: 104 * time.Second, goneAt: 106 * time.Second},
		{name: "§4.9.2 holdtime 0xffff never expires", holdtime: 0xffff, has: true, aliveAt: 1000 * time.Hour},
		{name: "§4.3.2 goodbye holdtime 0 removes at once", holdtime: 105, has: true, aliveAt: time.Second, goodbyeAt: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
			h := hello(7)
			h.Holdtime, h.HasHoldtime = tt.holdtime, tt.has
			r.Receive(t0, 1, ll(2), AllPIMRouters, h)
			runUntil(r, t0, at(tt.aliveAt))
			if n := len(r.Snapshot(at(tt.aliveAt)).Interfaces[0].Neighbors); n != 1 {
				t.Fatalf("neighbours at %v = %d, want 1", tt.aliveAt, n)
			}
			end := tt.goneAt
			if tt.goodbyeAt != 0 {
				bye := hello(7)
				bye.Holdtime = 0
				r.Receive(at(tt.goodbyeAt), 1, ll(2), AllPIMRouters, bye)
				end = tt.goodbyeAt
			}
			if end == 0 {
				return
			}
			runUntil(r, t0, at(end))
			if n := len(r.Snapshot(at(end)).Interfaces[0].Neighbors); n != 0 {
				t.Errorf("neighbours at %v = %d, want 0", end, n)
			}
		})
	}
}

func TestTriggeredHelloOnNewNeighborAndGenIDChange(t *testing.T) {
	// RFC 7761 §4.3.1: a new neighbour, or a new GenID, triggers a Hello within
	// Triggered_Hello_Delay.
	r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
	runUntil(r, t0, at(10*time.Second)) // first hello gone; next at ~+30s
	for i, genID := range []uint32{7, 7, 8} {
		now := at(time.Duration(10+20*i) * time.Second)
		r.Receive(now, 1, ll(2), AllPIMRouters, hello(genID))
		hs := sends[*wire.Hello](runUntil(r, now, now.Add(5*time.Second)))
		want := 1
		if i == 1 {
			want = 0 // same GenID: nothing to trigger (and the periodic one is not due)
		}
		if len(hs) != want {
			t.Errorf("Hello %d (GenID %d): %d Hellos within 5 s, want %d", i, genID, len(hs), want)
		}
	}
	if got := r.Stats().NeighborRestarts; got != 1 {
		t.Errorf("NeighborRestarts = %d, want 1", got)
	}
}

func TestDRElection(t *testing.T) {
	noPrio := func(h *wire.Hello) { h.HasDRPriority = false }
	prio := func(p uint32) func(*wire.Hello) { return func(h *wire.Hello) { h.DRPriority = p } }
	type nb struct {
		addr netip.Addr
		opts []func(*wire.Hello)
	}
	tests := []struct {
		name   string
		myPrio uint32
		nbrs   []nb
		want   netip.Addr
	}{
		{name: "§4.3.2 alone: we are DR", want: ll(5)},
		{name: "§4.3.2 equal priority: highest address", nbrs: []nb{{addr: ll(9)}, {addr: ll(3)}}, want: ll(9)},
		{name: "§4.3.2 higher priority beats higher address", myPrio: 10, nbrs: []nb{{addr: ll(9)}}, want: ll(5)},
		{name: "§4.3.2 neighbour with highest priority", nbrs: []nb{{addr: ll(2), opts: []func(*wire.Hello){prio(100)}}, {addr: ll(9)}}, want: ll(2)},
		{name: "§4.3.2 a neighbour without priority: addresses only", myPrio: 10,
			nbrs: []nb{{addr: ll(2), opts: []func(*wire.Hello){prio(100)}}, {addr: ll(9), opts: []func(*wire.Hello){noPrio}}}, want: ll(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(5), DRPriority: tt.myPrio})
			for _, n := range tt.nbrs {
				r.Receive(t0, 1, n.addr, AllPIMRouters, hello(1, n.opts...))
			}
			is := r.Snapshot(t0).Interfaces[0]
			if is.DR != tt.want || is.IsDR != (tt.want == ll(5)) {
				t.Errorf("DR = %v (IsDR %v), want %v", is.DR, is.IsDR, tt.want)
			}
		})
	}
}

func TestLANPruneDelay(t *testing.T) {
	lpd := func(tbit bool, prop, ovr uint16) func(*wire.Hello) {
		return func(h *wire.Hello) {
			h.LANPruneDelay = &wire.LANPruneDelay{TrackingSupport: tbit, PropagationDelay: prop, OverrideInterval: ovr}
		}
	}
	none := func(h *wire.Hello) { h.LANPruneDelay = nil }
	tests := []struct {
		name                      string
		nbrs                      []func(*wire.Hello)
		wantEnabled, wantSuppress bool
		wantProp, wantOverride    time.Duration
	}{
		{name: "§4.3.3 all with option: maxima", nbrs: []func(*wire.Hello){lpd(true, 700, 2000), lpd(true, 300, 4000)},
			wantEnabled: true, wantSuppress: false, wantProp: 700 * time.Millisecond, wantOverride: 4 * time.Second},
		{name: "§4.3.3 one without option: defaults, suppression on", nbrs: []func(*wire.Hello){lpd(true, 900, 9000), none},
			wantEnabled: false, wantSuppress: true, wantProp: 500 * time.Millisecond, wantOverride: 2500 * time.Millisecond},
		{name: "§4.3.3 one T bit clear: suppression on", nbrs: []func(*wire.Hello){lpd(true, 500, 2500), lpd(false, 500, 2500)},
			wantEnabled: true, wantSuppress: true, wantProp: 500 * time.Millisecond, wantOverride: 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
			for i, o := range tt.nbrs {
				r.Receive(t0, 1, ll(10+i), AllPIMRouters, hello(1, o))
			}
			is := r.Snapshot(t0).Interfaces[0]
			got := []any{is.LANDelayEnabled, is.SuppressionEnabled, is.PropagationDelay, is.OverrideInterval}
			want := []any{tt.wantEnabled, tt.wantSuppress, tt.wantProp, tt.wantOverride}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[enabled suppression prop override] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelloValidation(t *testing.T) {
	tests := []struct {
		name     string
		ifindex  int
		src, dst netip.Addr
		reason   Reason
	}{
		{"§4.9 global source", 1, glob(2), AllPIMRouters, ReasonNotLinkLocal},
		{"§4.9 unicast destination", 1, ll(2), ll(1), ReasonBadDestination},
		{"unknown interface", 9, ll(2), AllPIMRouters, ReasonUnknownInterface},
		{"own looped-back Hello", 1, ll(1), AllPIMRouters, ReasonOwnMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
			r.Receive(t0, tt.ifindex, tt.src, tt.dst, hello(1))
			if r.Drops(tt.reason) != 1 {
				t.Errorf("Drops(%v) = %d, want 1", tt.reason, r.Drops(tt.reason))
			}
			if n := len(r.Snapshot(t0).Interfaces[0].Neighbors); n != 0 {
				t.Errorf("neighbours = %d, want 0", n)
			}
		})
	}
}

package router

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Whole-router simulations (issue 5): Cores with MLD, PIM and the mfib on the
// in-memory stack, data forwarded by each node's forwarder from the table the
// Core writes, on virtual time.

var (
	srcPrefix = "2001:db8:1::/64"
	srcAddr   = netip.MustParseAddr("2001:db8:1::2")
	ssmGroup  = netip.MustParseAddr("ff3e::4321:1234")
)

// adjacency is enough virtual time for every router to hear its neighbours'
// first Hellos (RFC 7761 §4.11: Triggered_Hello_Delay 5 s) and answer them.
const adjacency = 12 * time.Second

// chain builds src — r1 — r2 — r3 — rcv: r1 is on the source's subnet, r2 and
// r3 route to it through their upstream neighbour's link-local address.
func chain(t *testing.T) (l *lab, rs []*coreRunner, src, rcv *host) {
	l = newLab(t)
	src = l.addHost("src", "s0", "2001:db8:1::2/64")
	r1 := l.addRouter("r1", "s0", "l1")
	r2 := l.addRouter("r2", "l1", "l2")
	r3 := l.addRouter("r3", "l2", "l3")
	rcv = l.addHost("rcv", "l3", "")
	l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
	l.routeVia(r2, srcPrefix, "l1", r1, 10)
	l.routeVia(r3, srcPrefix, "l2", r2, 20)
	l.start()
	l.run(adjacency)
	return l, []*coreRunner{r1, r2, r3}, src, rcv
}

func TestSimChainJoinTravelsHopByHopAndTimesOut(t *testing.T) {
	l, rs, src, rcv := chain(t)
	r3 := rs[2]
	segs := [][2]string{{"s0", "l1"}, {"l1", "l2"}, {"l2", "l3"}}

	rcv.join(srcAddr, ssmGroup)
	// RFC 7761 §4.5.7: the DR's (S,G) Join goes to RPF'(S,G) at once; each
	// router that receives it joins upstream in turn (§4.5.3).
	ok := l.runUntil(5*time.Second, 10*time.Millisecond, func() bool {
		for i, r := range rs {
			if !l.forwards(r, srcAddr, ssmGroup, segs[i][0], segs[i][1]) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("(S,G) tree not built 5 s after the receiver joined:%s", l.dump(srcAddr, ssmGroup))
	}
	t.Logf("tree built %v after the join", l.now().Sub(simT0.Add(adjacency)))
	// The reasons: r3 has a local listener, r1 and r2 a downstream Join, and
	// each points upstream at the neighbour on its RPF interface.
	for i, r := range rs {
		rt, _ := l.route(r, srcAddr, ssmGroup)
		down := r.ifname(segs[i][1])
		reason, why := rt.Joined, "a downstream Join"
		if r == r3 {
			reason, why = rt.Leaves, "a local listener"
		}
		if !slices.Equal(reason, []string{down}) {
			t.Errorf("%s (S,G) = %s; want oif %s for %s", r.name, describeRoute(rt, true), down, why)
		}
		wantUp := ""
		if i > 0 {
			wantUp = rs[i-1].ll(segs[i][0]).String()
		}
		if rt.Upstream != wantUp {
			t.Errorf("%s upstream = %q, want %q", r.name, rt.Upstream, wantUp)
		}
	}

	// Data from the source crosses the three routers, each decrementing the
	// hop limit.
	l.stream(src, srcAddr, ssmGroup, 10, 100*time.Millisecond)
	got := rcv.node.Received(srcAddr, ssmGroup)
	if got.Packets != 10 || got.HopLimit != 61 {
		t.Errorf("receiver got %d packets with hop limit %d, want 10 with 64-3 = 61", got.Packets, got.HopLimit)
	}
	for _, r := range rs {
		if rt, _ := l.route(r, srcAddr, ssmGroup); rt.Packets != 10 {
			t.Errorf("%s forwarded %d packets on (S,G), want 10", r.name, rt.Packets)
		}
	}

	// The state survives well past every holdtime while the receiver
	// answers queries and the routers refresh their Joins (§4.5.7 t_periodic).
	l.run(10 * time.Minute)
	for i, r := range rs {
		if !l.forwards(r, srcAddr, ssmGroup, segs[i][0], segs[i][1]) {
			t.Fatalf("(S,G) tree lost after 10 min of refreshes:%s", l.dump(srcAddr, ssmGroup))
		}
	}

	// The receiver goes silent: MLD's source timer expires (RFC 3810 §7.4:
	// MALI = 2×125+10 s), r3 prunes, and r2 and r1 lose the downstream state.
	rcv.mute = true
	muted := l.now()
	ok = l.runUntil(10*time.Minute, time.Second, func() bool {
		for _, r := range rs {
			if rt, found := l.route(r, srcAddr, ssmGroup); found && len(rt.OIFs) > 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("(S,G) still forwarded 10 min after the receiver went silent:%s", l.dump(srcAddr, ssmGroup))
	}
	// MALI counts from the receiver's last Report, not from when it muted.
	mali := 2*125*time.Second + 10*time.Second
	if d := l.now().Sub(rcv.lastReport); d < mali || d > mali+2*time.Second {
		t.Errorf("forwarding stopped %v after the receiver's last report, want MALI (%v) + at most 2 s", d, mali)
	} else {
		t.Logf("forwarding stopped %v after the receiver went silent, %v after its last report", l.now().Sub(muted), d)
	}
	before := rcv.received(srcAddr, ssmGroup)
	l.stream(src, srcAddr, ssmGroup, 5, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup); got != before {
		t.Errorf("receiver got %d packets after its state timed out, want none", got-before)
	}
	// Without data or Joins the entries go away (keepalive, §4.1.2).
	ok = l.runUntil(10*time.Minute, 10*time.Second, func() bool {
		for _, r := range rs {
			if _, found := l.route(r, srcAddr, ssmGroup); found {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Errorf("(S,G) entries left 10 min after forwarding stopped:%s", l.dump(srcAddr, ssmGroup))
	}
}

func TestSimChainLeavePrunesAtOnce(t *testing.T) {
	l, rs, src, rcv := chain(t)
	rcv.join(srcAddr, ssmGroup)
	l.run(2 * time.Second)
	l.stream(src, srcAddr, ssmGroup, 3, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup); got != 3 {
		t.Fatalf("receiver got %d of 3 packets before leaving:%s", got, l.dump(srcAddr, ssmGroup))
	}
	rcv.leave(srcAddr, ssmGroup)
	// RFC 3810 §7.4.2: a BLOCK starts source-specific queries, the source
	// goes after LLQT (2 × 1 s); then the Prune travels up (RFC 7761 §4.5.3,
	// Prune-Pending is 0 on a point-to-point link).
	left := l.now()
	ok := l.runUntil(10*time.Second, 10*time.Millisecond, func() bool {
		for _, r := range rs {
			if rt, found := l.route(r, srcAddr, ssmGroup); found && len(rt.OIFs) > 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("(S,G) still forwarded 10 s after the receiver left:%s", l.dump(srcAddr, ssmGroup))
	}
	t.Logf("pruned on every router %v after the leave", l.now().Sub(left))
	before := rcv.received(srcAddr, ssmGroup)
	l.stream(src, srcAddr, ssmGroup, 5, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup); got != before {
		t.Errorf("receiver got %d packets after leaving, want none", got-before)
	}
	// Nothing crosses r1 either: the source's router drops the flow.
	if rt, ok := l.route(rs[1], srcAddr, ssmGroup); ok && rt.Packets > 3 {
		t.Errorf("r2 forwarded %d packets, want the 3 sent before the leave", rt.Packets)
	}
}

// lanOfThree builds three routers r1, r2, r3 on the source's subnet (up) and
// on a LAN with a receiver host, with the given DR priorities on the LAN
// (0: the default). Node numbers, hence link-local addresses on the LAN, go
// up from r1 to r3 (fe80::2:2, fe80::3:2, fe80::4:2).
func lanOfThree(t *testing.T, prio [3]uint32) (l *lab, rs []*coreRunner, src, rcv *host) {
	l = newLab(t)
	src = l.addHost("src", "up", "2001:db8:1::2/64")
	for i, name := range []string{"r1", "r2", "r3"} {
		r := l.addRouter(name, "up", "lan")
		l.addAddr(r.node, "eth0", fmt.Sprintf("2001:db8:1::1%d/64", i+1))
		if prio[i] != 0 {
			r.setDRPriority("lan", prio[i])
		}
		rs = append(rs, r)
	}
	rcv = l.addHost("rcv", "lan", "")
	l.start()
	l.run(adjacency)
	return l, rs, src, rcv
}

// dr returns the DR every router elected on the LAN, "" if they disagree.
func (l *lab) dr(rs []*coreRunner, seg string) string {
	var got string
	for i, r := range rs {
		if r.core == nil {
			continue
		}
		var d string
		for _, ifc := range r.core.Snapshot(l.now()).Interfaces {
			if ifc.Name == r.ifname(seg) {
				d = ifc.DR
			}
		}
		if i > 0 && got != "" && d != got {
			return ""
		}
		got = d
	}
	return got
}

// lanForwarders names the routers whose (S,G) olist holds the LAN.
func (l *lab) lanForwarders(rs []*coreRunner, seg string) []string {
	var out []string
	for _, r := range rs {
		if rt, ok := l.route(r, srcAddr, ssmGroup); ok && slices.Contains(rt.OIFs, r.ifname(seg)) {
			out = append(out, r.name)
		}
	}
	return out
}

func TestSimLANDRElection(t *testing.T) {
	tests := []struct {
		name string
		prio [3]uint32
		want int // index of the DR
	}{
		// RFC 7761 §4.3.2: highest priority wins, then highest address.
		{"equal priorities: highest address", [3]uint32{}, 2},
		{"highest priority wins over address", [3]uint32{10, 0, 0}, 0},
		{"priority tie broken by address", [3]uint32{1, 5, 5}, 2},
		{"middle router by priority", [3]uint32{1, 7, 3}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, rs, src, rcv := lanOfThree(t, tt.prio)
			want := rs[tt.want]
			if got := l.dr(rs, "lan"); got != want.ll("lan").String() {
				t.Fatalf("DR on the LAN = %q (\"\" = routers disagree), want %s's %v", got, want.name, want.ll("lan"))
			}
			rcv.join(srcAddr, ssmGroup)
			l.run(time.Second)
			// RFC 7761 §4.1.6: local_receiver_include needs I_am_DR; only the
			// DR forwards onto the LAN, so the receiver sees no duplicate.
			if got := l.lanForwarders(rs, "lan"); !slices.Equal(got, []string{want.name}) {
				t.Fatalf("routers forwarding onto the LAN = %v, want only the DR %s:%s", got, want.name, l.dump(srcAddr, ssmGroup))
			}
			l.stream(src, srcAddr, ssmGroup, 10, 100*time.Millisecond)
			if got := rcv.received(srcAddr, ssmGroup); got != 10 {
				t.Errorf("receiver got %d packets for 10 sent, want 10 (one copy each)", got)
			}
		})
	}
}

func TestSimLANDRFailover(t *testing.T) {
	tests := []struct {
		name string
		fail func(l *lab, dr *coreRunner)
		// within is how soon forwarding must resume: the neighbour's holdtime
		// (3.5 × 30 s, RFC 7761 §4.11) when the DR vanishes silently, a few
		// seconds when it says goodbye with holdtime 0 (§4.3.1).
		within time.Duration
	}{
		{"DR's LAN link goes down", func(l *lab, dr *coreRunner) {
			if err := dr.node.SetLinkUp(dr.ifname("lan"), false); err != nil {
				l.t.Fatal(err)
			}
		}, 106 * time.Second},
		{"DR's daemon shuts down", func(l *lab, dr *coreRunner) { l.shutdown(dr) }, 2 * time.Second},
		{"DR's daemon crashes", func(l *lab, dr *coreRunner) { l.crash(dr) }, 106 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, rs, src, rcv := lanOfThree(t, [3]uint32{1, 5, 9})
			rcv.join(srcAddr, ssmGroup)
			l.run(time.Second)
			l.stream(src, srcAddr, ssmGroup, 5, 100*time.Millisecond)
			if got := rcv.received(srcAddr, ssmGroup); got != 5 {
				t.Fatalf("receiver got %d of 5 packets through the DR r3:%s", got, l.dump(srcAddr, ssmGroup))
			}
			failed := l.now()
			tt.fail(l, rs[2])
			live := rs[:2]
			// r2 has the next highest priority (RFC 7761 §4.3.2).
			ok := l.runUntil(tt.within, 100*time.Millisecond, func() bool {
				return l.dr(live, "lan") == rs[1].ll("lan").String() && slices.Equal(l.lanForwarders(live, "lan"), []string{"r2"})
			})
			if !ok {
				t.Fatalf("%v after the DR failed: DR %q, LAN forwarders %v; want r2 (%v) alone:%s",
					tt.within, l.dr(live, "lan"), l.lanForwarders(live, "lan"), rs[1].ll("lan"), l.dump(srcAddr, ssmGroup))
			}
			t.Logf("r2 took over %v after the failure", l.now().Sub(failed))
			before := rcv.received(srcAddr, ssmGroup)
			l.stream(src, srcAddr, ssmGroup, 10, 100*time.Millisecond)
			if got := rcv.received(srcAddr, ssmGroup) - before; got != 10 {
				t.Errorf("receiver got %d packets for 10 sent after the failover, want 10", got)
			}
		})
	}
}

func TestSimLANAssertElectsOneForwarder(t *testing.T) {
	tests := []struct {
		name string
		// r2Routed: r2 reaches the source through r1 instead of directly,
		// so its route is worse (RFC 7761 §4.6.3: preference first).
		r2Routed bool
		winner   string
	}{
		{"equal routes: highest address wins", false, "r2"},
		{"better route wins over a higher address", true, "r1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// r1 and r2 on the source's subnet (up) and on the LAN; r3
			// downstream on the LAN, with its own receiver rcvB on l3; rcvA on
			// the LAN itself, served by r2, the DR by priority.
			l := newLab(t)
			src := l.addHost("src", "up", "2001:db8:1::2/64")
			r1 := l.addRouter("r1", "up", "lan")
			r2 := l.addRouter("r2", "up", "lan")
			r3 := l.addRouter("r3", "lan", "l3")
			rcvA := l.addHost("rcvA", "lan", "")
			rcvB := l.addHost("rcvB", "l3", "")
			l.addAddr(r1.node, "eth0", "2001:db8:1::11/64")
			if tt.r2Routed {
				l.routeVia(r2, srcPrefix, "up", r1, 100)
			} else {
				l.addAddr(r2.node, "eth0", "2001:db8:1::12/64")
			}
			r2.setDRPriority("lan", 10)
			// r3's unicast route goes to r1, so its Join does.
			l.routeVia(r3, srcPrefix, "lan", r1, 10)
			l.start()
			l.run(adjacency)
			rs := []*coreRunner{r1, r2}

			rcvA.join(srcAddr, ssmGroup) // r2 forwards onto the LAN as DR
			rcvB.join(srcAddr, ssmGroup) // r1 forwards onto the LAN for r3's Join
			l.run(time.Second)
			if got := l.lanForwarders(rs, "lan"); len(got) != 2 {
				t.Fatalf("before any data, LAN forwarders = %v, want r1 (joined) and r2 (DR):%s", got, l.dump(srcAddr, ssmGroup))
			}
			// The first packet arrives twice on the LAN: each forwarder sees
			// the other's copy on its olist interface and asserts (§4.6.1).
			src.inject(srcAddr, ssmGroup)
			l.run(5 * time.Second)
			if got := l.lanForwarders(rs, "lan"); !slices.Equal(got, []string{tt.winner}) {
				t.Fatalf("after the assert, LAN forwarders = %v, want the winner %s alone:%s", got, tt.winner, l.dump(srcAddr, ssmGroup))
			}
			loser := r1
			winner := r2
			if tt.winner == "r1" {
				loser, winner = r2, r1
			}
			if rt, _ := l.route(loser, srcAddr, ssmGroup); !slices.Contains(rt.Asserted, loser.ifname("lan")) {
				t.Errorf("%s (the loser) = %s; want the LAN in its asserted set", loser.name, describeRoute(rt, true))
			}
			// §4.5.7/§4.6: the assert winner becomes RPF'(S,G) for r3.
			if rt, _ := l.route(r3, srcAddr, ssmGroup); rt.Upstream != winner.ll("lan").String() {
				t.Errorf("r3 upstream = %q, want the assert winner %s (%v)", rt.Upstream, winner.name, winner.ll("lan"))
			}
			a0, b0 := rcvA.received(srcAddr, ssmGroup), rcvB.received(srcAddr, ssmGroup)
			l.stream(src, srcAddr, ssmGroup, 20, 100*time.Millisecond)
			if a, b := rcvA.received(srcAddr, ssmGroup)-a0, rcvB.received(srcAddr, ssmGroup)-b0; a != 20 || b != 20 {
				t.Errorf("after the assert, receivers got %d (LAN) and %d (behind r3) packets for 20 sent, want 20 each", a, b)
			}
			// The assert holds through refreshes (Assert Timer, §4.6.1) while
			// data flows: still one forwarder a few minutes on.
			for range 30 {
				l.stream(src, srcAddr, ssmGroup, 1, 10*time.Second)
				if got := l.lanForwarders(rs, "lan"); !slices.Equal(got, []string{tt.winner}) {
					t.Fatalf("%v after the assert, LAN forwarders = %v, want %s alone:%s", l.now().Sub(simT0), got, tt.winner, l.dump(srcAddr, ssmGroup))
				}
			}
			a1, b1 := rcvA.received(srcAddr, ssmGroup)-a0, rcvB.received(srcAddr, ssmGroup)-b0
			if a1 != 50 || b1 != 50 {
				t.Errorf("over 5 min of data after the assert, receivers got %d and %d of 50 packets, want 50 each", a1, b1)
			}
		})
	}
}

func TestSimRPFChangeMovesTheTree(t *testing.T) {
	// A diamond: r1 on the source's subnet; two paths r1—r2—r4 (a, c) and
	// r1—r3—r4 (b, d); the receiver behind r4.
	l := newLab(t)
	src := l.addHost("src", "s0", "2001:db8:1::2/64")
	r1 := l.addRouter("r1", "s0", "a", "b")
	r2 := l.addRouter("r2", "a", "c")
	r3 := l.addRouter("r3", "b", "d")
	r4 := l.addRouter("r4", "c", "d", "l4")
	rcv := l.addHost("rcv", "l4", "")
	l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
	l.routeVia(r2, srcPrefix, "a", r1, 10)
	l.routeVia(r3, srcPrefix, "b", r1, 10)
	l.routeVia(r4, srcPrefix, "c", r2, 20)
	l.start()
	l.run(adjacency)

	rcv.join(srcAddr, ssmGroup)
	l.run(time.Second)
	if !l.forwards(r4, srcAddr, ssmGroup, "c", "l4") || !l.forwards(r2, srcAddr, ssmGroup, "a", "c") || !l.forwards(r1, srcAddr, ssmGroup, "s0", "a") {
		t.Fatalf("tree not on the r1—r2—r4 path:%s", l.dump(srcAddr, ssmGroup))
	}
	l.stream(src, srcAddr, ssmGroup, 10, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup); got != 10 {
		t.Fatalf("receiver got %d of 10 packets on the first path", got)
	}

	// The unicast route moves to r3 (RFC 7761 §4.5.7: RPF'(S,G) changes:
	// Join to the new upstream neighbour, Prune to the old one).
	l.delRoute(r4, srcPrefix)
	l.routeVia(r4, srcPrefix, "d", r3, 20)
	moved := l.now()
	ok := l.runUntil(2*time.Second, 10*time.Millisecond, func() bool {
		rt2, _ := l.route(r2, srcAddr, ssmGroup)
		return l.forwards(r4, srcAddr, ssmGroup, "d", "l4") && l.forwards(r3, srcAddr, ssmGroup, "b", "d") &&
			l.forwards(r1, srcAddr, ssmGroup, "s0", "b") && len(rt2.OIFs) == 0
	})
	if !ok {
		t.Fatalf("2 s after the route change, the tree is not on r1—r3—r4 with r2 pruned:%s", l.dump(srcAddr, ssmGroup))
	}
	t.Logf("tree moved in %v", l.now().Sub(moved))
	if rt, _ := l.route(r4, srcAddr, ssmGroup); rt.Upstream != r3.ll("d").String() {
		t.Errorf("r4 upstream = %q, want r3's %v", rt.Upstream, r3.ll("d"))
	}
	before := rcv.received(srcAddr, ssmGroup)
	r2before, _ := l.route(r2, srcAddr, ssmGroup)
	l.stream(src, srcAddr, ssmGroup, 20, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup) - before; got != 20 {
		t.Errorf("receiver got %d of 20 packets on the new path, want 20 (no loss, no duplicates)", got)
	}
	if got := rcv.node.Received(srcAddr, ssmGroup).LinkIndex; got != 1 {
		t.Errorf("receiver's last packet came in on link %d, want 1", got)
	}
	if rt, _ := l.route(r2, srcAddr, ssmGroup); rt.Packets != r2before.Packets {
		t.Errorf("r2 (old path) forwarded %d more packets after the change, want none", rt.Packets-r2before.Packets)
	}
}

func TestSimRPFChangeKeepsDataFlowing(t *testing.T) {
	// As above, with data flowing every 50 ms while the route changes:
	// at most the packets in flight during the switch are lost, none is
	// delivered twice.
	l := newLab(t)
	src := l.addHost("src", "s0", "2001:db8:1::2/64")
	r1 := l.addRouter("r1", "s0", "a", "b")
	r2 := l.addRouter("r2", "a", "c")
	r3 := l.addRouter("r3", "b", "d")
	r4 := l.addRouter("r4", "c", "d", "l4")
	rcv := l.addHost("rcv", "l4", "")
	l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
	l.routeVia(r2, srcPrefix, "a", r1, 10)
	l.routeVia(r3, srcPrefix, "b", r1, 10)
	l.routeVia(r4, srcPrefix, "c", r2, 20)
	l.start()
	l.run(adjacency)
	rcv.join(srcAddr, ssmGroup)
	l.run(time.Second)

	const n = 100
	for i := range n {
		if i == n/2 {
			l.delRoute(r4, srcPrefix)
			l.routeVia(r4, srcPrefix, "d", r3, 20)
		}
		src.inject(srcAddr, ssmGroup)
		l.run(50 * time.Millisecond)
	}
	got := rcv.received(srcAddr, ssmGroup)
	if got > n || got < n-3 {
		t.Errorf("receiver got %d of %d packets across the RPF change, want between %d and %d", got, n, n-3, n)
	}
	t.Logf("receiver got %d of %d packets across the RPF change", got, n)
}

func TestSimNeighborRestartResendsState(t *testing.T) {
	tests := []struct {
		name    string
		restart func(l *lab, r *coreRunner)
	}{
		// RFC 7761 §4.3.1/§4.5.7: a Hello with a new GenID from RPF'(S,G)
		// makes the downstream router resend its Join within t_override,
		// not at the next t_periodic (60 s).
		{"crash and restart (GenID change)", func(l *lab, r *coreRunner) { l.crash(r); l.startCore(r) }},
		// A clean shutdown says goodbye (holdtime 0); the restarted router
		// is a new neighbour and RPF'(S,G) comes back.
		{"shutdown and restart", func(l *lab, r *coreRunner) { l.shutdown(r); l.run(time.Second); l.startCore(r) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			src := l.addHost("src", "s0", "2001:db8:1::2/64")
			r1 := l.addRouter("r1", "s0", "l1")
			r2 := l.addRouter("r2", "l1", "l2")
			rcv := l.addHost("rcv", "l2", "")
			l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
			l.routeVia(r2, srcPrefix, "l1", r1, 10)
			l.start()
			l.run(adjacency)
			rcv.join(srcAddr, ssmGroup)
			l.run(time.Second)
			if !l.forwards(r1, srcAddr, ssmGroup, "s0", "l1") {
				t.Fatalf("r1 not forwarding before the restart:%s", l.dump(srcAddr, ssmGroup))
			}
			// Let r2's periodic Join go out, so that the next one is far off.
			l.run(61 * time.Second)
			oldGen := r1.core.Snapshot(l.now()).Interfaces[1].GenID

			tt.restart(l, r1)
			restarted := l.now()
			if g := r1.core.Snapshot(l.now()).Interfaces[1].GenID; g == oldGen {
				t.Fatalf("restarted r1 kept GenID %d", g)
			}
			if _, ok := l.route(r1, srcAddr, ssmGroup); ok {
				t.Fatalf("restarted r1 already has (S,G) state")
			}
			ok := l.runUntil(30*time.Second, 100*time.Millisecond, func() bool {
				return l.forwards(r1, srcAddr, ssmGroup, "s0", "l1")
			})
			if !ok {
				t.Fatalf("30 s after r1 restarted, it has no (S,G) state from r2's Join:%s", l.dump(srcAddr, ssmGroup))
			}
			d := l.now().Sub(restarted)
			t.Logf("r1 rebuilt (S,G) %v after the restart", d)
			// Hello at up to Triggered_Hello_Delay (5 s), then the Join at up
			// to t_override (2.5 s), well before t_periodic (60 s).
			if d > 8*time.Second {
				t.Errorf("r1 rebuilt (S,G) %v after the restart, want within 8 s (Triggered_Hello_Delay + t_override)", d)
			}
			before := rcv.received(srcAddr, ssmGroup)
			l.stream(src, srcAddr, ssmGroup, 10, 100*time.Millisecond)
			if got := rcv.received(srcAddr, ssmGroup) - before; got != 10 {
				t.Errorf("receiver got %d of 10 packets after r1's restart", got)
			}
		})
	}
}

func TestSimJoinBeforeAdjacency(t *testing.T) {
	// The receiver joins as the routers start, before any Hello went out:
	// RFC 7761 §4.3.1 makes a router send its Hello before a Join/Prune on
	// an interface where it has not sent one yet, so the upstream router
	// accepts the Join (§4.5: J/P from non-neighbours are ignored) and the
	// tree is built within Triggered_Hello_Delay, not at the next t_periodic.
	l := newLab(t)
	src := l.addHost("src", "s0", "2001:db8:1::2/64")
	r1 := l.addRouter("r1", "s0", "l1")
	r2 := l.addRouter("r2", "l1", "l2")
	r3 := l.addRouter("r3", "l2", "l3")
	rcv := l.addHost("rcv", "l3", "")
	l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
	l.routeVia(r2, srcPrefix, "l1", r1, 10)
	l.routeVia(r3, srcPrefix, "l2", r2, 20)
	l.start()
	l.run(10 * time.Millisecond)
	rcv.join(srcAddr, ssmGroup)
	ok := l.runUntil(15*time.Second, 100*time.Millisecond, func() bool {
		return l.forwards(r1, srcAddr, ssmGroup, "s0", "l1") && l.forwards(r2, srcAddr, ssmGroup, "l1", "l2") &&
			l.forwards(r3, srcAddr, ssmGroup, "l2", "l3")
	})
	if !ok {
		t.Fatalf("tree not built 15 s after a join made at startup:%s", l.dump(srcAddr, ssmGroup))
	}
	t.Logf("tree built %v after startup", l.now().Sub(simT0))
	l.stream(src, srcAddr, ssmGroup, 5, 100*time.Millisecond)
	if got := rcv.received(srcAddr, ssmGroup); got != 5 {
		t.Errorf("receiver got %d of 5 packets", got)
	}
}

func TestSimLANPruneOverride(t *testing.T) {
	// r1 upstream of a LAN with two downstream routers, r2 and r3, each with
	// a receiver. When r2's receiver leaves, r2 prunes on the LAN; r3, still
	// joined, overrides the Prune with a Join (RFC 7761 §4.5.3 Prune-Pending,
	// §4.5.7 "see Prune(S,G) to RPF'(S,G)"), so r1 never stops forwarding.
	l := newLab(t)
	src := l.addHost("src", "s0", "2001:db8:1::2/64")
	r1 := l.addRouter("r1", "s0", "lan")
	r2 := l.addRouter("r2", "lan", "l2")
	r3 := l.addRouter("r3", "lan", "l3")
	rcv2 := l.addHost("rcv2", "l2", "")
	rcv3 := l.addHost("rcv3", "l3", "")
	l.addAddr(r1.node, "eth0", "2001:db8:1::1/64")
	l.routeVia(r2, srcPrefix, "lan", r1, 10)
	l.routeVia(r3, srcPrefix, "lan", r1, 10)
	l.start()
	l.run(adjacency)
	rcv2.join(srcAddr, ssmGroup)
	rcv3.join(srcAddr, ssmGroup)
	l.run(time.Second)
	if !l.forwards(r1, srcAddr, ssmGroup, "s0", "lan") {
		t.Fatalf("r1 not forwarding onto the LAN:%s", l.dump(srcAddr, ssmGroup))
	}

	rcv2.leave(srcAddr, ssmGroup)
	// Data every 100 ms for 10 s, across r2's Prune and r3's override.
	b3 := rcv3.received(srcAddr, ssmGroup)
	for range 100 {
		src.inject(srcAddr, ssmGroup)
		l.run(100 * time.Millisecond)
		if !l.forwards(r1, srcAddr, ssmGroup, "s0", "lan") {
			t.Fatalf("%v after rcv2 left, r1 stopped forwarding onto the LAN though r3 is joined:%s", l.now().Sub(simT0), l.dump(srcAddr, ssmGroup))
		}
	}
	if got := rcv3.received(srcAddr, ssmGroup) - b3; got != 100 {
		t.Errorf("rcv3 got %d of 100 packets across r2's Prune, want all", got)
	}
	if rt, ok := l.route(r2, srcAddr, ssmGroup); ok && len(rt.OIFs) > 0 {
		t.Errorf("r2 after its receiver left = %s, want no oifs", describeRoute(rt, ok))
	}

	// When the last downstream router prunes, nobody overrides: r1 stops
	// forwarding onto the LAN after the override interval (§4.5.3).
	rcv3.leave(srcAddr, ssmGroup)
	left := l.now()
	ok := l.runUntil(10*time.Second, 100*time.Millisecond, func() bool {
		rt, _ := l.route(r1, srcAddr, ssmGroup)
		return !slices.Contains(rt.OIFs, r1.ifname("lan"))
	})
	if !ok {
		t.Fatalf("10 s after the last receiver left, r1 still forwards onto the LAN:%s", l.dump(srcAddr, ssmGroup))
	}
	t.Logf("r1 pruned the LAN %v after the last leave", l.now().Sub(left))
}

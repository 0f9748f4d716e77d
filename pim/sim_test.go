package pim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

// simNet connects Router cores on virtual LANs: every message a router sends
// is encoded (Send.Packet), delivered to the other routers on the same LAN
// (ReceivePacket) at the same virtual instant, and time advances from one
// deadline to the next. PIM6D_TRACE=1 prints every delivery.
type simNet struct {
	t       *testing.T
	now     time.Time
	routers []*simRouter
	trace   bool
}

type simRouter struct {
	name string
	r    *Router
	rpf  rpfTable
	lans map[int]string // ifindex → LAN
	down bool           // silently detached: sends and receives nothing
	fwd  map[[2]netip.Addr]ForwardingChange
	sent []Send
}

func newSimNet(t *testing.T) *simNet {
	return &simNet{t: t, now: t0, trace: os.Getenv("PIM6D_TRACE") != ""}
}

// addRouter creates a router whose interface i (1-based) is on lans[i-1], with
// link-local fe80::<id>:<i> and global 2001:db8:<id>::<i>.
func (n *simNet) addRouter(name string, id int, rpf rpfTable, mod func(*Config), lans ...string) *simRouter {
	sr := &simRouter{name: name, rpf: rpf, lans: map[int]string{}, fwd: map[[2]netip.Addr]ForwardingChange{}}
	cfg := Config{RPF: func(a netip.Addr) (int, netip.Addr, uint32, uint32, bool) { return sr.rpf.lookup(a) }}
	if mod != nil {
		mod(&cfg)
	}
	sr.r = newTestRouter(n.t, id, nil, func(c *Config) {
		seeded := c.Rand
		*c = cfg
		if c.Rand == nil {
			c.Rand = seeded
		}
	})
	n.routers = append(n.routers, sr)
	for i, lan := range lans {
		sr.lans[i+1] = lan
		sr.r.AddInterface(n.now, Interface{Index: i + 1, Name: lan, LinkLocal: simLL(id, i+1), Secondary: []netip.Addr{simGlobal(id, i+1)}})
	}
	n.collect(sr)
	return sr
}

func simLL(id, i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("fe80::%x:%x", id, i)) }
func simGlobal(id, i int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::%x", id, i))
}

// collect takes a router's outbox and delivers it (recursively, FIFO).
func (n *simNet) collect(from *simRouter) {
	queue := []*simRouter{from}
	for len(queue) > 0 {
		sr := queue[0]
		queue = queue[1:]
		out, changes := sr.r.Outbox()
		out = slices.Clone(out)
		for _, c := range changes {
			k := [2]netip.Addr{c.Source, c.Group}
			if c.Deleted {
				delete(sr.fwd, k)
			} else {
				sr.fwd[k] = c
			}
		}
		if sr.down {
			continue
		}
		sr.sent = append(sr.sent, out...)
		for _, s := range out {
			pkt, err := s.Packet()
			if err != nil {
				n.t.Fatalf("%s: encode %T: %v", sr.name, s.Message, err)
			}
			lan := sr.lans[s.Interface]
			for _, dst := range n.routers {
				if dst == sr || dst.down {
					continue
				}
				for idx, l := range dst.lans {
					if l != lan {
						continue
					}
					if n.trace {
						n.t.Logf("%v %s -> %s on %s: %T %+v", n.now.Sub(t0), sr.name, dst.name, lan, s.Message, s.Message)
					}
					dst.r.ReceivePacket(n.now, stack.Packet{LinkIndex: idx, Src: pkt.Src, Dst: pkt.Dst, HopLimit: 1, Proto: stack.ProtoPIM, Payload: pkt.Payload})
					queue = append(queue, dst)
				}
			}
		}
	}
}

// run advances virtual time by d, firing every router's timers in order.
func (n *simNet) run(d time.Duration) {
	end := n.now.Add(d)
	for {
		var next *simRouter
		var when time.Time
		for _, sr := range n.routers {
			if w := sr.r.NextDeadline(); !w.IsZero() && (next == nil || w.Before(when)) {
				next, when = sr, w
			}
		}
		if next == nil || when.After(end) {
			break
		}
		if when.After(n.now) {
			n.now = when
		}
		next.r.Tick(n.now)
		n.collect(next)
	}
	n.now = end
}

func (n *simNet) do(sr *simRouter, f func(now time.Time)) {
	f(n.now)
	n.collect(sr)
}

func (sr *simRouter) route(s, g netip.Addr) (ForwardingChange, bool) {
	fc, ok := sr.fwd[[2]netip.Addr{s, g}]
	return fc, ok
}

func (sr *simRouter) dr(ifindex int) netip.Addr {
	for _, is := range sr.r.Snapshot(time.Time{}).Interfaces {
		if is.Index == ifindex {
			return is.DR
		}
	}
	return netip.Addr{}
}

var sPrefix = netip.MustParsePrefix("2001:db8:5::/48")

// via says: S is reached on ifindex through the router with this link-local
// (or global) address; an invalid next hop means S is directly connected.
func via(ifindex int, nexthop netip.Addr, metric uint32) rpfTable {
	return rpfTable{sPrefix: {ifindex: ifindex, nexthop: nexthop, pref: 110, metric: metric}}
}

func TestSimChain(t *testing.T) {
	// S — R1 — R2 — R3 — receiver: the Join travels hop by hop (RFC 7761 §4.5),
	// and the state times out hop by hop when refreshes stop.
	n := newSimNet(t)
	r1 := n.addRouter("R1", 1, via(1, netip.Addr{}, 0), nil, "src", "ab")
	// R2 names its upstream by R1's global address: matched through option 24.
	r2 := n.addRouter("R2", 2, via(1, simGlobal(1, 2), 10), nil, "ab", "bc")
	r3 := n.addRouter("R3", 3, via(1, simLL(2, 2), 20), nil, "bc", "rcv")
	n.run(10 * time.Second)
	n.do(r3, func(now time.Time) {
		r3.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
	})
	n.run(time.Second)
	for _, c := range []struct {
		sr       *simRouter
		iif, oif int
	}{{r1, 1, 2}, {r2, 1, 2}, {r3, 1, 2}} {
		fc, ok := c.sr.route(srcS, grpG)
		if !ok || fc.IIF != c.iif || !slices.Equal(fc.OIFs, []int{c.oif}) {
			t.Fatalf("%s forwarding = %+v (ok %v), want iif %d oifs [%d]", c.sr.name, fc, ok, c.iif, c.oif)
		}
	}
	// Refreshes keep the tree for 10 minutes.
	n.run(10 * time.Minute)
	if _, ok := r1.route(srcS, grpG); !ok {
		t.Fatal("R1 lost (S,G) although R3 refreshes its Join")
	}
	// R3 vanishes without a word: R2's Expiry Timer (210 s) runs out, R2 prunes,
	// and R1's state goes with it.
	r3.down = true
	n.run(200 * time.Second)
	if _, ok := r1.route(srcS, grpG); !ok {
		t.Fatal("R1 lost (S,G) before R2's J/P holdtime ran out")
	}
	n.run(20 * time.Second)
	for _, sr := range []*simRouter{r1, r2} {
		if fc, ok := sr.route(srcS, grpG); ok {
			t.Errorf("%s still forwards %+v after the refreshes stopped", sr.name, fc)
		}
	}
}

func TestSimLANDRElection(t *testing.T) {
	// RFC 7761 §4.3.2 on a LAN of three routers: election and re-election.
	n := newSimNet(t)
	a := n.addRouter("A", 1, nil, nil, "lan")
	b := n.addRouter("B", 2, nil, nil, "lan")
	c := n.addRouter("C", 3, nil, nil, "lan")
	n.run(10 * time.Second)
	for _, sr := range []*simRouter{a, b, c} {
		if got := sr.dr(1); got != simLL(3, 1) {
			t.Errorf("%s: DR = %v, want C (highest address)", sr.name, got)
		}
	}
	n.do(b, func(now time.Time) {
		b.r.UpdateInterface(now, Interface{Index: 1, LinkLocal: simLL(2, 1), Secondary: []netip.Addr{simGlobal(2, 1)}, DRPriority: 10})
	})
	n.run(10 * time.Second)
	for _, sr := range []*simRouter{a, b, c} {
		if got := sr.dr(1); got != simLL(2, 1) {
			t.Errorf("%s: DR = %v, want B (priority 10)", sr.name, got)
		}
	}
	n.do(b, func(now time.Time) { b.r.Shutdown(now) })
	b.down = true
	for _, sr := range []*simRouter{a, c} {
		if got := sr.dr(1); got != simLL(3, 1) {
			t.Errorf("%s after B's goodbye: DR = %v, want C", sr.name, got)
		}
	}
}

// newSimLAN: upstream U (S directly connected on its interface 1) and
// downstream D1, D2 on LAN "lan", each with a receiver LAN.
func newSimLAN(t *testing.T, mod func(*Config)) (n *simNet, u, d1, d2 *simRouter) {
	n = newSimNet(t)
	u = n.addRouter("U", 1, via(1, netip.Addr{}, 0), mod, "src", "lan")
	d1 = n.addRouter("D1", 2, via(1, simLL(1, 2), 10), mod, "lan", "r1")
	d2 = n.addRouter("D2", 3, via(1, simLL(1, 2), 10), mod, "lan", "r2")
	n.run(10 * time.Second)
	for _, d := range []*simRouter{d1, d2} {
		n.do(d, func(now time.Time) {
			d.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
		})
	}
	return n, u, d1, d2
}

func TestSimLANJoinSuppression(t *testing.T) {
	// RFC 7761 §4.5.7: with suppression enabled (T bit clear), a router that
	// sees another's Join to the same upstream suppresses its own.
	for _, tc := range []struct {
		name         string
		tracking     bool
		wantFewerD2s bool
	}{
		{"§4.5.7 T bit clear: joins suppressed", false, true},
		{"§4.3.3 all T bits set: no suppression", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, _, d1, d2 := newSimLAN(t, func(c *Config) { c.DisableTracking = !tc.tracking })
			n.run(time.Minute)
			j1, j2 := len(d1.sent), len(d2.sent)
			n.run(20 * time.Minute)
			joins := func(sr *simRouter, from int) int {
				c := 0
				for _, s := range sr.sent[from:] {
					if jp, ok := s.Message.(*wire.JoinPrune); ok && len(jp.Groups) > 0 {
						c++
					}
				}
				return c
			}
			total := joins(d1, j1) + joins(d2, j2)
			// 20 minutes, t_periodic 60 s: without suppression each sends ~20.
			if tc.wantFewerD2s && total > 30 {
				t.Errorf("D1+D2 sent %d Joins in 20 min, want <= 30 with suppression", total)
			}
			if !tc.wantFewerD2s && total < 38 {
				t.Errorf("D1+D2 sent %d Joins in 20 min, want ~40 without suppression", total)
			}
		})
	}
}

func TestSimLANPruneOverride(t *testing.T) {
	// RFC 7761 §4.5.2 / §4.5.7: D1 prunes, D2 still needs the traffic and
	// overrides within t_override; U never stops forwarding onto the LAN.
	n, u, d1, _ := newSimLAN(t, nil)
	n.run(time.Second)
	if fc, ok := u.route(srcS, grpG); !ok || !slices.Equal(fc.OIFs, []int{2}) {
		t.Fatalf("U forwarding = %+v, want oifs [2]", fc)
	}
	var oifLost bool
	n.do(d1, func(now time.Time) {
		d1.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipNone})
	})
	for range 100 {
		n.run(100 * time.Millisecond)
		if fc, ok := u.route(srcS, grpG); !ok || len(fc.OIFs) == 0 {
			oifLost = true
		}
	}
	if oifLost {
		t.Error("U removed the LAN from its olist although D2 overrode the Prune")
	}
	rs, _ := routeState(u.r, srcS, grpG, n.now)
	if got := ifState(rs, 2).JoinState; got != "Join" {
		t.Errorf("U downstream state = %s, want Join", got)
	}
}

func TestSimAssert(t *testing.T) {
	// RFC 7761 §4.6: U1 and U2 both forward S onto the LAN; the wrong-iif data
	// signal starts an Assert; U1 (metric 10) beats U2 (metric 20); D2, whose
	// RPF neighbour was U2, then joins toward the winner U1.
	n := newSimNet(t)
	u1 := n.addRouter("U1", 1, via(1, netip.Addr{}, 10), nil, "s1", "lan")
	u1.rpf[sPrefix] = rpfAnswer{ifindex: 1, pref: 110, metric: 10}
	u2 := n.addRouter("U2", 2, via(1, netip.Addr{}, 20), nil, "s2", "lan")
	d1 := n.addRouter("D1", 3, via(1, simLL(1, 2), 30), nil, "lan", "r1")
	d2 := n.addRouter("D2", 4, via(1, simLL(2, 2), 30), nil, "lan", "r2")
	n.run(10 * time.Second)
	for _, d := range []*simRouter{d1, d2} {
		n.do(d, func(now time.Time) {
			d.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
		})
	}
	n.run(time.Second)
	for _, u := range []*simRouter{u1, u2} {
		if fc, ok := u.route(srcS, grpG); !ok || !slices.Equal(fc.OIFs, []int{2}) {
			t.Fatalf("%s before assert: %+v, want oifs [2] (duplicates on the LAN)", u.name, fc)
		}
	}
	// U2's packet reaches U1 on U1's oif: wrong iif.
	n.do(u1, func(now time.Time) {
		u1.r.DataSignal(now, stack.DataSignal{Kind: stack.SignalWrongIIF, LinkIndex: 2, Src: srcS, Group: grpG})
	})
	n.run(10 * time.Second)
	if fc, _ := u1.route(srcS, grpG); !slices.Equal(fc.OIFs, []int{2}) {
		t.Errorf("winner U1 oifs = %v, want [2]", fc.OIFs)
	}
	if fc, _ := u2.route(srcS, grpG); len(fc.OIFs) != 0 || !slices.Equal(fc.Asserted, []int{2}) {
		t.Errorf("loser U2 = %+v, want no oifs, asserted [2]", fc)
	}
	if rs, _ := routeState(d2.r, srcS, grpG, n.now); rs.Upstream != simLL(1, 2) {
		t.Errorf("D2 RPF' = %v, want the assert winner U1 %v", rs.Upstream, simLL(1, 2))
	}
	// The assert state is kept alive by the winner's re-asserts.
	n.run(10 * time.Minute)
	if fc, _ := u2.route(srcS, grpG); len(fc.OIFs) != 0 {
		t.Errorf("after 10 min U2 oifs = %v, want none (U1 still the winner)", fc.OIFs)
	}
	rs, _ := routeState(u1.r, srcS, grpG, n.now)
	if got := ifState(rs, 2).AssertState; got != "Winner" {
		t.Errorf("U1 assert state = %s, want Winner", got)
	}
}

func TestSimRPFChange(t *testing.T) {
	// §4.5.7: D's route to S moves from U1 to U2: Prune to U1, Join to U2.
	n := newSimNet(t)
	u1 := n.addRouter("U1", 1, via(1, netip.Addr{}, 0), nil, "s", "l1")
	u2 := n.addRouter("U2", 2, via(1, netip.Addr{}, 0), nil, "s", "l2")
	d := n.addRouter("D", 3, via(1, simLL(1, 2), 10), nil, "l1", "l2", "rcv")
	n.run(10 * time.Second)
	n.do(d, func(now time.Time) {
		d.r.SetLocalMembership(now, LocalMembership{Interface: 3, Group: grpG, Source: srcS, Mode: MembershipInclude})
	})
	n.run(time.Second)
	if _, ok := u1.route(srcS, grpG); !ok {
		t.Fatal("U1 has no (S,G) before the RPF change")
	}
	d.rpf[sPrefix] = rpfAnswer{ifindex: 2, nexthop: simGlobal(2, 2), pref: 110, metric: 10}
	n.do(d, func(now time.Time) { d.r.RouteChanged(now, sPrefix) })
	n.run(5 * time.Second)
	if fc, ok := u1.route(srcS, grpG); ok {
		t.Errorf("U1 still forwards %+v after D's Prune", fc)
	}
	if fc, ok := u2.route(srcS, grpG); !ok || !slices.Equal(fc.OIFs, []int{2}) {
		t.Errorf("U2 forwarding = %+v, want oifs [2]", fc)
	}
	if fc, _ := d.route(srcS, grpG); fc.IIF != 2 {
		t.Errorf("D iif = %d, want 2", fc.IIF)
	}
}

func TestSimNeighborRestart(t *testing.T) {
	// §4.3.1 / §4.5.7: U restarts with a new GenID and no state; D notices the
	// GenID change and re-sends its Join within t_override instead of waiting
	// for the next periodic Join.
	n := newSimNet(t)
	u := n.addRouter("U", 1, via(1, netip.Addr{}, 0), nil, "s", "lan")
	d := n.addRouter("D", 2, via(1, simLL(1, 2), 10), nil, "lan", "rcv")
	n.run(10 * time.Second)
	n.do(d, func(now time.Time) {
		d.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
	})
	n.run(5 * time.Second)
	// Restart U: a fresh core (new GenID, no state) on the same addresses.
	n.routers = slices.DeleteFunc(n.routers, func(x *simRouter) bool { return x == u })
	u2 := n.addRouter("U'", 1, via(1, netip.Addr{}, 0), func(c *Config) { c.Rand = rand.New(rand.NewPCG(77, 77)) }, "s", "lan")
	if _, ok := u2.route(srcS, grpG); ok {
		t.Fatal("restarted U already has state")
	}
	n.run(10 * time.Second)
	if fc, ok := u2.route(srcS, grpG); !ok || !slices.Equal(fc.OIFs, []int{2}) {
		t.Errorf("restarted U forwarding = %+v (ok %v) 10 s after restart, want oifs [2]", fc, ok)
	}
	if d.r.Stats().NeighborRestarts != 1 {
		t.Errorf("D saw %d restarts, want 1", d.r.Stats().NeighborRestarts)
	}
}

func TestSimSharedTreeJoin(t *testing.T) {
	// RFC 7761 §4.5.6: a (*,G) listener at R3 joins the shared tree toward
	// RP(G) = R1, hop by hop; the entries carry the WC flag.
	asm := netip.MustParseAddr("ff0e::1234")
	rp := simGlobal(1, 1)
	rpPrefix := netip.PrefixFrom(rp, 128)
	withRP := func(c *Config) {
		c.RP = func(g netip.Addr) (netip.Addr, bool) { return rp, g == asm }
	}
	n := newSimNet(t)
	r1 := n.addRouter("R1", 1, rpfTable{rpPrefix: {ifindex: 1}}, withRP, "rp", "ab")
	r2 := n.addRouter("R2", 2, rpfTable{rpPrefix: {ifindex: 1, nexthop: simLL(1, 2), metric: 10}}, withRP, "ab", "bc")
	r3 := n.addRouter("R3", 3, rpfTable{rpPrefix: {ifindex: 1, nexthop: simGlobal(2, 2), metric: 20}}, withRP, "bc", "rcv")
	n.run(10 * time.Second)
	n.do(r3, func(now time.Time) {
		r3.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asm, Mode: MembershipInclude})
	})
	n.run(time.Second)
	any := netip.IPv6Unspecified()
	for _, sr := range []*simRouter{r1, r2, r3} {
		fc, ok := sr.route(any, asm)
		if !ok || fc.IIF != 1 || !slices.Equal(fc.OIFs, []int{2}) || fc.Flags&FlagWC == 0 {
			t.Errorf("%s (*,G) = %+v (ok %v), want iif 1 oifs [2] WC", sr.name, fc, ok)
		}
	}
	// The listener leaves: Prune(*,G) travels up and the tree is gone.
	n.do(r3, func(now time.Time) {
		r3.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asm, Mode: MembershipNone})
	})
	n.run(5 * time.Second)
	for _, sr := range []*simRouter{r1, r2, r3} {
		if fc, ok := sr.route(any, asm); ok {
			t.Errorf("%s still has (*,G) %+v after the prune", sr.name, fc)
		}
	}
}

// asmSim builds routers for the (S,G,rpt) tests: RP(asmG) = rpA; rpfVia says
// where both S and RP(G) are reached (ifindex, next hop).
func asmRPF(ifindex int, nexthop netip.Addr, metric uint32) rpfTable {
	return rpfTable{
		sPrefix:                    {ifindex: ifindex, nexthop: nexthop, pref: 110, metric: metric},
		netip.PrefixFrom(rpA, 128): {ifindex: ifindex, nexthop: nexthop, pref: 110, metric: metric},
	}
}

// jpsTo returns the group records for g in the Join/Prunes sr sent to up.
func jpsTo(sr *simRouter, from int, up netip.Addr, g netip.Addr) []wire.JoinPruneGroup {
	var res []wire.JoinPruneGroup
	for _, m := range sends[*wire.JoinPrune](sr.sent[from:]) {
		if m.UpstreamNeighbor.WithZone("") != up {
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

func TestSimRptPruneOverride(t *testing.T) {
	// RFC 7761 §4.5.3 / RFC 4601 §4.5.9 on a LAN: D1 excludes S and prunes
	// it off the shared tree (Prune(S,G,rpt) to U); D2 still wants S from the
	// RPT, sees the prune and overrides it with a Join(S,G,rpt) within
	// t_override, so U never stops forwarding S onto the LAN. Without D2's
	// interest the prune takes effect after the Prune-Pending Timer.
	for _, tc := range []struct {
		name         string
		d2WantsS     bool
		wantFwdOnLAN bool
	}{
		{"§4.5.9 D2 overrides with Join(S,G,rpt)", true, true},
		{"§4.5.3 nobody overrides: U prunes S off the LAN", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newSimNet(t)
			u := n.addRouter("U", 1, asmRPF(1, netip.Addr{}, 0), withRPA, "rp", "lan")
			d1 := n.addRouter("D1", 2, asmRPF(1, simLL(1, 2), 10), withRPA, "lan", "r1")
			d2 := n.addRouter("D2", 3, asmRPF(1, simLL(1, 2), 10), withRPA, "lan", "r2")
			n.run(10 * time.Second)
			n.do(d2, func(now time.Time) {
				ms := []LocalMembership{{Interface: 2, Group: asmG, Mode: MembershipInclude}}
				if !tc.d2WantsS {
					ms = append(ms, LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipExclude})
				}
				d2.r.SetLocalMemberships(now, ms)
			})
			n.do(d1, func(now time.Time) {
				d1.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asmG, Mode: MembershipInclude})
			})
			n.run(5 * time.Second)
			if !fwdView(u.fwd).forwardsOn(srcS, asmG, 2) {
				t.Fatalf("U does not forward S onto the LAN before the prune: %v", u.fwd)
			}
			d2Sent := len(d2.sent)
			n.do(d1, func(now time.Time) {
				d1.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipExclude})
			})
			if got := jpsTo(d1, 0, simLL(1, 2), asmG); !slices.ContainsFunc(got, func(jg wire.JoinPruneGroup) bool { return hasSource(jg.Prunes, rptSrc(srcS)) }) {
				t.Fatalf("D1 sent no Prune(S,G,rpt) to U: %+v", got)
			}
			lost := false
			for range 100 {
				n.run(100 * time.Millisecond)
				if !fwdView(u.fwd).forwardsOn(srcS, asmG, 2) {
					lost = true
				}
			}
			if tc.wantFwdOnLAN && lost {
				t.Error("U stopped forwarding S onto the LAN although D2 overrode the prune")
			}
			if !tc.wantFwdOnLAN && fwdView(u.fwd).forwardsOn(srcS, asmG, 2) {
				t.Errorf("U still forwards S onto the LAN although nobody wants it: %v", u.fwd)
			}
			overrode := slices.ContainsFunc(jpsTo(d2, d2Sent, simLL(1, 2), asmG), func(jg wire.JoinPruneGroup) bool {
				return hasSource(jg.Joins, rptSrc(srcS))
			})
			if overrode != tc.d2WantsS {
				t.Errorf("D2 sent Join(S,G,rpt) = %v, want %v", overrode, tc.d2WantsS)
			}
			// Minutes of periodic Join(*,G) + Prune(S,G,rpt) from D1 and
			// overrides from D2 keep it that way; D1 itself drops S.
			n.run(5 * time.Minute)
			if got := fwdView(u.fwd).forwardsOn(srcS, asmG, 2); got != tc.wantFwdOnLAN {
				t.Errorf("after 5 min U forwards S onto the LAN = %v, want %v", got, tc.wantFwdOnLAN)
			}
			if fwdView(d1.fwd).forwardsOn(srcS, asmG, 2) {
				t.Errorf("D1 forwards S to its receivers that exclude it: %v", d1.fwd)
			}
			if !fwdView(d1.fwd).forwardsOn(netip.MustParseAddr("2001:db8:5::2"), asmG, 2) {
				t.Errorf("D1 does not forward other sources: %v", d1.fwd)
			}
			if got := fwdView(d2.fwd).forwardsOn(srcS, asmG, 2); got != tc.d2WantsS {
				t.Errorf("D2 forwards S = %v, want %v", got, tc.d2WantsS)
			}
		})
	}
}

func TestSimInheritedOlist(t *testing.T) {
	// RFC 7761 §4.1.6: R has (*,G) joins from D2 (l2) and D3 (l3) and a
	// local (S,G) listener on rcv: its (S,G) entry forwards out of all three
	// (inherited_olist(S,G)). D3's receivers then exclude S: D3 sends
	// Prune(S,G,rpt) and R stops forwarding S onto l3 only (§4.5.3).
	n := newSimNet(t)
	r := n.addRouter("R", 1, asmRPF(1, netip.Addr{}, 0), withRPA, "up", "l2", "l3", "rcv")
	d2 := n.addRouter("D2", 2, asmRPF(1, simLL(1, 2), 10), withRPA, "l2", "r2")
	d3 := n.addRouter("D3", 3, asmRPF(1, simLL(1, 3), 10), withRPA, "l3", "r3")
	n.run(10 * time.Second)
	for _, d := range []*simRouter{d2, d3} {
		n.do(d, func(now time.Time) {
			d.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asmG, Mode: MembershipInclude})
		})
	}
	n.do(r, func(now time.Time) {
		r.r.SetLocalMembership(now, LocalMembership{Interface: 4, Group: asmG, Source: srcS, Mode: MembershipInclude})
	})
	n.run(time.Second)
	fc, ok := r.route(srcS, asmG)
	if !ok || fc.IIF != 1 || !slices.Equal(fc.OIFs, []int{2, 3, 4}) {
		t.Fatalf("R (S,G) = %+v (ok %v), want iif 1 oifs [2 3 4]", fc, ok)
	}
	n.do(d3, func(now time.Time) {
		d3.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipExclude})
	})
	n.run(time.Second)
	if fc, _ := r.route(srcS, asmG); !slices.Equal(fc.OIFs, []int{2, 4}) || !slices.Equal(fc.RptPruned, []int{3}) {
		t.Errorf("R (S,G) after D3's Prune(S,G,rpt) = %+v, want oifs [2 4], RptPruned [3]", fc)
	}
	if fc, _ := r.route(anySrc, asmG); !slices.Equal(fc.OIFs, []int{2, 3}) {
		t.Errorf("R (*,G) oifs = %v, want [2 3] (other sources still go to D3)", fc.OIFs)
	}
	n.run(5 * time.Minute)
	if fc, _ := r.route(srcS, asmG); !slices.Equal(fc.OIFs, []int{2, 4}) {
		t.Errorf("R (S,G) oifs after 5 min = %v, want [2 4] (the prune is refreshed)", fc.OIFs)
	}
	// D3's receivers want S again: Join(S,G,rpt), l3 is back.
	n.do(d3, func(now time.Time) {
		d3.r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipNone})
	})
	n.run(time.Second)
	if fc, _ := r.route(srcS, asmG); !slices.Equal(fc.OIFs, []int{2, 3, 4}) {
		t.Errorf("R (S,G) oifs after D3's Join(S,G,rpt) = %v, want [2 3 4]", fc.OIFs)
	}
}

func TestSimRptPrunePeriodic(t *testing.T) {
	// RFC 4601 §4.5.8 / §4.5.10: D joins the shared tree for receivers that
	// exclude S: its Join(*,G) to U carries Prune(S,G,rpt) in the same group
	// record, from the first (triggered) message and in every periodic one;
	// U never forwards S to D.
	n := newSimNet(t)
	u := n.addRouter("U", 1, asmRPF(1, netip.Addr{}, 0), withRPA, "rp", "lan")
	d := n.addRouter("D", 2, asmRPF(1, simLL(1, 2), 10), withRPA, "lan", "rcv")
	n.run(10 * time.Second)
	from := len(d.sent)
	n.do(d, func(now time.Time) {
		d.r.SetLocalMemberships(now, []LocalMembership{
			{Interface: 2, Group: asmG, Mode: MembershipInclude},
			{Interface: 2, Group: asmG, Source: srcS, Mode: MembershipExclude}})
	})
	first := jpsTo(d, from, simLL(1, 2), asmG)
	if len(first) != 1 || !hasSource(first[0].Joins, wcSrc(rpA)) || !hasSource(first[0].Prunes, rptSrc(srcS)) {
		t.Fatalf("D's triggered Join/Prune for G = %+v, want one record with Join(*,G) and Prune(S,G,rpt)", first)
	}
	n.run(time.Second)
	if fwdView(u.fwd).forwardsOn(srcS, asmG, 2) || !fwdView(u.fwd).forwardsOn(netip.MustParseAddr("2001:db8:5::2"), asmG, 2) {
		t.Fatalf("U forwarding = %v, want S pruned off the LAN, other sources forwarded", u.fwd)
	}
	from = len(d.sent)
	n.run(5 * time.Minute)
	periodic := jpsTo(d, from, simLL(1, 2), asmG)
	if len(periodic) < 4 {
		t.Fatalf("D sent %d Join/Prunes for G in 5 min, want >= 4 periodic", len(periodic))
	}
	for _, jg := range periodic {
		if !hasSource(jg.Joins, wcSrc(rpA)) || !hasSource(jg.Prunes, rptSrc(srcS)) {
			t.Errorf("periodic record %+v lacks Join(*,G) or Prune(S,G,rpt)", jg)
		}
	}
	if fwdView(u.fwd).forwardsOn(srcS, asmG, 2) {
		t.Errorf("after 5 min U forwards S onto the LAN: %v", u.fwd)
	}
}

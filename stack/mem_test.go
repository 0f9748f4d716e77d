package stack

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6d/pim6d/clock"
)

var memT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	allPIMRouters = netip.MustParseAddr("ff02::d")
	anyPrefix     = netip.MustParsePrefix("::/0")
)

// memCmp compares netip values and ignores route counters.
var memCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.IgnoreFields(Route{}, "Stats"),
}

// drain returns the events waiting on n's channel, without blocking.
func drain(n *MemNode) []any {
	var evs []any
	for {
		select {
		case ev, ok := <-n.Events():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// packets returns the PacketEvents among evs.
func packets(evs []any) []Packet {
	var ps []Packet
	for _, ev := range evs {
		if pe, ok := ev.(PacketEvent); ok {
			ps = append(ps, pe.Packet)
		}
	}
	return ps
}

func signals(evs []any) []DataSignal {
	var ss []DataSignal
	for _, ev := range evs {
		if se, ok := ev.(SignalEvent); ok {
			ss = append(ss, se.Signal)
		}
	}
	return ss
}

func mustAttach(t *testing.T, n *MemNode, seg *Segment, ifname string) Link {
	t.Helper()
	l, err := n.Attach(seg, ifname)
	if err != nil {
		t.Fatalf("%s.Attach(%s, %q) = %v", n.Name(), seg.Name(), ifname, err)
	}
	return l
}

func TestMemAttach(t *testing.T) {
	w := NewMemNetwork(clock.NewVirtual(memT0))
	w.AddNode("r1")
	r2 := w.AddNode("r2")
	lan := w.AddSegment("lan")
	mustAttach(t, r2, w.AddSegment("other"), "eth0")
	l := mustAttach(t, r2, lan, "eth1")

	want := Link{Index: 2, Name: "eth1", MTU: 1500, HardwareAddr: memMAC(2, 2), Up: true, Multicast: true}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("Attach returned (-want +got):\n%s", diff)
	}
	ll := netip.MustParseAddr("fe80::2:2")
	if got, _ := r2.LinkLocal(2); got != ll {
		t.Errorf("LinkLocal(2) = %v, want %v", got, ll)
	}
	evs := drain(r2)[3:] // the events of the second Attach
	wantEvs := []any{
		LinkEvent{Link: want},
		AddrEvent{Addr: Addr{LinkIndex: 2, Prefix: netip.PrefixFrom(ll, 64)}},
		RouteEvent{Route: Route{Dst: netip.MustParsePrefix("fe80::/64"), Src: anyPrefix, Zone: 2,
			Kind: KindUnicast, NextHops: []NextHop{{LinkIndex: 2}}, Protocol: "kernel"}},
	}
	if diff := cmp.Diff(wantEvs, evs, memCmp); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, err := r2.Attach(lan, "eth1"); err == nil {
		t.Errorf("Attach with a link name in use succeeded")
	}
	if err := r2.AddAddr("eth1", netip.MustParsePrefix("2001:db8:1::2/64")); err != nil {
		t.Fatalf("AddAddr = %v", err)
	}
	if r, ok := r2.Table().RPF(netip.MustParseAddr("2001:db8:1::99"), 0); !ok || r.NextHops[0].LinkIndex != 2 {
		t.Errorf("RPF(2001:db8:1::99) = %v, %v; want the connected route on link 2", r, ok)
	}
	if err := r2.AddAddr("nope", netip.MustParsePrefix("2001:db8:2::2/64")); err == nil {
		t.Errorf("AddAddr on a missing link succeeded")
	}
	if got := len(r2.Addrs()); got != 3 {
		t.Errorf("len(Addrs()) = %d, want 3", got)
	}

	drain(r2)
	if err := r2.DelAddr("eth1", netip.MustParsePrefix("2001:db8:1::2/64")); err != nil {
		t.Fatalf("DelAddr = %v", err)
	}
	wantEvs = []any{
		AddrEvent{Addr: Addr{LinkIndex: 2, Prefix: netip.MustParsePrefix("2001:db8:1::2/64")}, Deleted: true},
		RouteEvent{Route: Route{Dst: netip.MustParsePrefix("2001:db8:1::/64"), Src: anyPrefix,
			Kind: KindUnicast, NextHops: []NextHop{{LinkIndex: 2}}, Protocol: "kernel"}, Deleted: true},
	}
	if diff := cmp.Diff(wantEvs, drain(r2), memCmp); diff != "" {
		t.Errorf("DelAddr events (-want +got):\n%s", diff)
	}
	if r, ok := r2.Table().RPF(netip.MustParseAddr("2001:db8:1::99"), 0); ok {
		t.Errorf("RPF after DelAddr = %v, want no route", r)
	}
	if err := r2.DelAddr("eth1", netip.MustParsePrefix("2001:db8:1::2/64")); err == nil {
		t.Errorf("DelAddr of an address not configured succeeded")
	}
}

// lanOf builds n nodes r1..rn on one segment.
func lanOf(t *testing.T, n int) (*MemNetwork, []*MemNode) {
	t.Helper()
	w := NewMemNetwork(clock.NewVirtual(memT0))
	lan := w.AddSegment("lan")
	var nodes []*MemNode
	for i := range n {
		nd := w.AddNode(fmt.Sprintf("r%d", i+1))
		mustAttach(t, nd, lan, "eth0")
		nodes = append(nodes, nd)
	}
	for _, nd := range nodes {
		drain(nd)
	}
	return w, nodes
}

func TestMemMulticastDelivery(t *testing.T) {
	w, r := lanOf(t, 3)
	payload := []byte{0x20, 0, 0, 0, 1, 2, 3, 4}
	out := OutPacket{LinkIndex: 1, Dst: allPIMRouters, Proto: ProtoPIM, Payload: payload}
	if err := r[0].Send(out); err != nil {
		t.Fatalf("Send = %v", err)
	}
	payload[4] = 99 // the sender may reuse its buffer
	w.Clock().Advance(DefaultMemLatency - time.Nanosecond)
	if evs := drain(r[1]); len(evs) != 0 {
		t.Fatalf("delivered before the latency: %v", evs)
	}
	w.Clock().Advance(time.Nanosecond)
	for _, n := range r[1:] {
		want := []Packet{{
			LinkIndex: 1,
			Src:       netip.MustParseAddr("fe80::1:1%eth0"),
			Dst:       allPIMRouters,
			HopLimit:  1,
			Proto:     ProtoPIM,
			Payload:   []byte{0x20, 0, 0, 0, 1, 2, 3, 4},
		}}
		if diff := cmp.Diff(want, packets(drain(n)), memCmp); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", n.Name(), diff)
		}
	}
	if evs := drain(r[0]); len(evs) != 0 {
		t.Errorf("the sender received its own packet: %v", evs)
	}
}

func TestMemLinkDown(t *testing.T) {
	w, r := lanOf(t, 3)
	send := func(n *MemNode) error {
		return n.Send(OutPacket{LinkIndex: 1, Dst: allPIMRouters, Proto: ProtoPIM, Payload: []byte{1}})
	}
	if err := r[2].SetLinkUp("eth0", false); err != nil {
		t.Fatal(err)
	}
	evs := drain(r[2])
	if len(evs) != 1 || evs[0].(LinkEvent).Link.Up {
		t.Errorf("after SetLinkUp(false): events %v, want one LinkEvent with Up false", evs)
	}
	send(r[0])
	w.Clock().Advance(time.Second)
	if got := len(packets(drain(r[1]))); got != 1 {
		t.Errorf("r2 (up) received %d packets, want 1", got)
	}
	if got := len(packets(drain(r[2]))); got != 0 {
		t.Errorf("r3 (down) received %d packets, want 0", got)
	}
	if err := send(r[2]); err == nil {
		t.Errorf("Send on a down link succeeded")
	}

	// A packet in flight when the receiver's link goes down is lost; one in
	// flight when it comes back up is delivered.
	r[2].SetLinkUp("eth0", true)
	send(r[0])
	r[2].SetLinkUp("eth0", false)
	w.Clock().Advance(time.Second)
	r[2].SetLinkUp("eth0", true)
	send(r[0])
	w.Clock().Advance(time.Second)
	if got := len(packets(drain(r[2]))); got != 1 {
		t.Errorf("r3 received %d packets, want 1 (the one sent while it was up)", got)
	}
	if got := r[2].Drops()["link-down"]; got != 2 {
		t.Errorf("r3 link-down drops = %d, want 2", got)
	}
}

func TestMemSendErrors(t *testing.T) {
	_, r := lanOf(t, 2)
	tests := []struct {
		name string
		p    OutPacket
	}{
		{"no destination", OutPacket{LinkIndex: 1, Proto: ProtoPIM}},
		{"IPv4 destination", OutPacket{LinkIndex: 1, Dst: netip.MustParseAddr("224.0.0.13"), Proto: ProtoPIM}},
		{"multicast source", OutPacket{LinkIndex: 1, Src: allPIMRouters, Dst: allPIMRouters}},
		{"multicast on no link", OutPacket{Dst: allPIMRouters, Proto: ProtoPIM}},
		{"multicast on a missing link", OutPacket{LinkIndex: 7, Dst: allPIMRouters, Proto: ProtoPIM}},
		{"hop limit too large", OutPacket{LinkIndex: 1, Dst: allPIMRouters, HopLimit: 256}},
		{"larger than the MTU", OutPacket{LinkIndex: 1, Dst: allPIMRouters, Payload: make([]byte, 1461)}},
		{"unicast without a route", OutPacket{Dst: netip.MustParseAddr("2001:db8::1"), Proto: ProtoPIM}},
		{"link-local unicast without a link", OutPacket{Dst: netip.MustParseAddr("fe80::2:1"), Proto: ProtoPIM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r[0].Send(tt.p); err == nil {
				t.Errorf("Send(%+v) = nil, want an error", tt.p)
			}
		})
	}
	r[0].Close()
	if err := r[0].Send(OutPacket{LinkIndex: 1, Dst: allPIMRouters}); err == nil {
		t.Errorf("Send on a closed node = nil, want ErrClosed")
	}
	if _, ok := <-r[0].Events(); ok {
		t.Errorf("events channel still open after Close")
	}
}

func TestMemEventsOverflowIsCounted(t *testing.T) {
	w := NewMemNetwork(clock.NewVirtual(memT0))
	w.SetEventBuffer(4)
	lan := w.AddSegment("lan")
	a, b := w.AddNode("a"), w.AddNode("b")
	mustAttach(t, a, lan, "eth0")
	mustAttach(t, b, lan, "eth0") // 3 events on b
	for range 5 {
		a.Send(OutPacket{LinkIndex: 1, Dst: allPIMRouters, Proto: ProtoPIM})
	}
	w.Clock().Advance(time.Second)
	if got := len(drain(b)); got != 4 {
		t.Errorf("b has %d events, want the channel's capacity 4", got)
	}
	if got := b.Drops()["events-overflow"]; got != 4 {
		t.Errorf("events-overflow drops = %d, want 4", got)
	}
}

// chain is hs -lan0- r1 -p12- r2 -p23- r3 -lan3- hr, plus hx on a side link
// of r2, with global addresses on every link and static unicast routes.
type chain struct {
	w              *MemNetwork
	hs, hr, hx     *MemNode
	r1, r2, r3     *MemNode
	src, recv, bad netip.Addr
}

func newChain(t *testing.T) *chain {
	t.Helper()
	w := NewMemNetwork(clock.NewVirtual(memT0))
	c := &chain{w: w}
	c.hs, c.r1, c.r2, c.r3, c.hr, c.hx = w.AddNode("hs"), w.AddNode("r1"), w.AddNode("r2"), w.AddNode("r3"), w.AddNode("hr"), w.AddNode("hx")
	lan0, p12, p23, lan3, side := w.AddSegment("lan0"), w.AddSegment("p12"), w.AddSegment("p23"), w.AddSegment("lan3"), w.AddSegment("side")
	attach := func(n *MemNode, s *Segment, ifname, prefix string) {
		t.Helper()
		mustAttach(t, n, s, ifname)
		if err := n.AddAddr(ifname, netip.MustParsePrefix(prefix)); err != nil {
			t.Fatal(err)
		}
	}
	attach(c.hs, lan0, "eth0", "2001:db8:0::10/64")
	attach(c.r1, lan0, "eth0", "2001:db8:0::1/64")
	attach(c.r1, p12, "eth1", "2001:db8:12::1/64")
	attach(c.r2, p12, "eth0", "2001:db8:12::2/64")
	attach(c.r2, p23, "eth1", "2001:db8:23::2/64")
	attach(c.r2, side, "eth2", "2001:db8:99::2/64")
	attach(c.r3, p23, "eth0", "2001:db8:23::3/64")
	attach(c.r3, lan3, "eth1", "2001:db8:3::1/64")
	attach(c.hr, lan3, "eth0", "2001:db8:3::20/64")
	attach(c.hx, side, "eth0", "2001:db8:99::30/64")
	c.src = netip.MustParseAddr("2001:db8:0::10")
	c.recv = netip.MustParseAddr("2001:db8:3::20")
	c.bad = netip.MustParseAddr("2001:db8:99::30")
	for _, r := range []*MemNode{c.r1, c.r2, c.r3} {
		r.SetForwarding(true)
	}
	route := func(n *MemNode, dst string, link int, gw string) {
		t.Helper()
		if err := n.AddRoute(Route{Dst: netip.MustParsePrefix(dst), Src: anyPrefix, Kind: KindUnicast,
			NextHops: []NextHop{{LinkIndex: link, Gateway: netip.MustParseAddr(gw)}}, Protocol: "static"}); err != nil {
			t.Fatal(err)
		}
	}
	route(c.hs, "::/0", 1, "2001:db8:0::1")
	route(c.hr, "::/0", 1, "2001:db8:3::1")
	route(c.r1, "2001:db8:3::/64", 2, "2001:db8:12::2")
	route(c.r2, "2001:db8:3::/64", 2, "2001:db8:23::3")
	route(c.r2, "2001:db8::/64", 1, "2001:db8:12::1")
	route(c.r3, "2001:db8::/64", 1, "2001:db8:23::2")
	for _, n := range w.Nodes() {
		drain(n)
	}
	return c
}

func TestMemUnicastRouted(t *testing.T) {
	c := newChain(t)
	if err := c.hs.Send(OutPacket{Dst: c.recv, Proto: ProtoPIM, Payload: []byte{0x21}}); err != nil {
		t.Fatalf("Send = %v", err)
	}
	c.w.Clock().Advance(time.Second)
	want := []Packet{{LinkIndex: 1, Src: c.src, Dst: c.recv, HopLimit: 61, Proto: ProtoPIM, Payload: []byte{0x21}}}
	if diff := cmp.Diff(want, packets(drain(c.hr)), memCmp); diff != "" {
		t.Errorf("hr received (-want +got):\n%s", diff)
	}
	for _, r := range []*MemNode{c.r1, c.r2, c.r3} {
		if ps := packets(drain(r)); len(ps) != 0 {
			t.Errorf("transit router %s received %v", r.Name(), ps)
		}
	}

	// No route back from hx's side link at r1: dropped and counted there.
	c.hx.AddRoute(Route{Dst: anyPrefix, Src: anyPrefix, Kind: KindUnicast,
		NextHops: []NextHop{{LinkIndex: 1, Gateway: netip.MustParseAddr("2001:db8:99::2")}}})
	c.r2.AddRoute(Route{Dst: netip.MustParsePrefix("2001:db8:77::/64"), Src: anyPrefix, Kind: KindUnicast,
		NextHops: []NextHop{{LinkIndex: 1, Gateway: netip.MustParseAddr("2001:db8:12::1")}}})
	c.hx.Send(OutPacket{Dst: netip.MustParseAddr("2001:db8:77::1"), Proto: ProtoPIM})
	c.w.Clock().Advance(time.Second)
	if got := c.r1.Drops()["no-route"]; got != 1 {
		t.Errorf("r1 no-route drops = %d, want 1", got)
	}
}

var (
	group    = netip.MustParseAddr("ff3e::8000:1")
	groupSSM = netip.MustParsePrefix("ff3e::8000:1/128")
)

// installSG installs the (S,G) route of the chain: r1 lan0 -> p12, r2 p12 ->
// p23, r3 p23 -> lan3.
func (c *chain) installSG(t *testing.T, flags RouteFlags) {
	t.Helper()
	for _, r := range []*MemNode{c.r1, c.r2, c.r3} {
		if err := r.Table().Insert(Route{Dst: groupSSM, Src: netip.PrefixFrom(c.src, 128), Kind: KindMulticast,
			IIF: 1, OIFs: []int{2}, Flags: flags, Protocol: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMemDataForwarding(t *testing.T) {
	c := newChain(t)
	c.installSG(t, FlagNotifyWrongIIF)
	for range 10 {
		if err := c.hs.InjectData("eth0", c.src, group, 100, 64); err != nil {
			t.Fatal(err)
		}
	}
	c.w.Clock().Advance(time.Second)

	got := c.hr.Received(c.src, group)
	want := DataCount{Packets: 10, Bytes: 1000, HopLimit: 61, LinkIndex: 1}
	if got != want {
		t.Errorf("hr.Received(S,G) = %+v, want %+v", got, want)
	}
	for _, r := range []*MemNode{c.r1, c.r2, c.r3} {
		rt, _ := r.Table().Get(groupSSM, netip.PrefixFrom(c.src, 128), 0)
		if n := rt.Stats.Packets.Load(); n != 10 {
			t.Errorf("%s route packets = %d, want 10", r.Name(), n)
		}
		if n := rt.Stats.Bytes.Load(); n != 10*(40+8+100) {
			t.Errorf("%s route bytes = %d, want %d", r.Name(), n, 10*(40+8+100))
		}
		if lu := rt.Stats.LastUsed(); !lu.Equal(memT0.Add(time.Duration(r.ID()-1) * DefaultMemLatency)) {
			t.Errorf("%s route last used %v, want the virtual arrival time", r.Name(), lu)
		}
	}
	if got := c.hx.Received(c.src, group); got.Packets != 0 {
		t.Errorf("hx, off the tree, received %d packets", got.Packets)
	}

	t.Run("wrong iif signals and drops", func(t *testing.T) {
		c.hx.InjectData("eth0", c.src, group, 10, 64)
		c.hx.InjectData("eth0", c.src, group, 10, 64) // rate-limited: one signal
		c.w.Clock().Advance(time.Second)
		want := []DataSignal{{Kind: SignalWrongIIF, LinkIndex: 3, Src: c.src, Group: group}}
		if diff := cmp.Diff(want, signals(drain(c.r2)), memCmp); diff != "" {
			t.Errorf("r2 signals (-want +got):\n%s", diff)
		}
		if got := c.r2.ForwarderStats().Drops["wrong-iif"]; got != 2 {
			t.Errorf("r2 wrong-iif drops = %d, want 2", got)
		}
		if got := c.hr.Received(c.src, group).Packets; got != 10 {
			t.Errorf("hr received %d packets, want still 10", got)
		}
	})
	t.Run("hop limit expires on the way", func(t *testing.T) {
		c.hs.InjectData("eth0", c.src, group, 10, 2) // r1 forwards with 1, r2 drops
		c.w.Clock().Advance(time.Second)
		if got := c.r2.ForwarderStats().Drops["hop-limit"]; got != 1 {
			t.Errorf("r2 hop-limit drops = %d, want 1", got)
		}
		if got := c.r2.Received(c.src, group).HopLimit; got != 1 {
			t.Errorf("r2 saw hop limit %d, want 1", got)
		}
	})
	t.Run("link down on the tree stops delivery", func(t *testing.T) {
		c.r3.SetLinkUp("eth1", false)
		c.hs.InjectData("eth0", c.src, group, 10, 64)
		c.w.Clock().Advance(time.Second)
		if got := c.hr.Received(c.src, group).Packets; got != 10 {
			t.Errorf("hr received %d packets, want still 10", got)
		}
		if got := c.r3.ForwarderStats().Drops["tx-error"]; got != 1 {
			t.Errorf("r3 tx-error drops = %d, want 1", got)
		}
		c.r3.SetLinkUp("eth1", true)
	})
}

func TestMemDataSignals(t *testing.T) {
	other := netip.MustParseAddr("ff3e::8000:2")
	tests := []struct {
		name      string
		route     Route
		wantKind  SignalKind
		wantDrop  string
		forwarded bool
	}{
		{
			name:     "no state signals no-route",
			route:    Route{Dst: netip.MustParsePrefix("ff00::/8"), Src: anyPrefix, Kind: KindSignal},
			wantKind: SignalNoRoute, wantDrop: "signal",
		},
		{
			name:     "drop route drops silently",
			route:    Route{Dst: netip.MustParsePrefix("ff3e::/32"), Src: anyPrefix, Kind: KindDrop},
			wantDrop: "no-route",
		},
		{
			name: "notify-data signals data and forwards",
			route: Route{Dst: netip.PrefixFrom(other, 128), Src: anyPrefix, Kind: KindMulticast,
				IIF: 1, OIFs: []int{2}, Flags: FlagNotifyData},
			wantKind: SignalData, forwarded: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChain(t)
			if err := c.r1.Table().Insert(tt.route); err != nil {
				t.Fatal(err)
			}
			c.hs.InjectData("eth0", c.src, other, 10, 64)
			c.w.Clock().Advance(time.Second)
			var want []DataSignal
			if tt.wantKind != 0 {
				want = []DataSignal{{Kind: tt.wantKind, LinkIndex: 1, Src: c.src, Group: other}}
			}
			if diff := cmp.Diff(want, signals(drain(c.r1)), memCmp); diff != "" {
				t.Errorf("r1 signals (-want +got):\n%s", diff)
			}
			if tt.wantDrop != "" {
				if got := c.r1.ForwarderStats().Drops[tt.wantDrop]; got != 1 {
					t.Errorf("r1 %s drops = %d, want 1", tt.wantDrop, got)
				}
			}
			if got := c.r2.Received(c.src, other).Packets == 1; got != tt.forwarded {
				t.Errorf("r2 received the packet: %v, want %v", got, tt.forwarded)
			}
		})
	}
}

// runScenario builds the chain, exchanges control and data packets with a
// link flap in the middle, and returns the trace.
func runScenario(t *testing.T) string {
	t.Helper()
	c := newChain(t)
	var buf bytes.Buffer
	c.w.SetTrace(&buf)
	c.installSG(t, FlagNotifyData|FlagNotifyWrongIIF)
	for i := range 20 {
		for _, r := range []*MemNode{c.r1, c.r2, c.r3} {
			for _, l := range r.Links() {
				r.Send(OutPacket{LinkIndex: l.Index, Dst: allPIMRouters, Proto: ProtoPIM, Payload: []byte{0x20, byte(i)}})
			}
		}
		c.hs.InjectData("eth0", c.src, group, i, 64)
		c.hx.InjectData("eth0", c.src, group, i, 64)
		c.hs.Send(OutPacket{Dst: c.recv, Proto: ProtoPIM, Payload: []byte{0x21, byte(i)}})
		if i == 10 {
			c.r2.SetLinkUp("eth1", false)
		}
		if i == 12 {
			c.r2.SetLinkUp("eth1", true)
		}
		c.w.Clock().Advance(300 * time.Microsecond * time.Duration(i+1))
	}
	c.w.Clock().Advance(time.Second)
	return buf.String()
}

func TestMemDeterministicTrace(t *testing.T) {
	first := runScenario(t)
	second := runScenario(t)
	if first != second {
		t.Errorf("two runs of the same scenario traced differently:\n%s", cmp.Diff(first, second))
	}
	for _, want := range []string{"tx r1/eth0", "rx r2/eth0", "data fwd r2/eth1", "signal wrong-iif", "link down", "drop r2/eth1"} {
		if !strings.Contains(first, want) {
			t.Errorf("trace has no %q line", want)
		}
	}
	t.Logf("trace: %d lines", strings.Count(first, "\n"))
}

func TestMemSegmentLatency(t *testing.T) {
	w := NewMemNetwork(clock.NewVirtual(memT0))
	w.SetLatency(5 * time.Millisecond)
	slow := w.AddSegment("slow")
	w.SetLatency(0)
	fast := w.AddSegment("fast")
	a, b := w.AddNode("a"), w.AddNode("b")
	for _, s := range []*Segment{slow, fast} {
		mustAttach(t, a, s, s.Name())
		mustAttach(t, b, s, s.Name())
	}
	drain(b)
	a.Send(OutPacket{LinkIndex: 1, Dst: allPIMRouters, Proto: ProtoPIM, Payload: []byte("slow")})
	a.Send(OutPacket{LinkIndex: 2, Dst: allPIMRouters, Proto: ProtoPIM, Payload: []byte("fast")})
	var got []string
	for _, step := range []time.Duration{0, 4 * time.Millisecond, time.Millisecond} {
		w.Clock().Advance(step)
		for _, p := range packets(drain(b)) {
			got = append(got, fmt.Sprintf("%v %s", w.Clock().Now().Sub(memT0), p.Payload))
		}
	}
	if diff := cmp.Diff([]string{"0s fast", "5ms slow"}, got); diff != "" {
		t.Errorf("arrivals (-want +got):\n%s", diff)
	}
}

func TestMemUnicastLinkLocal(t *testing.T) {
	w, r := lanOf(t, 3)
	dst := netip.MustParseAddr("fe80::3:1")
	if err := r[0].Send(OutPacket{LinkIndex: 1, Dst: dst, Proto: ProtoPIM, Payload: []byte{1}}); err != nil {
		t.Fatalf("Send to a neighbor's link-local address = %v", err)
	}
	w.Clock().Advance(time.Second)
	want := []Packet{{LinkIndex: 1, Src: netip.MustParseAddr("fe80::1:1%eth0"), Dst: dst, HopLimit: 64, Proto: ProtoPIM, Payload: []byte{1}}}
	if diff := cmp.Diff(want, packets(drain(r[2])), memCmp); diff != "" {
		t.Errorf("r3 received (-want +got):\n%s", diff)
	}
	if ps := packets(drain(r[1])); len(ps) != 0 {
		t.Errorf("r2 received a unicast packet for r3: %v", ps)
	}
	// Nobody owns fe80::9:1: silently lost, as after failed neighbor discovery.
	r[0].Send(OutPacket{LinkIndex: 1, Dst: netip.MustParseAddr("fe80::9:1"), Proto: ProtoPIM})
	if got := r[0].Drops()["neighbor-unreachable"]; got != 1 {
		t.Errorf("neighbor-unreachable drops = %d, want 1", got)
	}
}

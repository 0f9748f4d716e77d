//go:build linux

package stack_test

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv6"

	"github.com/pim6d/pim6d/lab"
	"github.com/pim6d/pim6d/stack"
)

const fwdTestPort = 4321

// fwdLab builds src — r — rcv (and a second receiver rcv2 when asked) and
// returns the router node and its link indexes.
type fwdLab struct {
	l              *lab.Lab
	src, r         *lab.Node
	rcvs           []*lab.Node
	upIdx, downIdx []int // r's link toward src, r's links toward receivers
	upLink         int
}

func newFwdLab(t *testing.T, receivers int, rcvMTU int) *fwdLab {
	l := lab.New(t)
	f := &fwdLab{l: l, src: l.Node("src"), r: l.Node("r")}
	l.Link(f.src, "eth0", f.r, "up0")
	f.src.Addr("eth0", "2001:db8:1::10/64")
	f.r.Addr("up0", "2001:db8:1::1/64")
	f.src.Route("default", "via", "2001:db8:1::1")
	for i := range receivers {
		rcv := l.Node("rcv" + string(rune('a'+i)))
		down := "down" + string(rune('0'+i))
		l.Link(f.r, down, rcv, "eth0")
		if rcvMTU != 0 {
			f.r.MustRun(t, "ip", "link", "set", down, "mtu", strconv.Itoa(rcvMTU))
			rcv.MustRun(t, "ip", "link", "set", "eth0", "mtu", strconv.Itoa(rcvMTU))
		}
		f.rcvs = append(f.rcvs, rcv)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func linksIn(t *testing.T, n *lab.Node) map[string]stack.Link {
	t.Helper()
	out := map[string]stack.Link{}
	err := n.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			out[i.Name] = stack.Link{Index: i.Index, Name: i.Name, MTU: i.MTU, HardwareAddr: i.HardwareAddr,
				Up: i.Flags&net.FlagUp != 0, Multicast: i.Flags&net.FlagMulticast != 0, Loopback: i.Flags&net.FlagLoopback != 0}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// joinAndCount joins (S,G) on a receiver's eth0 and counts UDP datagrams that
// the receiver's kernel accepts (so a bad checksum is not counted).
func joinAndCount(t *testing.T, n *lab.Node, src, group netip.Addr) *atomic.Int64 {
	t.Helper()
	var conn net.PacketConn
	err := n.Do(func() error {
		c, err := net.ListenPacket("udp6", "[::]:"+strconv.Itoa(fwdTestPort))
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		p := ipv6.NewPacketConn(c)
		if err := p.JoinSourceSpecificGroup(ifi, &net.UDPAddr{IP: group.AsSlice()}, &net.UDPAddr{IP: src.AsSlice()}); err != nil {
			return err
		}
		conn = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var count atomic.Int64
	go func() {
		buf := make([]byte, 9000)
		for {
			if _, _, err := conn.ReadFrom(buf); err != nil {
				return
			}
			count.Add(1)
		}
	}()
	return &count
}

// sendFrom sends n UDP datagrams of size bytes to group from the src node,
// with the kernel's checksum offload left on (CHECKSUM_PARTIAL on veth).
func sendFrom(t *testing.T, n *lab.Node, group netip.Addr, count, size int) {
	t.Helper()
	err := withSender(n, group, func(send func([]byte) error) error {
		buf := make([]byte, size)
		for range count {
			if err := send(buf); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// withSender runs f in node n with a UDP socket of 2001:db8:1::10 whose send
// writes one datagram to group out of eth0 (hop limit 64).
func withSender(n *lab.Node, group netip.Addr, f func(send func([]byte) error) error) error {
	return n.Do(func() error {
		c, err := net.ListenPacket("udp6", "[2001:db8:1::10]:0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv6.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		p.SetMulticastInterface(ifi)
		p.SetMulticastHopLimit(64)
		dst := &net.UDPAddr{IP: group.AsSlice(), Port: fwdTestPort}
		return f(func(b []byte) error {
			_, err := c.WriteTo(b, dst)
			return err
		})
	})
}

func startForwarder(t *testing.T, f *fwdLab, tb *stack.Table) (*stack.Forwarder, chan stack.DataSignal) {
	t.Helper()
	signals := make(chan stack.DataSignal, 100)
	fw, err := stack.NewForwarder(stack.ForwarderOptions{Table: tb, NetNS: f.r.NsHandle(), Signal: func(s stack.DataSignal) {
		select {
		case signals <- s:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	var ls []stack.Link
	for _, l := range linksIn(t, f.r) {
		ls = append(ls, l)
	}
	fw.SetLinks(ls)
	return fw, signals
}

func waitCount(c *atomic.Int64, want int64, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && c.Load() < want {
		time.Sleep(20 * time.Millisecond)
	}
	return c.Load()
}

// TestLinuxForwarderDeliversSGTrafficWithValidChecksums runs the user-space
// forwarder in a namespace router between a real sender and real receivers:
// packets reach every receiver on the route's oifs, and the receivers' kernels
// accept them, which they would not if the forwarder left the sender's
// unfinished (offloaded) UDP checksum in place.
func TestLinuxForwarderDeliversSGTrafficWithValidChecksums(t *testing.T) {
	f := newFwdLab(t, 2, 0)
	links := linksIn(t, f.r)
	src, group := fwdSource, fwdGroup
	tb := sgTable(t, links, stack.FlagNotifyData, "down0", "down1")
	fw, signals := startForwarder(t, f, tb)
	a := joinAndCount(t, f.rcvs[0], src, group)
	b := joinAndCount(t, f.rcvs[1], src, group)
	sendFrom(t, f.src, group, 50, 64)
	if got := waitCount(a, 50, 3*time.Second); got != 50 {
		t.Errorf("receiver a got %d of 50 datagrams (forwarder %+v)", got, fw.Stats())
	}
	if got := waitCount(b, 50, time.Second); got != 50 {
		t.Errorf("receiver b got %d of 50 datagrams (forwarder %+v)", got, fw.Stats())
	}
	st := fw.Stats()
	if st.Checksums == 0 {
		t.Errorf("no checksum was finished: the CHECKSUM_PARTIAL path was not exercised (%+v)", st)
	}
	r, _ := tb.Get(netip.PrefixFrom(group, 128), netip.PrefixFrom(src, 128), 0)
	if r.Stats.Packets.Load() != 50 {
		t.Errorf("route counted %d packets, want 50", r.Stats.Packets.Load())
	}
	select {
	case s := <-signals:
		if s.Kind != stack.SignalData || s.Src != src || s.Group != group {
			t.Errorf("signal = %+v, want data for (%v,%v)", s, src, group)
		}
	default:
		t.Errorf("no data signal for a route with FlagNotifyData")
	}
}

// TestLinuxForwarderSendsPacketTooBig checks RFC 8200 §5 / RFC 4443 §3.2: a
// packet larger than the oif's MTU is not copied there; its source gets an
// ICMPv6 Packet Too Big and lowers its path MTU.
func TestLinuxForwarderSendsPacketTooBig(t *testing.T) {
	f := newFwdLab(t, 1, 1280)
	links := linksIn(t, f.r)
	src, group := fwdSource, fwdGroup
	tb := sgTable(t, links, 0, "down0")
	fw, _ := startForwarder(t, f, tb)
	got := joinAndCount(t, f.rcvs[0], src, group)
	// The source's kernel learns the smaller MTU from our Packet Too Big.
	// Send a too-large datagram every 50 ms until it has: on a loaded
	// machine the forwarder may not be reading yet when the first is sent.
	var route string
	for deadline := time.Now().Add(5 * time.Second); ; {
		sendFrom(t, f.src, group, 1, 1400)
		time.Sleep(50 * time.Millisecond)
		route = f.src.MustRun(t, "ip", "-6", "route", "get", group.String(), "from", src.String(), "oif", "eth0")
		if strings.Contains(route, "mtu 1280") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(route, "mtu 1280") {
		t.Fatalf("the source did not learn MTU 1280 from a Packet Too Big within 5 s; its route: %s", route)
	}
	if st := fw.Stats(); st.Drops["too-big"] == 0 {
		t.Errorf("no too-big drop counted: %+v", st)
	}
	// The datagrams sent from then on go as fragments that fit, and arrive.
	time.Sleep(200 * time.Millisecond)
	before := got.Load()
	sendFrom(t, f.src, group, 2, 1400)
	time.Sleep(300 * time.Millisecond)
	if n := got.Load() - before; n != 2 {
		t.Errorf("receiver behind a 1280 MTU got %d of 2 datagrams sent after the source learned the MTU, fragmented to fit", n)
	}
}

// fwdSource and fwdGroup are the (S,G) the forwarder tests send.
var (
	fwdSource = netip.MustParseAddr("2001:db8:1::10")
	fwdGroup  = netip.MustParseAddr("ff3e::4321:1234")
)

// sgTable is a table holding the (fwdSource, fwdGroup) route from up0 to the
// links named oifs.
func sgTable(t *testing.T, links map[string]stack.Link, flags stack.RouteFlags, oifs ...string) *stack.Table {
	t.Helper()
	var idx []int
	for _, name := range oifs {
		idx = append(idx, links[name].Index)
	}
	slices.Sort(idx)
	tb := stack.NewTable()
	if err := tb.Insert(stack.Route{Dst: netip.PrefixFrom(fwdGroup, 128), Src: netip.PrefixFrom(fwdSource, 128), Kind: stack.KindMulticast,
		IIF: links["up0"].Index, OIFs: idx, Flags: flags}); err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestLinuxForwarderTuningOptions runs the forwarder with each of its
// performance options: every packet still arrives, and the route's last-used
// time, taken from the per-block clock, is current.
func TestLinuxForwarderTuningOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts stack.ForwarderOptions
	}{
		{"busy poll with small quickly retired blocks", stack.ForwarderOptions{RingBlocks: 8, RingBlockSize: 16 << 10,
			RetireTimeout: time.Millisecond, BusyPoll: 200 * time.Microsecond}},
		{"SCHED_FIFO ring threads", stack.ForwarderOptions{Priority: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFwdLab(t, 1, 0)
			links := linksIn(t, f.r)
			src, group := fwdSource, fwdGroup
			tb := sgTable(t, links, 0, "down0")
			opts := tc.opts
			opts.Table, opts.NetNS = tb, f.r.NsHandle()
			fw, err := stack.NewForwarder(opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { fw.Close() })
			var ls []stack.Link
			for _, l := range links {
				ls = append(ls, l)
			}
			fw.SetLinks(ls)
			got := joinAndCount(t, f.rcvs[0], src, group)
			before := time.Now()
			sendFrom(t, f.src, group, 50, 64)
			if n := waitCount(got, 50, 3*time.Second); n != 50 {
				t.Errorf("receiver got %d of 50 datagrams (forwarder %+v)", n, fw.Stats())
			}
			r, _ := tb.Get(netip.PrefixFrom(group, 128), netip.PrefixFrom(src, 128), 0)
			if used := r.Stats.LastUsed(); used.Before(before) || used.After(time.Now()) {
				t.Errorf("route last used %v, want between %v (first send) and now", used, before)
			}
		})
	}
}

// TestLinuxForwarderSurvivesOifRemovedUnderTraffic takes an outgoing link
// away and back, many times, while a sender keeps the forwarder copying
// packets to it. The link's transmit ring is unmapped when it goes: a copy
// on its way to it at that moment must be dropped and counted, never written
// into the unmapped ring (which killed pim6d with SIGSEGV in the link-flap
// lab test).
func TestLinuxForwarderSurvivesOifRemovedUnderTraffic(t *testing.T) {
	f := newFwdLab(t, 2, 0)
	links := linksIn(t, f.r)
	src, group := fwdSource, fwdGroup
	tb := sgTable(t, links, 0, "down0", "down1")
	fw, _ := startForwarder(t, f, tb)
	var all, without []stack.Link
	for name, l := range links {
		all = append(all, l)
		if name != "down1" {
			without = append(without, l)
		}
	}
	a := joinAndCount(t, f.rcvs[0], src, group)

	stop := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		sent <- withSender(f.src, group, func(send func([]byte) error) error {
			buf := make([]byte, 64)
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				send(buf) // ENOBUFS under this load is fine
			}
		})
	}()
	for range 300 {
		fw.SetLinks(without)
		fw.SetLinks(all)
	}
	close(stop)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// Still forwarding. (Let what was in flight drain first.)
	time.Sleep(300 * time.Millisecond)
	before := a.Load()
	sendFrom(t, f.src, group, 50, 64)
	time.Sleep(200 * time.Millisecond)
	if got := waitCount(a, before+50, 3*time.Second) - before; got != 50 {
		t.Errorf("after the flaps receiver a got %d of 50 datagrams (forwarder %+v)", got, fw.Stats())
	}
	if st := fw.Stats(); st.Forwarded == 0 {
		t.Errorf("forwarder stats %+v: nothing forwarded", st)
	}
}

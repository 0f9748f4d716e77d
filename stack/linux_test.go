//go:build linux

package stack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

const eventWait = time.Second // the brief: changes show within one second

func routeEventFor(dst string, deleted bool) func(RouteEvent) bool {
	p := netip.MustParsePrefix(dst)
	return func(e RouteEvent) bool { return e.Route.Dst == p && e.Deleted == deleted }
}

func TestLinuxMirrorsKernel(t *testing.T) {
	requireRoot(t)
	checkNoLinuxGoroutines(t)
	r := newTestNetns(t, "r")
	h := newTestNetns(t, "h")
	veth(t, r, "v0", h, "p0")
	veth(t, r, "v1", h, "p1")
	st := startLinux(t, r)
	v0 := linkNamed(t, st, "v0")
	v1 := linkNamed(t, st, "v1")
	any6 := netip.IPv6Unspecified()
	ll := func(s string) netip.Addr { return netip.MustParseAddr(s) }

	t.Run("initial state", func(t *testing.T) {
		if !v0.Up || !v0.Multicast || v0.Loopback || v0.MTU != 1500 || len(v0.HardwareAddr) != 6 {
			t.Errorf("link v0 = %+v, want up multicast non-loopback, MTU 1500, a MAC", v0)
		}
		if lo := linkNamed(t, st, "lo"); !lo.Loopback {
			t.Errorf("link lo = %+v, want loopback", lo)
		}
		// fe80::/64 exists once per link: zoned by the link index.
		rt, ok := st.Table().Get(netip.MustParsePrefix("fe80::/64"), netip.MustParsePrefix("::/0"), v0.Index)
		if !ok || rt.Protocol != "kernel" || rt.Kind != KindUnicast {
			t.Errorf("Table().Get(fe80::/64, zone %d) = %v, %v; want a kernel unicast route", v0.Index, rt, ok)
		}
		linkLocalOf(t, st, v0.Index)
	})

	t.Run("route via a gateway added and deleted", func(t *testing.T) {
		r.ip(t, "-6", "route", "add", "2001:db8:99::/48", "via", "fe80::2", "dev", "v0")
		ev := waitEvent(t, st, eventWait, "route add event", routeEventFor("2001:db8:99::/48", false))
		want := []NextHop{{LinkIndex: v0.Index, Gateway: ll("fe80::2")}}
		if diff := cmp.Diff(want, ev.Route.NextHops, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("RouteEvent next hops (-want +got):\n%s", diff)
		}
		rt, ok := st.Table().Lookup(ll("2001:db8:99::1"), any6, 0)
		if !ok || rt.Dst != netip.MustParsePrefix("2001:db8:99::/48") || rt.Metric != 1024 || rt.Protocol != "kernel" {
			t.Errorf("Lookup(2001:db8:99::1) = %v, %v; want the kernel route metric 1024", rt, ok)
		}
		r.ip(t, "-6", "route", "del", "2001:db8:99::/48")
		waitEvent(t, st, eventWait, "route delete event", routeEventFor("2001:db8:99::/48", true))
		if rt, ok := st.Table().Lookup(ll("2001:db8:99::1"), any6, 0); ok {
			t.Errorf("Lookup(2001:db8:99::1) after delete = %v, want none", rt)
		}
	})

	t.Run("source-specific route", func(t *testing.T) {
		r.ip(t, "-6", "route", "add", "2001:db8:a::/48", "from", "2001:db8:b::/48", "dev", "v0")
		ev := waitEvent(t, st, eventWait, "source-specific route event", routeEventFor("2001:db8:a::/48", false))
		if want := netip.MustParsePrefix("2001:db8:b::/48"); ev.Route.Src != want {
			t.Errorf("RouteEvent source = %v, want %v", ev.Route.Src, want)
		}
		if rt, ok := st.Table().Lookup(ll("2001:db8:a::1"), ll("2001:db8:b::1"), 0); !ok || rt.Src.Bits() != 48 {
			t.Errorf("Lookup(2001:db8:a::1 from 2001:db8:b::1) = %v, %v; want the source-specific route", rt, ok)
		}
		if rt, ok := st.Table().Lookup(ll("2001:db8:a::1"), ll("2001:db8:c::1"), 0); ok {
			t.Errorf("Lookup(2001:db8:a::1 from 2001:db8:c::1) = %v; want none (source outside 2001:db8:b::/48)", rt)
		}
	})

	t.Run("multipath route and removal of one next hop", func(t *testing.T) {
		r.ip(t, "-6", "route", "add", "2001:db8:98::/48",
			"nexthop", "via", "fe80::2", "dev", "v0", "nexthop", "via", "fe80::3", "dev", "v1")
		ev := waitEvent(t, st, eventWait, "multipath route event", routeEventFor("2001:db8:98::/48", false))
		if len(ev.Route.NextHops) != 2 {
			t.Errorf("RouteEvent next hops = %v, want 2", ev.Route.NextHops)
		}
		r.ip(t, "-6", "route", "del", "2001:db8:98::/48", "via", "fe80::3", "dev", "v1")
		ev = waitEvent(t, st, eventWait, "route event after next hop removal", routeEventFor("2001:db8:98::/48", false))
		if want := []NextHop{{LinkIndex: v0.Index, Gateway: ll("fe80::2")}}; !slices.Equal(ev.Route.NextHops, want) {
			t.Errorf("RouteEvent next hops = %v, want %v", ev.Route.NextHops, want)
		}
	})

	t.Run("link down and up", func(t *testing.T) {
		r.ip(t, "-6", "route", "add", "2001:db8:97::/48",
			"nexthop", "via", "fe80::2", "dev", "v0", "nexthop", "via", "fe80::3", "dev", "v1")
		waitEvent(t, st, eventWait, "multipath route event", routeEventFor("2001:db8:97::/48", false))
		r.ip(t, "link", "set", "v0", "down")
		waitEvent(t, st, eventWait, "link down event", func(e LinkEvent) bool { return e.Link.Index == v0.Index && !e.Link.Up })
		if l := linkNamed(t, st, "v0"); l.Up {
			t.Errorf("Links() v0 = %+v after down, want Up false", l)
		}
		// The kernel flushes routes through a link that goes down.
		waitEvent(t, st, eventWait, "route through v0 deleted", routeEventFor("2001:db8:a::/48", true))
		// A multipath next hop through it is only marked dead, without a
		// netlink message: the stack re-lists routes on link changes.
		v1Only := []NextHop{{LinkIndex: v1.Index, Gateway: ll("fe80::3")}}
		waitEvent(t, st, eventWait, "multipath route without the dead next hop", func(e RouteEvent) bool {
			return routeEventFor("2001:db8:97::/48", false)(e) && slices.Equal(e.Route.NextHops, v1Only)
		})
		r.ip(t, "link", "set", "v0", "up")
		// Carrier comes back through the kernel's linkwatch, which batches
		// events at most once a second (measured: up to ~0.9 s after `ip link
		// set up`), and Up means administratively up with carrier.
		waitEvent(t, st, 2*eventWait, "link up event", func(e LinkEvent) bool { return e.Link.Index == v0.Index && e.Link.Up })
		if l := linkNamed(t, st, "v0"); !l.Up {
			t.Errorf("Links() v0 = %+v after up, want Up true", l)
		}
		waitEvent(t, st, eventWait, "multipath route with both next hops again", func(e RouteEvent) bool {
			return routeEventFor("2001:db8:97::/48", false)(e) && len(e.Route.NextHops) == 2
		})
	})

	t.Run("address added and deleted", func(t *testing.T) {
		r.ip(t, "-6", "addr", "add", "2001:db8:1::1/64", "dev", "v1")
		want := Addr{LinkIndex: v1.Index, Prefix: netip.MustParsePrefix("2001:db8:1::1/64")}
		waitEvent(t, st, eventWait, "address add event", func(e AddrEvent) bool { return e.Addr == want && !e.Deleted })
		if !slices.Contains(st.Addrs(), want) {
			t.Errorf("Addrs() = %v, want it to contain %v", st.Addrs(), want)
		}
		if rt, ok := st.Table().Lookup(ll("2001:db8:1::5"), any6, 0); !ok || rt.Dst != netip.MustParsePrefix("2001:db8:1::/64") {
			t.Errorf("Lookup(2001:db8:1::5) = %v, %v; want the connected /64", rt, ok)
		}
		r.ip(t, "-6", "addr", "del", "2001:db8:1::1/64", "dev", "v1")
		waitEvent(t, st, eventWait, "address delete event", func(e AddrEvent) bool { return e.Addr == want && e.Deleted })
		if slices.Contains(st.Addrs(), want) {
			t.Errorf("Addrs() = %v after delete, still contains %v", st.Addrs(), want)
		}
	})

	t.Run("link deleted", func(t *testing.T) {
		r.ip(t, "link", "del", "v1")
		waitEvent(t, st, eventWait, "link delete event", func(e LinkEvent) bool { return e.Link.Index == v1.Index && e.Deleted })
		for _, l := range st.Links() {
			if l.Index == v1.Index {
				t.Errorf("Links() still has %+v", l)
			}
		}
		for _, a := range st.Addrs() {
			if a.LinkIndex == v1.Index {
				t.Errorf("Addrs() still has %v on the deleted link", a)
			}
		}
	})
}

// joinInNetns joins group on link from a UDP socket opened in ns, as a host
// application would, and leaves when the test ends.
func joinInNetns(t *testing.T, ns *testNetns, link int, group netip.Addr) {
	t.Helper()
	var c net.PacketConn
	err := inNamespace(ns.h, func() error {
		var err error
		c, err = net.ListenPacket("udp6", "[::]:0")
		return err
	})
	if err != nil {
		t.Fatalf("UDP socket in %s: %v", ns.name, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := ipv6.NewPacketConn(c).JoinGroup(&net.Interface{Index: link}, &net.UDPAddr{IP: group.AsSlice()}); err != nil {
		t.Fatalf("JoinGroup(%v): %v", group, err)
	}
}

func TestLinuxMLDReceive(t *testing.T) {
	requireRoot(t)
	checkNoLinuxGoroutines(t)
	tests := []struct {
		name     string
		version  string // force_mld_version on the host link
		group    string
		typ      byte
		wantDst  func(group netip.Addr) netip.Addr
		groupOff int // where the group address sits in the message
	}{
		{"MLDv2 report to ff02::16", "0", "ff3e::1234", icmpMLDv2Report,
			func(netip.Addr) netip.Addr { return mldAllV2RoutersGroup }, 12},
		{"MLDv1 report to the group itself", "1", "ff3e::5678", icmpMLDv1Report,
			func(g netip.Addr) netip.Addr { return g }, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestNetns(t, "r")
			h := newTestNetns(t, "h")
			veth(t, r, "vr", h, "vh")
			runIP(t, "netns", "exec", h.name, "sysctl", "-qw", "net.ipv6.conf.vh.force_mld_version="+tc.version)
			st := startLinux(t, r)
			vr := linkNamed(t, st, "vr")
			group := netip.MustParseAddr(tc.group)
			// Joined before the host has a link-local address, the kernel
			// reports from :: (RFC 3810 §5.2.13); wait for it.
			idx := hostLinkLocal(t, h, "vh")
			joinInNetns(t, h, idx, group)
			g := group.As16()
			ev := waitEvent(t, st, 3*time.Second, "MLD report for "+tc.group, func(e PacketEvent) bool {
				p := e.Packet.Payload
				return e.Packet.Proto == ProtoICMPv6 && len(p) >= tc.groupOff+16 && p[0] == tc.typ &&
					bytes.Equal(p[tc.groupOff:tc.groupOff+16], g[:])
			})
			p := ev.Packet
			if p.LinkIndex != vr.Index || !p.RouterAlert || p.HopLimit != 1 || p.Dst != tc.wantDst(group) ||
				!p.Src.IsLinkLocalUnicast() {
				t.Errorf("report = link %d RA %v hop %d %v -> %v; want link %d, RA, hop limit 1, link-local -> %v",
					p.LinkIndex, p.RouterAlert, p.HopLimit, p.Src, p.Dst, vr.Index, tc.wantDst(group))
			}
			if !icmpv6ChecksumOK(p.Src, p.Dst, p.Payload) {
				t.Errorf("report checksum does not verify: %x", p.Payload)
			}
		})
	}
}

// hostLinkLocal waits until link name in ns has a link-local address and
// returns the link's index.
func hostLinkLocal(t *testing.T, ns *testNetns, name string) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		idx, ok := 0, false
		err := inNamespace(ns.h, func() error {
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return err
			}
			idx = ifi.Index
			addrs, err := ifi.Addrs()
			for _, a := range addrs {
				if ipn, isNet := a.(*net.IPNet); isNet && ipn.IP.IsLinkLocalUnicast() {
					ok = true
				}
			}
			return err
		})
		if err != nil {
			t.Fatalf("link %s in %s: %v", name, ns.name, err)
		}
		if ok {
			return idx
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s in %s has no link-local address", name, ns.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// icmpv6ChecksumOK verifies an ICMPv6 message's checksum (RFC 4443 §2.3).
func icmpv6ChecksumOK(src, dst netip.Addr, msg []byte) bool {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	s, d := src.As16(), dst.As16()
	add(s[:])
	add(d[:])
	var l [8]byte
	binary.BigEndian.PutUint32(l[:4], uint32(len(msg)))
	l[7] = ProtoICMPv6
	add(l[:])
	add(msg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// captureIPv6 opens an AF_PACKET socket on link in ns that receives every IPv6
// packet (cooked: from the IPv6 header on).
func captureIPv6(t *testing.T, ns *testNetns, link int) *lxSocket {
	t.Helper()
	s, err := openSocket(ns.h, "capture", unix.AF_PACKET, unix.SOCK_DGRAM, int(hostToNet16(unix.ETH_P_IPV6)), func(fd int) error {
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: hostToNet16(unix.ETH_P_IPV6), Ifindex: link})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

func TestLinuxMLDSendQuery(t *testing.T) {
	requireRoot(t)
	checkNoLinuxGoroutines(t)
	r := newTestNetns(t, "r")
	h := newTestNetns(t, "h")
	veth(t, r, "vr", h, "vh")
	st := startLinux(t, r)
	vr := linkNamed(t, st, "vr")
	src := linkLocalOf(t, st, vr.Index)
	hostIdx := hostLinkLocal(t, h, "vh")
	cap := captureIPv6(t, h, hostIdx)

	// An MLDv2 General Query (RFC 3810 §5.1), Maximum Response Code 100 ms,
	// QRV 2, QQIC 125, sent with a zero checksum: the kernel fills it in.
	query := make([]byte, 28)
	query[0] = icmpMLDQuery
	binary.BigEndian.PutUint16(query[4:], 100)
	query[24], query[25] = 2, 125
	allNodes := netip.MustParseAddr("ff02::1")
	err := st.Send(OutPacket{LinkIndex: vr.Index, Src: src, Dst: allNodes, RouterAlert: true, Proto: ProtoICMPv6, Payload: query})
	if err != nil {
		t.Fatalf("Send(query) = %v", err)
	}

	buf := make([]byte, 2048)
	deadline := time.Now().Add(2 * time.Second)
	found := false
	for !found && time.Now().Before(deadline) {
		done := make(chan struct{})
		var n int
		var rerr error
		go func() {
			n, _, _, _, rerr = cap.recvmsg(buf, nil)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			cap.close()
			<-done
			t.Fatal("no query captured on the host link")
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		hd, err := ParseIPv6(buf[:n])
		if err != nil || hd.Proto != ProtoICMPv6 || hd.Payload(buf[:n])[0] != icmpMLDQuery {
			continue
		}
		found = true
		payload := hd.Payload(buf[:n])
		if hd.HopLimit != 1 || !hd.RouterAlert || hd.RouterAlertValue != 0 || hd.Src != src || hd.Dst != allNodes {
			t.Errorf("captured query = hop %d RA %v (value %d) %v -> %v; want hop limit 1, router alert 0, %v -> %v",
				hd.HopLimit, hd.RouterAlert, hd.RouterAlertValue, hd.Src, hd.Dst, src, allNodes)
		}
		if !icmpv6ChecksumOK(hd.Src, hd.Dst, payload) {
			t.Errorf("captured query checksum does not verify: %x", payload)
		}
	}

	// The host's kernel accepts the query and answers with a current-state
	// report of its groups (solicited-node addresses at least).
	// The stack's own query, which its AF_PACKET socket sees outgoing, is not
	// reported (PACKET_OUTGOING is filtered).
	waitEvent(t, st, 3*time.Second, "report answering the query", func(e PacketEvent) bool {
		if e.Packet.Src == src && e.Packet.Payload[0] == icmpMLDQuery {
			t.Errorf("the stack reported its own query: %+v", e.Packet)
		}
		return e.Packet.Proto == ProtoICMPv6 && e.Packet.Payload[0] == icmpMLDv2Report && e.Packet.LinkIndex == vr.Index
	})
}

func TestLinuxPIMExchange(t *testing.T) {
	requireRoot(t)
	checkNoLinuxGoroutines(t)
	a := newTestNetns(t, "a")
	b := newTestNetns(t, "b")
	veth(t, a, "pa", b, "pb")
	a.ip(t, "-6", "addr", "add", "2001:db8:ab::1/64", "dev", "pa")
	b.ip(t, "-6", "addr", "add", "2001:db8:ab::2/64", "dev", "pb")
	sa := startLinux(t, a)
	sb := startLinux(t, b)
	pa := linkNamed(t, sa, "pa")
	pb := linkNamed(t, sb, "pb")
	llA := linkLocalOf(t, sa, pa.Index)

	t.Run("hello to ALL-PIM-ROUTERS", func(t *testing.T) {
		hello := []byte{0x20, 0, 0x12, 0x34, 0, 1, 0, 2, 0, 105}
		err := sa.Send(OutPacket{LinkIndex: pa.Index, Src: llA, Dst: pimAllRoutersGroup, Proto: ProtoPIM, Payload: hello})
		if err != nil {
			t.Fatalf("Send(hello) = %v", err)
		}
		ev := waitEvent(t, sb, 2*time.Second, "PIM hello", func(e PacketEvent) bool { return e.Packet.Proto == ProtoPIM })
		want := Packet{LinkIndex: pb.Index, Src: llA, Dst: pimAllRoutersGroup, HopLimit: 1, Proto: ProtoPIM, Payload: hello}
		if diff := cmp.Diff(want, ev.Packet, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("received hello (-want +got):\n%s", diff)
		}
	})

	t.Run("unicast routed by the kernel", func(t *testing.T) {
		reg := []byte{0x21, 0, 0xab, 0xcd, 0, 0, 0, 0}
		src, dst := netip.MustParseAddr("2001:db8:ab::2"), netip.MustParseAddr("2001:db8:ab::1")
		if err := sb.Send(OutPacket{Src: src, Dst: dst, Proto: ProtoPIM, Payload: reg}); err != nil {
			t.Fatalf("Send(register) = %v", err)
		}
		ev := waitEvent(t, sa, 2*time.Second, "unicast PIM", func(e PacketEvent) bool { return e.Packet.Proto == ProtoPIM })
		p := ev.Packet
		if p.LinkIndex != pa.Index || p.Src != src || p.Dst != dst || !bytes.Equal(p.Payload, reg) {
			t.Errorf("received = %+v; want link %d %v -> %v payload %x", p, pa.Index, src, dst, reg)
		}
	})

	// Last: the flap removes the global addresses (keep_addr_on_down=0).
	t.Run("memberships survive link down and up", func(t *testing.T) {
		b.ip(t, "link", "set", "pb", "down")
		waitEvent(t, sb, eventWait, "link down", func(e LinkEvent) bool { return e.Link.Index == pb.Index && !e.Link.Up })
		b.ip(t, "link", "set", "pb", "up")
		waitEvent(t, sb, 2*eventWait, "link up", func(e LinkEvent) bool { return e.Link.Index == pb.Index && e.Link.Up })
		// The other end's carrier loss and return may reach sa as one
		// coalesced linkwatch event, or none: poll its state.
		for deadline := time.Now().Add(2 * eventWait); !linkNamed(t, sa, "pa").Up; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("pa has no carrier 2s after pb came back up")
			}
		}
		hello := []byte{0x20, 0, 0x56, 0x78}
		if err := sa.Send(OutPacket{LinkIndex: pa.Index, Src: llA, Dst: pimAllRoutersGroup, Proto: ProtoPIM, Payload: hello}); err != nil {
			t.Fatalf("Send(hello) = %v", err)
		}
		waitEvent(t, sb, 2*time.Second, "PIM hello after link flap", func(e PacketEvent) bool {
			return e.Packet.Proto == ProtoPIM && bytes.Equal(e.Packet.Payload, hello)
		})
	})
}

func TestLinuxClose(t *testing.T) {
	requireRoot(t)
	checkNoLinuxGoroutines(t)
	n := newTestNetns(t, "c")
	st, err := NewLinux(t.Context(), LinuxOptions{NetNS: n.h})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, ok := <-st.Events(); ok {
		t.Error("Events() still open after Close")
	}
	if err := st.Send(OutPacket{Dst: pimAllRoutersGroup, LinkIndex: 1, Proto: ProtoPIM}); err == nil {
		t.Error("Send after Close = nil, want an error")
	}
}

func TestLinuxRecoversFromNetlinkOverflow(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("adds thousands of routes")
	}
	checkNoLinuxGoroutines(t)
	r := newTestNetns(t, "o")
	h := newTestNetns(t, "oh")
	veth(t, r, "v0", h, "p0")
	st := startLinux(t, r)
	// A tiny receive buffer, and nobody reading Events while the routes go
	// in: the reader blocks once the channel is full and the kernel's
	// notifications overflow the socket.
	if err := st.nlEvents.s.control(func(fd int) error {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	}); err != nil {
		t.Fatal(err)
	}
	const n = eventBuffer + 2000
	var batch bytes.Buffer
	for i := range n {
		fmt.Fprintf(&batch, "route add 2001:db8:%x:%x::/64 via fe80::2 dev v0\n", 0x100+i/0x1000, i%0x1000)
	}
	cmd := exec.Command("ip", "-n", r.name, "-batch", "-")
	cmd.Stdin = &batch
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
	seen := make(map[netip.Prefix]bool)
	deadline := time.After(10 * time.Second)
	for len(seen) < n {
		select {
		case ev := <-st.Events():
			if re, ok := ev.(RouteEvent); ok && !re.Deleted && re.Route.Dst.Bits() == 64 &&
				re.Route.Dst.Addr().As16()[4] == 0x01 {
				seen[re.Route.Dst] = true
			}
		case <-deadline:
			t.Fatalf("route events for %d of %d routes; stats %+v", len(seen), n, st.Stats())
		}
	}
	if st.Stats().Resyncs == 0 {
		t.Errorf("Stats().Resyncs = 0; the test did not overflow the netlink socket")
	}
	count := 0
	st.Table().Walk(func(rt *Route) bool {
		if rt.Dst.Bits() == 64 && rt.Dst.Addr().As16()[4] == 0x01 {
			count++
		}
		return true
	})
	if count != n {
		t.Errorf("table holds %d of the %d routes", count, n)
	}
}

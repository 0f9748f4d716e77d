//go:build linux

package mld

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/stack"
	"github.com/vishvananda/netns"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// These lab tests run the querier core against the Linux kernel's own MLD
// host stack: a host namespace joins and leaves through ordinary sockets, a
// router namespace captures MLD with AF_PACKET (DESIGN.md, "Facts measured")
// and feeds the core. They stand in for the daemon-level lab tests until the
// event loop exists.

type labNet struct {
	router, host netns.NsHandle
	rname, hname string
	routerIf     int
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

func inNS(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread is dropped, not reused, after switching namespaces
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

func newLab(t *testing.T) *labNet {
	if os.Geteuid() != 0 {
		t.Skip("lab test needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("lab test needs iproute2")
	}
	l := &labNet{rname: fmt.Sprintf("mldr%d", os.Getpid()), hname: fmt.Sprintf("mldh%d", os.Getpid())}
	sh(t, "ip", "netns", "add", l.rname)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.rname).Run() })
	sh(t, "ip", "netns", "add", l.hname)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.hname).Run() })
	sh(t, "ip", "link", "add", "vr", "netns", l.rname, "type", "veth", "peer", "name", "vh", "netns", l.hname)
	for _, c := range [][]string{
		{"ip", "netns", "exec", l.rname, "sysctl", "-qw", "net.ipv6.conf.vr.accept_dad=0"},
		{"ip", "netns", "exec", l.hname, "sysctl", "-qw", "net.ipv6.conf.vh.accept_dad=0"},
		{"ip", "-n", l.rname, "link", "set", "vr", "up"},
		{"ip", "-n", l.hname, "link", "set", "vh", "up"},
		{"ip", "-n", l.hname, "link", "set", "lo", "up"},
	} {
		sh(t, c...)
	}
	var err error
	if l.router, err = netns.GetFromName(l.rname); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.router.Close() })
	if l.host, err = netns.GetFromName(l.hname); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.host.Close() })
	if err := inNS(l.router, func() error {
		ifi, err := net.InterfaceByName("vr")
		if err == nil {
			l.routerIf = ifi.Index
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// wait until the host has its link-local address: before that the kernel
	// sends MLD from ::, which MLDv1 does not allow (RFC 2710 §3)
	for deadline := time.Now().Add(3 * time.Second); ; {
		out, _ := exec.Command("ip", "-n", l.hname, "-6", "addr", "show", "dev", "vh", "scope", "link").Output()
		if len(out) > 0 && !bytesContains(out, "tentative") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host link-local address not ready: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return l
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// capture opens an AF_PACKET socket on the router's veth.
func (l *labNet) capture(t *testing.T) int {
	var fd int
	err := inNS(l.router, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_IPV6)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: l.routerIf}); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		t.Fatalf("AF_PACKET socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// parseFrame extracts an MLD packet from an Ethernet frame: IPv6, an optional
// hop-by-hop header (Router Alert), ICMPv6.
func parseFrame(b []byte, link int) (stack.Packet, bool) {
	if len(b) < 14+40 || binary.BigEndian.Uint16(b[12:]) != unix.ETH_P_IPV6 {
		return stack.Packet{}, false
	}
	ip := b[14:]
	plen := int(binary.BigEndian.Uint16(ip[4:]))
	if 40+plen > len(ip) {
		return stack.Packet{}, false
	}
	p := stack.Packet{LinkIndex: link, HopLimit: int(ip[7]),
		Src: netip.AddrFrom16([16]byte(ip[8:24])), Dst: netip.AddrFrom16([16]byte(ip[24:40]))}
	next, rest := ip[6], ip[40:40+plen]
	if next == 0 {
		if len(rest) < 8 {
			return stack.Packet{}, false
		}
		hl := (int(rest[1]) + 1) * 8
		if hl > len(rest) {
			return stack.Packet{}, false
		}
		opts := rest[2:hl]
		for len(opts) > 0 {
			if opts[0] == 0 { // Pad1
				opts = opts[1:]
				continue
			}
			if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
				break
			}
			if opts[0] == 5 {
				p.RouterAlert = true
			}
			opts = opts[2+int(opts[1]):]
		}
		next, rest = rest[0], rest[hl:]
	}
	if next != 58 {
		return stack.Packet{}, false
	}
	p.Proto, p.Payload = 58, append([]byte(nil), rest...)
	return p, true
}

// pump feeds captured MLD packets and timer ticks to q, on real time, until
// cond holds or the timeout passes; it returns when cond held.
func pump(t *testing.T, fd int, q *Querier, link int, timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	buf := make([]byte, 9000)
	var out Output
	for time.Since(start) < timeout {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		now := time.Now()
		if err == nil {
			if p, ok := parseFrame(buf[:n], link); ok && len(p.Payload) > 0 && Type(p.Payload[0]) != 128 && Type(p.Payload[0]) != 129 {
				q.HandlePacket(now, p, &out)
			}
		}
		q.Tick(now, &out)
		out.Reset()
		if cond() {
			return time.Since(start), true
		}
	}
	return time.Since(start), false
}

// hostSocket returns a UDP socket created in the host namespace.
func (l *labNet) hostSocket(t *testing.T) (*ipv6.PacketConn, *net.Interface) {
	var pc net.PacketConn
	var ifi *net.Interface
	err := inNS(l.host, func() error {
		var err error
		if ifi, err = net.InterfaceByName("vh"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp6", "[::]:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return ipv6.NewPacketConn(pc), ifi
}

// TestLabLinuxHostJoinsAndLeavesSG: a Linux host joins (S,G) through its
// kernel MLDv2 stack; the core shows INCLUDE {S}; after the leave the state
// is gone within the Last Listener Query Time.
func TestLabLinuxHostJoinsAndLeavesSG(t *testing.T) {
	l := newLab(t)
	fd := l.capture(t)
	cfg := Config{LastListenerQueryInterval: 200 * time.Millisecond, LastListenerQueryCount: 2}
	q, err := NewQuerier(cfg, l.routerIf, netip.MustParseAddr("fe80::1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	g, s := netip.MustParseAddr("ff3e::4321"), netip.MustParseAddr("2001:db8:1::5")
	pc, ifi := l.hostSocket(t)
	if err := pc.JoinSourceSpecificGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}, &net.UDPAddr{IP: s.AsSlice()}); err != nil {
		t.Fatalf("join (S,G): %v", err)
	}
	joined := func() bool {
		ls, ok := q.Listener(g)
		return ok && ls.Mode == Include && len(ls.Sources) == 1 && ls.Sources[0] == s
	}
	if d, ok := pump(t, fd, q, l.routerIf, 5*time.Second, joined); !ok {
		ls, _ := q.Listener(g)
		t.Fatalf("after the join: listener %+v, want INCLUDE {%v} (counters %+v)", ls, s, q.Counters())
	} else {
		t.Logf("INCLUDE {%v} seen %v after the join", s, d)
	}
	if err := pc.LeaveSourceSpecificGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}, &net.UDPAddr{IP: s.AsSlice()}); err != nil {
		t.Fatalf("leave (S,G): %v", err)
	}
	gone := func() bool { _, ok := q.Listener(g); return !ok }
	llqt := 400 * time.Millisecond
	d, ok := pump(t, fd, q, l.routerIf, 5*time.Second, gone)
	if !ok {
		t.Fatalf("state still present 5s after the leave: %+v", q.Snapshot(time.Now()).Groups)
	}
	// the kernel's leave report arrives at once; allow 300ms for scheduling
	if d > llqt+300*time.Millisecond {
		t.Errorf("state gone %v after the leave, want within LLQT %v (+300ms slack)", d, llqt)
	}
	t.Logf("state gone %v after the leave (LLQT %v)", d, llqt)
}

// TestLabLinuxMLDv1HostPutsGroupInV1Mode: a host forced to MLDv1 joining an
// ASM group puts the group in MLDv1 compatibility mode (RFC 3810 §8.3.2).
func TestLabLinuxMLDv1HostPutsGroupInV1Mode(t *testing.T) {
	l := newLab(t)
	sh(t, "ip", "netns", "exec", l.hname, "sysctl", "-qw", "net.ipv6.conf.vh.force_mld_version=1")
	fd := l.capture(t)
	q, err := NewQuerier(Config{}, l.routerIf, netip.MustParseAddr("fe80::1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	g := netip.MustParseAddr("ff0e::4242")
	pc, ifi := l.hostSocket(t)
	if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}); err != nil {
		t.Fatalf("join G: %v", err)
	}
	v1 := func() bool {
		for _, gs := range q.Snapshot(time.Now()).Groups {
			if gs.Group == g {
				return gs.Compat == Version1 && gs.Mode == Exclude
			}
		}
		return false
	}
	if _, ok := pump(t, fd, q, l.routerIf, 5*time.Second, v1); !ok {
		t.Fatalf("group %v not in MLDv1 mode: %+v (counters %+v)", g, q.Snapshot(time.Now()).Groups, q.Counters())
	}
}

package lab

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func namespaces(t *testing.T) map[string]bool {
	t.Helper()
	names, err := Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestPingAcrossRouter(t *testing.T) {
	t.Parallel()
	l := New(t)
	a, r, b := l.Node("a"), l.Node("r"), l.Node("b")
	r.Sysctl("net.ipv6.conf.all.forwarding", "1")
	l.Link(a, "eth0", r, "eth0")
	l.Link(r, "eth1", b, "eth0")
	a.Addr("eth0", "2001:db8:1::2/64")
	r.Addr("eth0", "2001:db8:1::1/64")
	r.Addr("eth1", "2001:db8:2::1/64")
	b.Addr("eth0", "2001:db8:2::2/64")
	a.Route("default", "via", "2001:db8:1::1")
	b.Route("default", "via", "2001:db8:2::1")

	if err := a.Ping(netip.MustParseAddr("2001:db8:2::2"), 3*time.Second); err != nil {
		t.Errorf("ping across router with forwarding: %v", err)
	}
	ll := b.LinkLocal("eth0")
	if !ll.IsLinkLocalUnicast() || ll.Zone() != "eth0" {
		t.Fatalf("b.LinkLocal(eth0) = %v, want a zoned fe80:: address", ll)
	}
	if err := r.Ping(ll.WithZone("eth1"), 3*time.Second); err != nil {
		t.Errorf("ping link-local neighbour: %v", err)
	}
}

func TestNoForwardingNoPing(t *testing.T) {
	t.Parallel()
	l := New(t)
	a, r, b := l.Node("a"), l.Node("r"), l.Node("b")
	l.Link(a, "eth0", r, "eth0")
	l.Link(r, "eth1", b, "eth0")
	a.Addr("eth0", "2001:db8:1::2/64")
	r.Addr("eth0", "2001:db8:1::1/64")
	r.Addr("eth1", "2001:db8:2::1/64")
	b.Addr("eth0", "2001:db8:2::2/64")
	a.Route("default", "via", "2001:db8:1::1")
	b.Route("default", "via", "2001:db8:2::1")
	if err := a.Ping(netip.MustParseAddr("2001:db8:2::2"), 500*time.Millisecond); err == nil {
		t.Errorf("ping across a router without forwarding succeeded, want no reply")
	}
}

func TestLANThreeMembers(t *testing.T) {
	t.Parallel()
	l := New(t)
	h1, h2, h3 := l.Node("h1"), l.Node("h2"), l.Node("h3")
	l.LAN("lan", End{h1, "eth0"}, End{h2, "eth0"}, End{h3, "lan0"})
	h1.Addr("eth0", "2001:db8:9::1/64")
	h2.Addr("eth0", "2001:db8:9::2/64")
	h3.Addr("lan0", "2001:db8:9::3/64")
	for _, dst := range []string{"2001:db8:9::2", "2001:db8:9::3"} {
		if err := h1.Ping(netip.MustParseAddr(dst), 3*time.Second); err != nil {
			t.Errorf("h1 ping %s: %v", dst, err)
		}
	}
	snoop, err := l.switches["lan"].Run("cat", "/sys/class/net/br0/bridge/multicast_snooping")
	if err != nil || strings.TrimSpace(snoop) != "0" {
		t.Errorf("bridge multicast_snooping = %q (%v), want 0 so every member sees all multicast", snoop, err)
	}
	for _, n := range l.Nodes() {
		if strings.Contains(n.Name(), "sw-") {
			t.Errorf("Nodes() includes switch %s", n.Name())
		}
	}
}

func TestMulticastFloodsOnLAN(t *testing.T) {
	t.Parallel()
	l := New(t)
	h1, h2, h3 := l.Node("h1"), l.Node("h2"), l.Node("h3")
	l.LAN("lan", End{h1, "eth0"}, End{h2, "eth0"}, End{h3, "eth0"})
	group := netip.MustParseAddrPort("[ff05::1234]:9999")

	var conn *net.UDPConn
	err := h3.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		conn, err = net.ListenMulticastUDP("udp6", ifi, net.UDPAddrFromAddrPort(group))
		return err
	})
	if err != nil {
		t.Fatalf("h3 join %v: %v", group.Addr(), err)
	}
	defer conn.Close()

	err = h1.Do(func() error {
		c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(group.Addr().WithZone("eth0"), group.Port())))
		if err != nil {
			return err
		}
		defer c.Close()
		for range 5 {
			if _, err := c.Write([]byte("hello")); err != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("h1 send: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 100)
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("h3 received nothing sent to %v across the LAN: %v", group, err)
	}
	if got := string(buf[:n]); got != "hello" {
		t.Errorf("h3 received %q from %v, want %q", got, from, "hello")
	}
}

func TestTeardownLeavesNothing(t *testing.T) {
	if err := usable(); err != nil {
		t.Skipf("needs root with iproute2: %v", err)
	}
	l, err := Open("teardown")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := l.Node("a"), l.Node("b"), l.Node("c")
	l.Link(a, "eth0", b, "eth0")
	l.LAN("x", End{a, "eth1"}, End{c, "eth0"})
	p := a.Start("sleep", "60")
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	before := namespaces(t)
	for _, name := range []string{a.Name(), b.Name(), c.Name(), l.ID() + "-sw-x"} {
		if !before[name] {
			t.Errorf("namespace %s missing while the lab is open", name)
		}
	}
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	after := namespaces(t)
	for name := range after {
		if strings.HasPrefix(name, l.ID()+"-") {
			t.Errorf("namespace %s left after Close", name)
		}
	}
	if !p.Exited() {
		t.Errorf("process still running after Close")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestStartStopCapturesOutput(t *testing.T) {
	t.Parallel()
	l := New(t)
	n := l.Node("n")
	p := n.Start("sh", "-c", "echo out; echo err >&2; trap 'echo bye; exit 0' TERM; while :; do sleep 0.05; done")
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(p.Output(), "err") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Pid() == 0 {
		t.Fatalf("Pid() = 0")
	}
	if err := p.Wait(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("Wait on a running process = %v, want ErrTimeout", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop() = %v, want nil (trap exits 0)", err)
	}
	for _, want := range []string{"out", "err", "bye"} {
		if !strings.Contains(p.Output(), want) {
			t.Errorf("Output() = %q, want it to contain %q", p.Output(), want)
		}
	}

	// A process that ignores SIGTERM is killed after StopTimeout.
	q := n.Start("sh", "-c", "trap '' TERM; while :; do sleep 0.05; done")
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := q.Stop(); err == nil {
		t.Errorf("Stop() of a process ignoring SIGTERM = nil, want a kill error")
	}
	if d := time.Since(start); d < StopTimeout/2 {
		t.Errorf("Stop() returned after %v, before the SIGKILL grace", d)
	}

	// The process runs inside the node's namespace.
	out := n.MustRun(t, "ip", "-o", "link")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "lo:") {
		t.Errorf("ip link in a fresh node = %q, want only lo", out)
	}
}

func TestDoRunsInNamespace(t *testing.T) {
	t.Parallel()
	l := New(t)
	a, b := l.Node("a"), l.Node("b")
	l.Link(a, "veth-a", b, "veth-b")
	if got := a.IfIndex("veth-a"); got == 0 {
		t.Errorf("a.IfIndex(veth-a) = 0, want the index inside a")
	}
	if got := a.IfIndex("veth-b"); got != 0 {
		t.Errorf("a.IfIndex(veth-b) = %d, want 0 (the peer is in b)", got)
	}
	if got := b.IfIndex("veth-b"); got == 0 {
		t.Errorf("b.IfIndex(veth-b) = 0, want the index inside b")
	}
	dad, err := a.Run("cat", "/proc/sys/net/ipv6/conf/veth-a/accept_dad")
	if err != nil || strings.TrimSpace(dad) != "0" {
		t.Errorf("accept_dad on a new link = %q (%v), want 0", dad, err)
	}
}

func TestSweepRemovesDeadCreators(t *testing.T) {
	if err := usable(); err != nil {
		t.Skipf("needs root with iproute2: %v", err)
	}
	// A pid that cannot be alive: above the kernel's pid_max limit.
	stale := Prefix + "99999999zz-x"
	if err := ip("netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })
	mine := New(t)
	live := mine.Node("live")
	removed, err := Sweep()
	if err != nil {
		t.Fatalf("Sweep() error = %v", err)
	}
	ns := namespaces(t)
	if ns[stale] {
		t.Errorf("Sweep left %s (creator dead); removed %v", stale, removed)
	}
	if !ns[live.Name()] {
		t.Errorf("Sweep removed %s whose creator (this process, pid %d) is alive", live.Name(), os.Getpid())
	}
}

func TestCreator(t *testing.T) {
	tests := []struct {
		name    string
		wantPid int
		wantOK  bool
	}{
		{"p6-1234a-r1", 1234, true},
		{"p6-1234ab-sw-lan", 1234, true},
		{"p6-a-r1", 0, false},
		{"p6-1234-r1", 0, false},
		{"other", 0, false},
		{"p6-1234", 0, false},
	}
	for _, tt := range tests {
		pid, ok := creator(tt.name)
		if pid != tt.wantPid || ok != tt.wantOK {
			t.Errorf("creator(%q) = %d, %v, want %d, %v", tt.name, pid, ok, tt.wantPid, tt.wantOK)
		}
	}
}

func TestLetters(t *testing.T) {
	for n, want := range map[uint64]string{1: "a", 26: "z", 27: "aa", 28: "ab", 702: "zz", 703: "aaa"} {
		if got := letters(n); got != want {
			t.Errorf("letters(%d) = %q, want %q", n, got, want)
		}
	}
}

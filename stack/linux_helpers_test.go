//go:build linux

package stack

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// testNetns is a network namespace a test created (with `ip netns add`).
type testNetns struct {
	name string
	h    netns.NsHandle
}

var testNetnsSeq atomic.Int32

// requireRoot skips tests that need root and the ip command.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
}

// runIP runs ip with args and fails the test on error.
func runIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newTestNetns creates a namespace with loopback up and duplicate address
// detection off (so link-local addresses are usable at once) and removes it
// when the test ends.
func newTestNetns(t *testing.T, role string) *testNetns {
	t.Helper()
	name := fmt.Sprintf("pim6st-%d-%d-%s", os.Getpid(), testNetnsSeq.Add(1), role)
	runIP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	runIP(t, "-n", name, "link", "set", "lo", "up")
	out, err := exec.Command("ip", "netns", "exec", name, "sysctl", "-qw",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0").CombinedOutput()
	if err != nil {
		t.Fatalf("sysctl in %s: %v: %s", name, err, out)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("netns.GetFromName(%s): %v", name, err)
	}
	t.Cleanup(func() { h.Close() })
	return &testNetns{name: name, h: h}
}

// ip runs ip inside the namespace.
func (n *testNetns) ip(t *testing.T, args ...string) {
	t.Helper()
	runIP(t, append([]string{"-n", n.name}, args...)...)
}

// veth connects a (link an) and b (link bn) and sets both ends up.
func veth(t *testing.T, a *testNetns, an string, b *testNetns, bn string) {
	t.Helper()
	runIP(t, "link", "add", an, "netns", a.name, "type", "veth", "peer", "name", bn, "netns", b.name)
	a.ip(t, "link", "set", an, "up")
	b.ip(t, "link", "set", bn, "up")
}

// startLinux opens a stack in ns and closes it when the test ends.
func startLinux(t *testing.T, ns *testNetns) *Linux {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := NewLinux(ctx, LinuxOptions{NetNS: ns.h})
	if err != nil {
		t.Fatalf("NewLinux(%s): %v", ns.name, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return st
}

// linkNamed returns the stack's link called name.
func linkNamed(t *testing.T, st *Linux, name string) Link {
	t.Helper()
	for _, l := range st.Links() {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("Links() has no %q: %+v", name, st.Links())
	return Link{}
}

// linkLocalOf waits until the stack knows a usable link-local address on
// link and returns it.
func linkLocalOf(t *testing.T, st *Linux, link int) netip.Addr {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range st.Addrs() {
			if a.LinkIndex == link && a.Prefix.Addr().IsLinkLocalUnicast() {
				return a.Prefix.Addr()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no link-local address on link %d: %+v", link, st.Addrs())
	return netip.Addr{}
}

// waitEvent reads events until match accepts one, failing after timeout.
func waitEvent[E any](t *testing.T, st *Linux, timeout time.Duration, what string, match func(E) bool) E {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case ev, ok := <-st.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if e, ok := ev.(E); ok && match(e) {
				return e
			}
			if len(seen) < 20 {
				seen = append(seen, fmt.Sprintf("%T%+v", ev, ev))
			}
		case <-timer.C:
			t.Fatalf("no %s within %v; saw %v", what, timeout, seen)
		}
	}
}

// checkNoLinuxGoroutines fails the test if a goroutine of a Linux stack is
// still running when the test ends. Call it before starting stacks, so it
// runs after their Close.
func checkNoLinuxGoroutines(t *testing.T) {
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		var buf []byte
		for {
			buf = make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			if !bytes.Contains(buf, []byte("stack.(*Linux)")) {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines of a closed Linux stack still run:\n%s", buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

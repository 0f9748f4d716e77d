package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// Node is one network namespace of a lab: a host or a router.
type Node struct {
	lab    *Lab
	label  string // the node's name in the lab ("r1")
	name   string // the namespace name
	hidden bool   // a LAN's switch
	handle netns.NsHandle
}

// Name returns the namespace name (for ip netns exec, ip -n).
func (n *Node) Name() string { return n.name }

// Label returns the node's name in the lab, as given to Lab.Node.
func (n *Node) Label() string { return n.label }

// NsHandle returns an open handle on the node's namespace. It belongs to the
// lab, which closes it at teardown: do not close it.
func (n *Node) NsHandle() netns.NsHandle { return n.handle }

func (n *Node) openHandle() error {
	h, err := netns.GetFromName(n.name)
	if err != nil {
		return fmt.Errorf("open namespace %s: %w", n.name, err)
	}
	n.handle = h
	return nil
}

func (n *Node) remove() error {
	if n.handle.IsOpen() {
		n.handle.Close()
	}
	return deleteNamespace(n.name)
}

// fail reports an error through the node's lab.
func (n *Node) fail(err error) {
	if n.lab.tb != nil {
		n.lab.tb.Helper()
	}
	n.lab.fail(fmt.Errorf("%s: %w", n.label, err))
}

// Do runs f on an OS thread locked inside the node's namespace, and returns
// its error. Sockets f opens stay in the namespace after f returns.
func (n *Node) Do(f func() error) error {
	if !n.handle.IsOpen() {
		return fmt.Errorf("%s: namespace not open", n.label)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", n.name, err)
			return
		}
		ferr := f()
		// A thread that cannot go back stays locked, so the runtime retires it
		// when this goroutine ends instead of reusing it in the wrong namespace.
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// Sysctl sets a sysctl in the node's namespace, key in dotted form
// ("net.ipv6.conf.all.forwarding") or, for interface names with dots, in
// slash form ("net/ipv6/conf/eth0.10/forwarding").
func (n *Node) Sysctl(key, value string) {
	if n.lab.tb != nil {
		n.lab.tb.Helper()
	}
	if err := n.sysctl(key, value); err != nil {
		n.fail(err)
	}
}

func (n *Node) sysctl(key, value string) error {
	path := "/proc/sys/" + key
	if !strings.Contains(key, "/") {
		path = "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	}
	err := n.Do(func() error { return os.WriteFile(path, []byte(value), 0o644) })
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// Addr adds an address (with prefix length) to an interface.
func (n *Node) Addr(ifname, cidr string) {
	if n.lab.tb != nil {
		n.lab.tb.Helper()
	}
	if _, err := netip.ParsePrefix(cidr); err != nil {
		n.fail(fmt.Errorf("address %q on %s: %w", cidr, ifname, err))
		return
	}
	if err := ip("-n", n.name, "addr", "add", cidr, "dev", ifname); err != nil {
		n.fail(err)
	}
}

// Route adds an IPv6 route: args are what follows "ip -6 route add"
// ("2001:db8:3::/64", "via", "2001:db8:2::2").
func (n *Node) Route(args ...string) {
	if n.lab.tb != nil {
		n.lab.tb.Helper()
	}
	if err := ip(append([]string{"-n", n.name, "-6", "route", "add"}, args...)...); err != nil {
		n.fail(err)
	}
}

// command returns a command that runs args in the node's namespace. ip netns
// exec also bind-mounts a /sys for the namespace, so tools that read
// /sys/class/net see the node's interfaces.
func (n *Node) command(args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.name}, args...)...)
}

// Run runs a command in the node's namespace and returns its combined output.
func (n *Node) Run(args ...string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("Run: no command")
	}
	out, err := n.command(args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %w: %s", n.label, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// MustRun is Run that fails the test on error.
func (n *Node) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// LinkLocal returns the link-local address of ifname, zoned with ifname, waiting
// up to two seconds for the kernel to assign it. It returns the zero Addr if
// there is none.
func (n *Node) LinkLocal(ifname string) netip.Addr {
	deadline := time.Now().Add(2 * time.Second)
	for {
		out, err := exec.Command("ip", "-n", n.name, "-6", "-o", "addr", "show", "dev", ifname, "scope", "link").Output()
		if err == nil {
			if a, ok := parseLinkLocal(string(out)); ok {
				return a.WithZone(ifname)
			}
		}
		if time.Now().After(deadline) {
			return netip.Addr{}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parseLinkLocal finds the first "inet6 fe80::.../64" in ip -o addr output.
func parseLinkLocal(out string) (netip.Addr, bool) {
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] != "inet6" {
			continue
		}
		p, err := netip.ParsePrefix(f[i+1])
		if err == nil && p.Addr().IsLinkLocalUnicast() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// IfIndex returns the index of ifname in the node's namespace, or 0.
func (n *Node) IfIndex(ifname string) int {
	var idx int
	n.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err == nil {
			idx = ifi.Index
		}
		return err
	})
	return idx
}

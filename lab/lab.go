package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Prefix starts the name of every namespace a lab creates.
const Prefix = "p6-"

// Lab is a set of network namespaces and the processes running in them.
// Its methods are safe for use by one goroutine at a time while building;
// Close may be called from any goroutine, more than once.
type Lab struct {
	id string     // Prefix + pid + sequence letters
	tb testing.TB // nil when opened without a test

	mu       sync.Mutex
	err      error // first error when tb is nil (sticky)
	nodes    map[string]*Node
	order    []*Node // nodes and switches in creation order, for teardown
	switches map[string]*Node
	procs    []*Proc
	closed   bool
}

var labSeq atomic.Uint64

// New returns an empty lab torn down by t.Cleanup. It skips the test when the
// process is not root or iproute2's ip command is missing.
func New(t testing.TB) *Lab {
	t.Helper()
	if err := usable(); err != nil {
		t.Skipf("needs root with iproute2 (network namespaces): %v", err)
	}
	l := newLab(t)
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("lab teardown: %v", err)
		}
	})
	return l
}

// Open returns an empty lab outside of tests (for demos). Errors while building
// are kept: the first one is returned by Err and Build. The caller must Close it.
func Open(name string) (*Lab, error) {
	if err := usable(); err != nil {
		return nil, fmt.Errorf("lab %s needs root with iproute2: %w", name, err)
	}
	return newLab(nil), nil
}

func usable() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return err
	}
	return nil
}

func newLab(tb testing.TB) *Lab {
	Sweep() // best effort: leftovers of killed runs
	l := &Lab{
		id:       Prefix + strconv.Itoa(os.Getpid()) + letters(labSeq.Add(1)),
		tb:       tb,
		nodes:    map[string]*Node{},
		switches: map[string]*Node{},
	}
	register(l)
	return l
}

// letters writes n (n >= 1) in bijective base 26 with a..z, so the sequence
// never contains digits and the pid before it can be read back by Sweep.
func letters(n uint64) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('a' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// ID is the lab's unique name prefix, shared by all its namespaces.
func (l *Lab) ID() string { return l.id }

// Err returns the first error met while building the lab (labs from Open only;
// labs from New fail the test instead).
func (l *Lab) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// fail reports a building error: fatal in a test, sticky otherwise.
func (l *Lab) fail(err error) {
	if l.tb != nil {
		l.tb.Helper()
		l.tb.Fatalf("lab: %v", err)
		return
	}
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
}

// ip runs the ip command with args, returning its error with its output.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Node returns the node called name, creating its namespace on first use:
// loopback up, duplicate address detection off, forwarding off.
func (l *Lab) Node(name string) *Node {
	if l.tb != nil {
		l.tb.Helper()
	}
	l.mu.Lock()
	n, ok := l.nodes[name]
	l.mu.Unlock()
	if ok {
		return n
	}
	n, err := l.newNamespace(name, name, false)
	if err != nil {
		l.fail(err)
		return n
	}
	l.mu.Lock()
	l.nodes[name] = n
	l.mu.Unlock()
	return n
}

// Nodes returns the lab's nodes (not its hidden switches) in creation order.
func (l *Lab) Nodes() []*Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ns []*Node
	for _, n := range l.order {
		if !n.hidden {
			ns = append(ns, n)
		}
	}
	return ns
}

func (l *Lab) newNamespace(label, suffix string, hidden bool) (*Node, error) {
	n := &Node{lab: l, label: label, name: l.id + "-" + suffix, hidden: hidden}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return n, errors.New("lab is closed")
	}
	l.order = append(l.order, n) // before creation, so teardown removes a half-made one
	l.mu.Unlock()
	if err := ip("netns", "add", n.name); err != nil {
		return n, err
	}
	if err := n.openHandle(); err != nil {
		return n, err
	}
	settings := [][2]string{
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
	}
	if hidden {
		// A switch must be silent: no MLD reports or router solicitations of its own.
		settings = append(settings,
			[2]string{"net.ipv6.conf.all.disable_ipv6", "1"},
			[2]string{"net.ipv6.conf.default.disable_ipv6", "1"})
	}
	for _, s := range settings {
		if err := n.sysctl(s[0], s[1]); err != nil {
			return n, err
		}
	}
	if err := ip("-n", n.name, "link", "set", "lo", "up"); err != nil {
		return n, err
	}
	return n, nil
}

// Link connects a's interface aIf and b's interface bIf with a veth pair, both up.
func (l *Lab) Link(a *Node, aIf string, b *Node, bIf string) {
	if l.tb != nil {
		l.tb.Helper()
	}
	if err := veth(a, aIf, b, bIf); err != nil {
		l.fail(err)
	}
}

func veth(a *Node, aIf string, b *Node, bIf string) error {
	if err := ip("-n", a.name, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.name); err != nil {
		return err
	}
	if err := ip("-n", a.name, "link", "set", aIf, "up"); err != nil {
		return err
	}
	return ip("-n", b.name, "link", "set", bIf, "up")
}

// End is one member of a LAN: a node and the name of its interface on the LAN.
type End struct {
	Node   *Node
	IfName string
}

// LAN connects the ends to one shared segment: a bridge that floods multicast
// (no MLD snooping), in a hidden switch namespace with one veth per member.
func (l *Lab) LAN(name string, ends ...End) {
	if l.tb != nil {
		l.tb.Helper()
	}
	if err := l.lan(name, ends); err != nil {
		l.fail(err)
	}
}

func (l *Lab) lan(name string, ends []End) error {
	l.mu.Lock()
	_, dup := l.switches[name]
	l.mu.Unlock()
	if dup {
		return fmt.Errorf("LAN %q defined twice", name)
	}
	sw, err := l.newNamespace("switch "+name, "sw-"+name, true)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.switches[name] = sw
	l.mu.Unlock()
	if err := ip("-n", sw.name, "link", "add", "br0", "type", "bridge",
		"mcast_snooping", "0", "forward_delay", "0", "stp_state", "0"); err != nil {
		return err
	}
	if err := ip("-n", sw.name, "link", "set", "br0", "up"); err != nil {
		return err
	}
	for i, e := range ends {
		port := "p" + strconv.Itoa(i)
		if err := veth(e.Node, e.IfName, sw, port); err != nil {
			return err
		}
		if err := ip("-n", sw.name, "link", "set", port, "master", "br0"); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every process (SIGTERM, then SIGKILL after a short grace) and
// deletes every namespace. It is idempotent.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs := l.procs
	order := l.order
	l.mu.Unlock()
	defer unregister(l)

	stopAll(procs, 2*time.Second)
	var errs []error
	for i := len(order) - 1; i >= 0; i-- {
		if err := order[i].remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopAll sends SIGTERM to every running process, waits up to grace for all of
// them together, and kills what is left.
func stopAll(procs []*Proc, grace time.Duration) {
	for _, p := range procs {
		p.terminate()
	}
	timeout := time.After(grace)
	expired := false
	for _, p := range procs {
		if !expired {
			select {
			case <-p.done:
				continue
			case <-timeout:
				expired = true
			}
		}
		p.kill()
		<-p.done
	}
}

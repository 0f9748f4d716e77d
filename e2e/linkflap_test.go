package e2e

import (
	"slices"
	"testing"
	"time"
)

// TestForwardingSurvivesLinkFlap takes r1's downstream link down and up while
// a steady source flows to a joined receiver: without a restart, pim6d stops
// and restarts its forwarder ring, PIM and MLD on the link (RFC 7761 §4.3.1: a
// new Generation ID, so r2 resends its Join), and packets flow again.
func TestForwardingSurvivesLinkFlap(t *testing.T) {
	t.Parallel()
	l := buildLab(t, "ssm-demo.yaml")
	src, r1n, rcv := l.Node("src"), l.Node("r1"), l.Node("rcv")
	// Keep the global address through the flap, as an operator's interface
	// configuration would: RPF toward r1 is by that address (Address List).
	r1n.Sysctl("net.ipv6.conf.eth1.keep_addr_on_down", "1")
	r1 := startPim6d(t, r1n)
	r2 := startPim6d(t, l.Node("r2"))
	waitUntil(t, 10*time.Second, "r1 and r2 to become PIM neighbours", func() bool {
		return len(r1.snapshot(t).Neighbors) == 1 && len(r2.snapshot(t).Neighbors) == 1
	})
	const group = "ff3e::f1a9"
	sender := src.Start(toolArgs("e2e-mcsend", "-if", "eth0", "-groups", group, "-pps", "200")...)
	defer sender.Stop()
	recv := rcv.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", ssmSource)...)
	defer recv.Stop()

	packets := func() uint64 {
		rt, _ := r2.route(t, ssmSource, group)
		return rt.Packets
	}
	waitUntil(t, 10*time.Second, "traffic through both routers", func() bool { return packets() > 50 })

	r1n.MustRun(t, "ip", "link", "set", "eth1", "down")
	waitUntil(t, 5*time.Second, "r1 to stop using eth1", func() bool {
		rt, ok := r1.route(t, ssmSource, group)
		return !ok || !slices.Contains(rt.OIFs, "eth1")
	})
	before := packets()
	time.Sleep(500 * time.Millisecond)
	if after := packets(); after > before+5 {
		t.Errorf("r2 counted %d packets while r1's link to it was down", after-before)
	}

	r1n.MustRun(t, "ip", "link", "set", "eth1", "up")
	up := time.Now()
	base := packets()
	waitUntil(t, 20*time.Second, "forwarding to resume after the link came back", func() bool { return packets() > base+50 })
	t.Logf("forwarding resumed %v after link up", time.Since(up).Round(10*time.Millisecond))
	if rt, ok := r1.route(t, ssmSource, group); !ok || !slices.Equal(rt.OIFs, []string{"eth1"}) {
		t.Errorf("r1 route after the flap = %+v, want oifs [eth1]", rt)
	}
}

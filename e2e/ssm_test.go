package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/api"
)

const (
	ssmSource = "2001:db8:1::2"
	ssmGroup  = "ff3e::4321:1234" // ssmping's group
)

// TestSSMPingThroughTwoRouters is the milestone: a receiver's ssmping gets
// multicast replies through two pim6d routers running on their embedded
// default configuration, with end hosts keeping their checksum offload on,
// and pim6stat on both routers shows the (S,G) state that makes it happen.
func TestSSMPingThroughTwoRouters(t *testing.T) {
	l := buildLab(t, "ssm-demo.yaml")
	src, r1n, r2n, rcv := l.Node("src"), l.Node("r1"), l.Node("r2"), l.Node("rcv")
	r1 := startPim6d(t, r1n, "--forwarder-priority", "10") // one router with real-time forwarder threads
	r2 := startPim6d(t, r2n)
	src.Start("ssmpingd")

	// PIM adjacency first (Hello, RFC 7761 §4.3.1): r2's join must have a neighbour to go to.
	waitUntil(t, 10*time.Second, "r1 and r2 to become PIM neighbours", func() bool {
		return len(r1.snapshot(t).Neighbors) == 1 && len(r2.snapshot(t).Neighbors) == 1
	})

	ping := rcv.Start("ssmping", "-6", "-c", "10", ssmSource)

	// While ssmping runs, both routers hold the (S,G) that carries it: r2 for
	// its local listener (MLD), r1 for r2's Join (RFC 7761 §4.5).
	var r1Route, r2Route api.Route
	waitUntil(t, 10*time.Second, "(S,G) state on both routers", func() bool {
		var ok1, ok2 bool
		r1Route, ok1 = r1.route(t, ssmSource, ssmGroup)
		r2Route, ok2 = r2.route(t, ssmSource, ssmGroup)
		return ok1 && ok2 && len(r1Route.OIFs) == 1 && len(r2Route.OIFs) == 1
	})
	if r2Route.IIF != "eth0" || r2Route.OIFs[0] != "eth1" || !slices.Contains(r2Route.Leaves, "eth1") {
		t.Errorf("r2 route = iif %q oifs %v leaves %v; want iif eth0, oif eth1 from a local listener", r2Route.IIF, r2Route.OIFs, r2Route.Leaves)
	}
	if r1Route.IIF != "eth0" || r1Route.OIFs[0] != "eth1" || !slices.Contains(r1Route.Joined, "eth1") {
		t.Errorf("r1 route = iif %q oifs %v joined %v; want iif eth0, oif eth1 joined by r2", r1Route.IIF, r1Route.OIFs, r1Route.Joined)
	}
	// The receiver's kernel also reports its link-scoped groups (solicited-node
	// and the like); the one that matters is ssmping's (S,G).
	var ssmGroups []api.Group
	for _, g := range r2.snapshot(t).Groups {
		if g.Group == ssmGroup {
			ssmGroups = append(ssmGroups, g)
		}
	}
	if len(ssmGroups) != 1 || ssmGroups[0].Interface != "eth1" || ssmGroups[0].Mode != api.ModeInclude || !slices.Equal(ssmGroups[0].Sources, []string{ssmSource}) {
		t.Errorf("r2 MLD state for %s = %+v, want one entry on eth1, INCLUDE {%s}", ssmGroup, ssmGroups, ssmSource)
	}
	// pim6stat shows why: the classic layout, one character per mif.
	report := r1.pim6stat(t)
	for _, want := range []string{"Multicast Routing Table", ssmSource, ssmGroup, "Joined   oifs: .j", "Outgoing oifs: .o", "Incoming     : I."} {
		if !strings.Contains(strings.Join(strings.Fields(report), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("pim6stat on r1 lacks %q:\n%s", want, report)
		}
	}
	// pim6stat -s counts it: on r2 one MLD source record (ssmping's; the
	// receiver's link-scoped groups have none) and one PIM entry.
	summary := strings.Join(strings.Fields(r2.pim6stat(t, "-s")), " ")
	for _, want := range []string{"sources: 1", "Routing entries: 1"} {
		if !strings.Contains(summary, want) {
			t.Errorf("pim6stat -s on r2 lacks %q: %s", want, summary)
		}
	}

	if err := ping.Wait(30 * time.Second); err != nil {
		t.Fatalf("ssmping: %v\n%s", err, ping.Output())
	}
	out := ping.Output()
	t.Logf("ssmping:\n%s", out)
	mcast := regexp.MustCompile(`(?m)^\s*multicast from `+regexp.QuoteMeta(ssmSource)).FindAllString(out, -1)
	// The first probe's multicast reply may race the join; every later one must arrive.
	if len(mcast) < 9 {
		t.Errorf("ssmping saw %d multicast replies, want at least 9 of 10", len(mcast))
	}
	for _, r := range []*router{r1, r2} {
		if rt, ok := r.route(t, ssmSource, ssmGroup); !ok || rt.Packets < 9 {
			t.Errorf("%s forwarded %d packets on the (S,G) route, want >= 9", r.node.Label(), rt.Packets)
		}
	}

	// After ssmping leaves, the state times out on both routers: MLD's last
	// listener query (RFC 3810 §7.4.2), then r2's Prune to r1 (RFC 7761 §4.5.3).
	waitUntil(t, 20*time.Second, "the (S,G) state to go away on both routers", func() bool {
		_, ok1 := r1.route(t, ssmSource, ssmGroup)
		_, ok2 := r2.route(t, ssmSource, ssmGroup)
		return !ok1 && !ok2
	})
}

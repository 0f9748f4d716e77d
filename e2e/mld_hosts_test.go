package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/pim6d/pim6d/api"
)

// With the default configuration: Last Listener Query Time = Last Listener
// Query Interval × Last Listener Query Count = 1 s × 2 (RFC 3810 §9.8, §9.9).
const (
	defaultLLQI = time.Second
	defaultLLQT = 2 * time.Second
)

// TestMLDv2HostSourceJoinShowsIncludeAndLeaveEndsItWithinLastListenerQueryTime:
// a Linux host joins (S,G) through the kernel's MLDv2 stack, and pim6d's state
// shows the group in INCLUDE {S} in MLDv2 mode; when the host leaves, pim6d
// queries and drops the state after the Last Listener Query Time
// (RFC 3810 §7.4.2: BLOCK(B) in INCLUDE(A) sets B's timers to LLQT), neither
// at once nor much later.
func TestMLDv2HostSourceJoinShowsIncludeAndLeaveEndsItWithinLastListenerQueryTime(t *testing.T) {
	t.Parallel()
	const group, source = "ff3e::4321:99", "2001:db8:1::2"
	l := buildLab(t, "mld-lan.yaml")
	r1 := startPim6d(t, l.Node("r1"))
	h1 := l.Node("h1")

	join := h1.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", source)...)
	var g api.Group
	waitUntil(t, 5*time.Second, "r1 to learn h1's ("+source+","+group+") join", func() bool {
		var ok bool
		g, ok = groupOn(t, r1, "lan0", group)
		return ok
	})
	if g.Mode != api.ModeInclude || !slices.Equal(g.Sources, []string{source}) || g.Version != 2 {
		t.Errorf("r1 group %s = mode %s sources %v version %d, want include [%s] version 2", group, g.Mode, g.Sources, g.Version, source)
	}

	left := time.Now()
	join.Signal(syscall.SIGINT) // the tool leaves (S,G); the kernel reports BLOCK_OLD_SOURCES
	if err := join.Wait(5 * time.Second); err != nil {
		t.Fatalf("join tool: %v\n%s", err, join.Output())
	}
	waitUntil(t, defaultLLQT+3*time.Second, "r1 to drop "+group+" after h1 left", func() bool {
		_, ok := groupOn(t, r1, "lan0", group)
		return !ok
	})
	gone := time.Since(left)
	t.Logf("state gone %v after the leave (Last Listener Query Time %v)", gone.Round(10*time.Millisecond), defaultLLQT)
	if gone < defaultLLQI || gone > defaultLLQT+time.Second {
		t.Errorf("state gone %v after the leave, want the Last Listener Query Time %v (+1 s), and not before one query interval %v", gone, defaultLLQT, defaultLLQI)
	}
}

// TestMLDv1HostPutsASMGroupInCompatibilityMode: a Linux host forced to MLDv1
// (sysctl force_mld_version=1) joins an any-source group; its MLDv1 Report
// puts that group in MLDv1 compatibility mode in pim6d (RFC 3810 §8.3.2),
// while a group joined by an MLDv2 host on the same LAN stays in v2 mode.
func TestMLDv1HostPutsASMGroupInCompatibilityMode(t *testing.T) {
	t.Parallel()
	const v1Group, v2Group = "ff1e::1234", "ff1e::5678"
	l := buildLab(t, "mld-lan.yaml")
	r1 := startPim6d(t, l.Node("r1"))
	h1, h2 := l.Node("h1"), l.Node("h2")
	h2.Sysctl("net.ipv6.conf.eth0.force_mld_version", "1")

	h2.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", v1Group)...)
	h1.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", v2Group)...)
	var g1, g2 api.Group
	waitUntil(t, 5*time.Second, "r1 to learn both joins", func() bool {
		var ok1, ok2 bool
		g1, ok1 = groupOn(t, r1, "lan0", v1Group)
		g2, ok2 = groupOn(t, r1, "lan0", v2Group)
		return ok1 && ok2
	})
	if g1.Version != 1 || g1.Mode != api.ModeExclude || g1.CompatTimer <= 0 {
		t.Errorf("r1 group %s (MLDv1 host) = version %d mode %s compat timer %v, want version 1, exclude, a running Older Version Host Present timer", v1Group, g1.Version, g1.Mode, g1.CompatTimer)
	}
	if g2.Version != 2 || g2.Mode != api.ModeExclude {
		t.Errorf("r1 group %s (MLDv2 host) = version %d mode %s, want version 2, exclude", v2Group, g2.Version, g2.Mode)
	}
}

func groupOn(t *testing.T, r *router, ifname, group string) (api.Group, bool) {
	t.Helper()
	for _, g := range r.snapshot(t).Groups {
		if g.Interface == ifname && g.Group == group {
			return g, true
		}
	}
	return api.Group{}, false
}

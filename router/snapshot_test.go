package router

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim"
	"github.com/pim6d/pim6d/stack"
)

// A snapshot is copied on the event loop and built later, off it (the
// daemon builds while the loop goes on with the protocols). What is built
// must be the state at the capture, whatever the Core did meanwhile, and
// building must not read the Core's live state (run under -race: the build
// runs concurrently with the Core taking in more joins).
func TestSnapshotIsBuiltFromTheCaptureNotTheLiveState(t *testing.T) {
	l, r, h := sourceRouterHost(t, nil)
	s := netip.MustParseAddr("2001:db8:1::2")
	g1, g2 := netip.MustParseAddr("ff3e::1"), netip.MustParseAddr("ff3e::2")
	h.join(s, g1)
	l.run(time.Second)

	build := r.core.CaptureSnapshot(l.now(), nil, nil)
	var snap *api.Snapshot
	var wg sync.WaitGroup
	wg.Go(func() { snap = build() })
	h.join(s, g2) // the Core changes while the snapshot is built
	l.run(time.Second)
	wg.Wait()

	groups := func(sn *api.Snapshot) (gs []string) {
		for _, g := range sn.Groups {
			gs = append(gs, g.Group)
		}
		return gs
	}
	routes := func(sn *api.Snapshot) (rs []string) {
		for _, rt := range sn.Routes {
			rs = append(rs, rt.Group)
		}
		return rs
	}
	if gs := groups(snap); !slices.Equal(gs, []string{g1.String()}) {
		t.Errorf("groups in the snapshot captured before %v was joined = %v, want only %v", g2, gs, g1)
	}
	if rs := routes(snap); !slices.Equal(rs, []string{g1.String()}) {
		t.Errorf("routes in the snapshot captured before %v was joined = %v, want only %v", g2, rs, g1)
	}
	if rs := routes(r.core.Snapshot(l.now())); !slices.Equal(rs, []string{g1.String(), g2.String()}) {
		t.Errorf("routes in a fresh snapshot = %v, want %v and %v", rs, g1, g2)
	}
}

// Sections not asked for cost nothing: a snapshot of the interfaces alone
// carries no groups, routes or timers, so pim6stat -i on a router with
// 100,000 (S,G) does not pay for them.
func TestSnapshotOfOneSectionLeavesTheOthersEmpty(t *testing.T) {
	l, r, h := sourceRouterHost(t, nil)
	h.join(netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("ff3e::1"))
	l.run(time.Second)

	sn := r.core.CaptureSnapshot(l.now(), func(s api.Section) bool { return s == api.SectionInterfaces }, nil)()
	if len(sn.Interfaces) != 2 {
		t.Errorf("interfaces = %d, want 2", len(sn.Interfaces))
	}
	if len(sn.Groups) != 0 || len(sn.Routes) != 0 || len(sn.Timers) != 0 {
		t.Errorf("interfaces-only snapshot has %d groups, %d routes, %d timers; want none", len(sn.Groups), len(sn.Routes), len(sn.Timers))
	}
	full := r.core.Snapshot(l.now())
	if len(full.Groups) != 1 || len(full.Routes) != 1 || len(full.Timers) == 0 {
		t.Errorf("full snapshot: %d groups, %d routes, %d timers; want 1, 1, some", len(full.Groups), len(full.Routes), len(full.Timers))
	}
}

// The summary counts what the listing sections list, and asking for it
// alone copies nothing on the event loop and allocates no snapshot space
// (pim6bench polls it while 50,000 joins come in).
func TestSnapshotSummaryCountsTheStateWithoutCopyingIt(t *testing.T) {
	l, r, h := sourceRouterHost(t, nil)
	s1, s2 := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("2001:db8:1::3")
	h.join(s1, netip.MustParseAddr("ff3e::1"))
	h.join(s2, netip.MustParseAddr("ff3e::1"))
	h.join(s1, netip.MustParseAddr("ff3e::2"))
	l.run(time.Second)

	full := r.core.Snapshot(l.now())
	sources := 0
	for _, g := range full.Groups {
		sources += len(g.Sources)
	}
	installed := 0
	for _, rt := range full.Routes {
		if slices.Contains(rt.Flags, api.RouteCache) {
			installed++
		}
	}
	want := api.Summary{Groups: len(full.Groups), Sources: sources, Routes: len(full.Routes), Installed: installed}
	if want != (api.Summary{Groups: 2, Sources: 3, Routes: 3, Installed: 3}) {
		t.Fatalf("full snapshot lists %+v, want 2 groups, 3 sources, 3 routes, all 3 in the table", want)
	}
	if full.Summary != want {
		t.Errorf("full snapshot's summary = %+v, want %+v", full.Summary, want)
	}
	if n := r.core.StateEntries(); n != 2+3+3 {
		t.Errorf("StateEntries = %d, want 8 (2 groups, 3 sources, 3 routes)", n)
	}
	only := func(s api.Section) bool { return s == api.SectionSummary }
	if sp := r.core.SnapshotSpace(only)(); sp != nil {
		t.Errorf("space prepared for a summary-only snapshot: %T, want none", sp)
	}
	sn := r.core.CaptureSnapshot(l.now(), only, nil)()
	if sn.Summary != want {
		t.Errorf("summary-only snapshot = %+v, want %+v", sn.Summary, want)
	}
	if len(sn.Groups) != 0 || len(sn.Routes) != 0 || len(sn.Interfaces) != 0 || len(sn.Timers) != 0 {
		t.Errorf("summary-only snapshot lists %d groups, %d routes, %d interfaces, %d timers; want none",
			len(sn.Groups), len(sn.Routes), len(sn.Interfaces), len(sn.Timers))
	}
	noSummary := r.core.CaptureSnapshot(l.now(), func(s api.Section) bool { return s == api.SectionRoutes }, nil)()
	if noSummary.Summary != (api.Summary{}) {
		t.Errorf("routes-only snapshot carries a summary %+v", noSummary.Summary)
	}
}

// An (S,G) entry that holds only (S,G,rpt) state (pim.FlagRPT) is shown as
// pim6sd showed it: an sg_rpt entry with the RP flag (iif toward the RP),
// and the interfaces where S was pruned off the shared tree listed as pruned.
func TestSnapshotShowsSGRptEntries(t *testing.T) {
	s, g := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("ff1e::1")
	cp := &snapshotCapture{
		now: simT0, want: func(api.Section) bool { return true }, table: stack.NewTable(),
		names: map[int]string{2: "eth0", 3: "eth1", 4: "eth2"},
		pim: pim.Snapshot{Routes: []pim.RouteState{
			{Source: netip.IPv6Unspecified(), Group: g, IIF: 2, OIFs: []int{3, 4}, Joined: []int{3, 4}},
			{Source: s, Group: g, IIF: 2, OIFs: []int{4}, RptPruned: []int{3}, Flags: pim.FlagRPT},
		}},
	}
	sn := cp.build()
	if len(sn.Routes) != 2 {
		t.Fatalf("routes = %d, want 2", len(sn.Routes))
	}
	wc, rpt := sn.Routes[0], sn.Routes[1]
	if wc.Kind != api.KindG || !slices.Contains(wc.Flags, api.RouteWC) {
		t.Errorf("(*,G) shown as kind %q flags %v, want %q with WC", wc.Kind, wc.Flags, api.KindG)
	}
	if rpt.Kind != api.KindSGRpt || !slices.Contains(rpt.Flags, api.RouteRP) || slices.Contains(rpt.Flags, api.RouteSPT) {
		t.Errorf("(S,G,rpt) shown as kind %q flags %v, want %q with RP and without SPT", rpt.Kind, rpt.Flags, api.KindSGRpt)
	}
	if !slices.Equal(rpt.Pruned, []string{"eth1"}) || !slices.Equal(rpt.OIFs, []string{"eth2"}) {
		t.Errorf("(S,G,rpt) pruned %v oifs %v, want [eth1] and [eth2]", rpt.Pruned, rpt.OIFs)
	}
}

// Static RPs from the configuration reach PIM (RFC 7761 §4.7: RP(G) for
// the (*,G) machines) and pim6stat's RP-set: a host's any-source join of a
// group the RP serves makes a (*,G) entry whose iif is toward the RP, and
// the RP-set lists the RP with its group range and the interface toward it.
func TestStaticRPReachesPIMAndTheRPSet(t *testing.T) {
	rpAddr := netip.MustParseAddr("2001:db8:1::99")
	l, r, h := sourceRouterHost(t, func(cfg *config.Config) {
		cfg.StaticRP = []config.StaticRP{{Address: rpAddr, Groups: []netip.Prefix{netip.MustParsePrefix("ff1e::/16")}}}
	})
	g := netip.MustParseAddr("ff1e::77")
	h.send(mld.Record{Type: mld.ChangeToExclude, Group: g}) // any source
	l.run(time.Second)

	sn := r.core.Snapshot(l.now())
	if len(sn.RPSet) != 1 || sn.RPSet[0].Address != rpAddr.String() || sn.RPSet[0].Origin != "static" ||
		len(sn.RPSet[0].Groups) != 1 || sn.RPSet[0].Groups[0].Prefix != "ff1e::/16" || sn.RPSet[0].Interface != "eth0" {
		t.Errorf("RP-set = %+v, want %v static for ff1e::/16 via eth0", sn.RPSet, rpAddr)
	}
	var wc *api.Route
	for i := range sn.Routes {
		if sn.Routes[i].Group == g.String() && sn.Routes[i].Kind == api.KindG {
			wc = &sn.Routes[i]
		}
	}
	if wc == nil || wc.IIF != "eth0" || !slices.Contains(wc.OIFs, "eth1") {
		t.Errorf("(*,%v) = %+v, want iif eth0 (toward the RP) and oif eth1 (the listener)", g, wc)
	}
}

// The daemon sizes a snapshot's space on the event loop, allocates it off the
// loop and captures into it; state can grow in between. Whatever the space,
// the snapshot is the same as one the capture allocates itself.
func TestSnapshotIntoPreparedSpaceEqualsPlainSnapshot(t *testing.T) {
	l, r, h := sourceRouterHost(t, nil)
	s := netip.MustParseAddr("2001:db8:1::2")
	join := func(from, to int) {
		for i := from; i < to; i++ {
			h.join(s, netip.AddrFrom16([16]byte{0xff, 0x3e, 14: byte(i >> 8), 15: byte(i)}))
		}
		l.run(time.Second)
	}
	join(1, 50)
	alloc := r.core.SnapshotSpace(nil) // sized for 49 (S,G)
	join(50, 120)                      // grows before the capture
	space := alloc()
	got := r.core.CaptureSnapshot(l.now(), nil, space)()
	want := r.core.CaptureSnapshot(l.now(), nil, nil)()
	if len(got.Routes) != 119 || len(got.Groups) != 119 {
		t.Fatalf("snapshot into a space sized for 49 entries has %d routes and %d groups, want 119", len(got.Routes), len(got.Groups))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot into prepared space differs (-plain +into space):\n%s", diff)
	}
	// Sized right: the same again.
	got = r.core.CaptureSnapshot(l.now(), nil, r.core.SnapshotSpace(nil)())()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot into a right-sized space differs (-plain +into space):\n%s", diff)
	}
}

// sourceRouterHost is the lab of these tests, running for a second: r1 with
// eth0 on the sources' subnet (2001:db8:1::/64, where src is) and eth1 on a
// LAN with the host h1. configure, if not nil, changes r1's configuration
// before it starts.
func sourceRouterHost(t *testing.T, configure func(*config.Config)) (*lab, *coreRunner, *host) {
	t.Helper()
	l := newLab(t)
	r := l.addRouter("r1", "s0", "lan")
	l.addHost("src", "s0", "2001:db8:1::2/64")
	h := l.addHost("h1", "lan", "")
	l.addAddr(r.node, "eth0", "2001:db8:1::1/64")
	if configure != nil {
		configure(r.cfg)
	}
	l.start()
	l.run(time.Second)
	return l, r, h
}

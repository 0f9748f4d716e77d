// Package apitest holds deterministic snapshots for tests of the control API,
// pim6stat and the UI.
package apitest

import (
	"net/netip"
	"time"

	"github.com/pim6d/pim6d/api"
)

// TakenAt is the time every sample snapshot claims to have been taken at.
var TakenAt = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func u32(v uint32) *uint32 { return &v }

// Sample returns a small router's state: four mifs (eth0 upstream toward the
// sources, eth1 with MLD listeners, eth2 with a downstream PIM router, and the
// register mif), two neighbours (one with secondary addresses, one the DR of
// its link), an SSM (S,G) with a local listener, a (*,G) with an RP and an
// (S,G) under it, an (S,G,rpt) prune, a (*,*,RP), MLDv1 and MLDv2 groups, an
// RP-set from a BSR, and pending timers.
func Sample() *api.Snapshot {
	return &api.Snapshot{
		Version:  api.Version,
		Daemon:   "pim6d test",
		TakenAt:  TakenAt,
		Sections: api.AllSections,
		Interfaces: []api.Interface{
			{
				Name: "eth0", Index: 0, IfIndex: 2,
				Addresses:  []string{"fe80::213:72ff:fe3b:c1fb/64", "2001:db8:1000::1/64"},
				GenID:      0x1a2b3c4d,
				DRPriority: 1,
				DR:         "fe80::2000:1",
				Flags:      []string{api.IfPIM, api.IfQuerier},
				HelloTimer: 15, QueryTimer: 110,
				MLDVersions: []int{1, 2},
			},
			{
				Name: "eth1", Index: 1, IfIndex: 3,
				Addresses:  []string{"fe80::213:72ff:fe3b:c1fc/64", "2001:db8:fffe::2/64"},
				GenID:      0x5e6f7081,
				DRPriority: 1,
				DR:         "fe80::213:72ff:fe3b:c1fc",
				Flags:      []string{api.IfQuerier, api.IfNoNeighbor, api.IfDR},
				HelloTimer: 7.5, QueryTimer: 63,
				MLDVersions: []int{1, 2},
			},
			{
				Name: "eth2", Index: 2, IfIndex: 4,
				Addresses:  []string{"fe80::213:72ff:fe3b:c1fd/64", "2001:db8:2::1/64"},
				GenID:      0x0badcafe,
				DRPriority: 10,
				DR:         "fe80::213:72ff:fe3b:c1fd",
				Flags:      []string{api.IfPIM, api.IfDR},
				HelloTimer: 29, QueryTimer: 0,
				MLDVersions: []int{2},
			},
			{
				Name: "pimreg", Index: 3, IfIndex: 5,
				Addresses:   []string{"fe80::213:72ff:fe3b:c1fb/64"},
				Flags:       []string{api.IfRegister},
				MLDVersions: []int{},
			},
		},
		Neighbors: []api.Neighbor{
			{
				Interface: "eth0", Address: "fe80::2000:1",
				Secondary:  []string{"2001:db8:1000::2000:1", "2001:db8:1001::1"},
				DRPriority: u32(100), GenID: u32(0xdeadbeef),
				Holdtime: 105, Expires: 90, Uptime: 3600, DR: true,
			},
			{
				Interface: "eth2", Address: "fe80::2:2",
				Secondary: []string{"2001:db8:2::2"},
				GenID:     u32(0x12345678),
				Holdtime:  105, Expires: 100.2, Uptime: 42,
			},
		},
		Queriers: []api.Querier{
			{Interface: "eth0", Address: "fe80::213:72ff:fe3b:c1fb", Self: true, Version: 2, Timer: 0, Last: 46},
			{Interface: "eth1", Address: "fe80::213:72ff:fe3b:c1fc", Self: true, Version: 2, Timer: 0, Last: 3725},
			{Interface: "eth2", Address: "fe80::1:1", Version: 2, Timer: 254.5, Last: 90061},
		},
		Groups: []api.Group{
			{
				Interface: "eth1", Group: "ff3e::4321:1234", Mode: api.ModeInclude, Version: 2,
				Sources:      []string{"2001:db8:1000::10"},
				SourceTimers: map[string]api.Seconds{"2001:db8:1000::10": 254},
				Uptime:       120, LastReporter: "fe80::a:1",
			},
			{
				Interface: "eth1", Group: "ff0e::1", Mode: api.ModeExclude, Version: 1,
				Timer: 259.5, CompatTimer: 259.5,
				Uptime: 30, LastReporter: "fe80::a:2",
			},
			{
				Interface: "eth1", Group: "ff0e::2", Mode: api.ModeExclude, Version: 2,
				Timer:        200,
				Sources:      []string{"2001:db8:6::6"},
				SourceTimers: map[string]api.Seconds{"2001:db8:6::6": 0},
				Uptime:       300, LastReporter: "fe80::a:3",
			},
		},
		Routes: []api.Route{
			{
				Kind: api.KindSG, Source: "2001:db8:1000::10", Group: "ff3e::4321:1234",
				IIF: "eth0", Upstream: "fe80::2000:1",
				OIFs:    []string{"eth1"},
				Flags:   []string{api.RouteSPT, api.RouteCache, api.RouteSG},
				Packets: 1234, Bytes: 123400,
				Leaves:     []string{"eth1"},
				EntryTimer: 210, JoinPruneTimer: 60,
			},
			{
				Kind: api.KindG, Source: "::", Group: "ff0e::1", RP: "2001:db8:1000::2000:1",
				IIF: "eth0", Upstream: "fe80::2000:1",
				OIFs:    []string{"eth1", "eth2"},
				Flags:   []string{api.RouteWC, api.RouteRP, api.RouteCache},
				Packets: 10, Bytes: 1000,
				Joined: []string{"eth2"}, Leaves: []string{"eth1"},
				JoinPruneTimer: 37,
				OIFTimers:      map[string]api.Seconds{"eth2": 185},
			},
			{
				Kind: api.KindSG, Source: "2001:db8:3::3", Group: "ff0e::1", RP: "2001:db8:1000::2000:1",
				IIF: "eth0", Upstream: "fe80::2000:1",
				OIFs:    []string{"eth1"},
				Flags:   []string{api.RouteSPT, api.RouteCache, api.RouteAsserted, api.RouteSG},
				Packets: 99, Bytes: 9900,
				Joined: []string{"eth2"}, Leaves: []string{"eth1"}, Asserted: []string{"eth2"},
				EntryTimer: 180, JoinPruneTimer: 37, AssertTimer: 177,
				OIFTimers: map[string]api.Seconds{"eth2": 185},
			},
			{
				Kind: api.KindSGRpt, Source: "2001:db8:4::4", Group: "ff0e::1", RP: "2001:db8:1000::2000:1",
				IIF: "eth0", Upstream: "fe80::2000:1",
				OIFs:      []string{"eth1"},
				Flags:     []string{api.RouteRP},
				Pruned:    []string{"eth2"},
				OIFTimers: map[string]api.Seconds{"eth2": 200},
			},
			{
				Kind: api.KindRP, Source: "::", Group: "::", RP: "2001:db8:1000::2000:1",
				IIF: "eth0", Upstream: "fe80::2000:1",
				Flags:          []string{api.RouteRP},
				JoinPruneTimer: 12,
			},
		},
		RPSet: []api.RP{
			{
				Address: "2001:db8:1000::2000:1", Upstream: "fe80::2000:1", Interface: "eth0", Origin: "bsr",
				Groups: []api.RPGroup{
					{Prefix: "ff00::/8", Priority: 0, Hold: 150, Expires: 145},
					{Prefix: "ff0e::/16", Priority: 10, Hold: 150, Expires: 145},
				},
			},
			{
				Address: "2001:db8:fffe::2", Self: true, Origin: "static",
				Groups: []api.RPGroup{{Prefix: "ff05::/16", Priority: 1}},
			},
		},
		BSR: &api.BSR{Address: "2001:db8:1000::2000:1", Priority: 0, HashMaskLen: 126, Timeout: 25},
		Timers: []api.Timer{
			{ID: 20, Name: "pim hello eth1", Expires: 7.5},
			{ID: 21, Name: "pim hello eth0", Expires: 15},
			{ID: 19, Name: "mld source ff3e::4321:1234 2001:db8:1000::10 eth1", Expires: 254},
		},
		Summary: api.Summary{Groups: 3, Sources: 2, Routes: 4, Installed: 3},
	}
}

// ManySG returns a snapshot with the interfaces of Sample and n (S,G) entries
// (sources 2001:db8:a::/64, groups ff3e::/96), each with a listener on eth1,
// for measuring the cost of a large snapshot.
func ManySG(n int) *api.Snapshot {
	s := Sample()
	s.Routes = make([]api.Route, 0, n)
	src := netip.MustParseAddr("2001:db8:a::1").As16()
	grp := netip.MustParseAddr("ff3e::8000:0").As16()
	for i := range n {
		src[14], src[15] = byte(i>>8), byte(i)
		grp[13], grp[14], grp[15] = byte(i>>16), byte(i>>8), byte(i)
		s.Routes = append(s.Routes, api.Route{
			Kind:   api.KindSG,
			Source: netip.AddrFrom16(src).String(), Group: netip.AddrFrom16(grp).String(),
			IIF: "eth0", Upstream: "fe80::2000:1",
			OIFs:    []string{"eth1", "eth2"},
			Flags:   []string{api.RouteSPT, api.RouteCache, api.RouteSG},
			Packets: uint64(i) * 10, Bytes: uint64(i) * 10 * 1200,
			Joined: []string{"eth2"}, Leaves: []string{"eth1"},
			EntryTimer: 210, JoinPruneTimer: 60,
			OIFTimers: map[string]api.Seconds{"eth2": 185},
		})
	}
	return s
}

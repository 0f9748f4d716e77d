package report_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
	"github.com/pim6d/pim6d/api/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func render(t *testing.T, s *api.Snapshot, sections []api.Section) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, s, sections); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run go test -update to create it): %v", path, err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("report differs from %s (-want +got):\n%s", path, diff)
	}
}

// wideSnapshot has 12 mifs, so the per-mif timer grid needs two rows and the
// oif strings are 12 characters long.
func wideSnapshot() *api.Snapshot {
	s := &api.Snapshot{Version: api.Version, TakenAt: apitest.TakenAt}
	for i := range 12 {
		name := fmt.Sprintf("vlan%d", 100+i)
		s.Interfaces = append(s.Interfaces, api.Interface{
			Name: name, Index: i, IfIndex: 10 + i,
			Addresses:  []string{fmt.Sprintf("fe80::%x/64", i+1)},
			Flags:      []string{api.IfDR, api.IfQuerier, api.IfNoNeighbor}, // not in canonical order
			HelloTimer: 30, QueryTimer: 125, MLDVersions: []int{2},
		})
	}
	s.Routes = []api.Route{{
		Kind: api.KindSG, Source: "2001:db8::1", Group: "ff3e::1",
		IIF: "vlan100", OIFs: []string{"vlan101", "vlan111"},
		Flags:      []string{api.RouteSG, api.RouteSPT}, // not in canonical order
		Joined:     []string{"vlan101", "vlan111"},
		OIFTimers:  map[string]api.Seconds{"vlan101": 200, "vlan111": 199.2},
		EntryTimer: 210,
	}}
	return s
}

func TestReportGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snap     *api.Snapshot
		sections []api.Section
	}{
		{"classic", apitest.Sample(), nil},
		{"interfaces", apitest.Sample(), []api.Section{api.SectionInterfaces}},
		{"neighbors", apitest.Sample(), []api.Section{api.SectionNeighbors}},
		{"queriers", apitest.Sample(), []api.Section{api.SectionQueriers}},
		{"groups", apitest.Sample(), []api.Section{api.SectionGroups}},
		{"routes", apitest.Sample(), []api.Section{api.SectionRoutes}},
		{"rp_set", apitest.Sample(), []api.Section{api.SectionRPSet, api.SectionBSR}},
		{"timers", apitest.Sample(), []api.Section{api.SectionTimers}},
		{"summary", apitest.Sample(), []api.Section{api.SectionSummary}},
		{"empty", &api.Snapshot{}, nil},
		{"wide", wideSnapshot(), []api.Section{api.SectionInterfaces, api.SectionRoutes}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name, render(t, tc.snap, tc.sections))
		})
	}
}

// TestReportLines checks the lines an operator reads first, independently of
// the golden files, so a wrong -update cannot bless a broken layout.
func TestReportLines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snap     *api.Snapshot
		sections []api.Section
		want     []string // consecutive lines, in order
	}{
		{"SSM (S,G) with a listener on mif 1 of 4", apitest.Sample(), []api.Section{api.SectionRoutes}, []string{
			"---------------------------(S,G)----------------------------",
			" 2001:db8:1000::10 ff3e::4321:1234 NULL            SPT CACHE SG",
			"Joined   oifs: ....",
			"Pruned   oifs: ....",
			"Leaves   oifs: .l..",
			"Asserted oifs: ....",
			"Outgoing oifs: .o..",
			"Incoming     : I...",
			"Upstream nbr: fe80::2000:1",
			"",
			"TIMERS: Entry=210 JP=60 RS=0 Assert=0",
			"  MIF   0   1   2   3   4   5   6   7   8   9",
			"    0   0   0   0   0",
		}},
		{"(*,G) with an RP", apitest.Sample(), []api.Section{api.SectionRoutes}, []string{
			"---------------------------(*,G)----------------------------",
			" IN6ADDR_ANY     ff0e::1         2001:db8:1000::2000:1 WC RP CACHE",
			"Joined   oifs: ..j.",
		}},
		{"summary counts", apitest.Sample(), []api.Section{api.SectionSummary}, []string{
			"--------------------State Summary-----------------------",
			"MLD groups: 3, sources: 2",
			"Routing entries: 4, forwarding routes in the table: 3",
		}},
		{"route totals", apitest.Sample(), []api.Section{api.SectionRoutes}, []string{
			"Number of Groups: 2",
			"Number of Cache MIRRORs: 3",
		}},
		{"neighbour with secondary addresses, the DR", apitest.Sample(), []api.Section{api.SectionNeighbors}, []string{
			" 0     eth0 fe80::2000:1                             90    100  deadbeef D",
			"                2001:db8:1000::2000:1",
			"                2001:db8:1001::1",
		}},
		{"neighbour without DR priority", apitest.Sample(), []api.Section{api.SectionNeighbors}, []string{
			" 2     eth2 fe80::2:2                                101   -    12345678",
		}},
		{"interface flags, continuation rows", apitest.Sample(), []api.Section{api.SectionInterfaces}, []string{
			"  1     eth1 fe80::213:72ff:fe3b:c1fc/64                 3     5e6f7081 QRY NO-NBR DR",
			"             2001:db8:fffe::2/64                         0",
			"             Timers: PIM hello = 0:08, MLD query = 1:03",
			"             possible MLD version = 1 2",
		}},
		{"register mif", apitest.Sample(), []api.Section{api.SectionInterfaces}, []string{
			"  3   regist fe80::213:72ff:fe3b:c1fb/64                 5     0        REGISTER",
			"             Timers: PIM hello = 0:00, MLD query = 0:00",
		}},
		{"MLDv1 and MLDv2 groups", apitest.Sample(), []api.Section{api.SectionGroups}, []string{
			" 1     eth1 ff0e::1 (260 (v1 EX 260))",
			"              (any source) (-)",
			" 1     eth1 ff0e::2 (200 (v2 EX 0))",
			"              2001:db8:6::6 (0)",
			" 1     eth1 ff3e::4321:1234 (0 (v2 IN 0))",
			"              2001:db8:1000::10 (254)",
		}},
		{"RP-set", apitest.Sample(), []api.Section{api.SectionRPSet}, []string{
			"Current BSR address: 2001:db8:1000::2000:1 Prio: 0 Timeout: 25",
			"RP-address(Upstream)/Group prefix             Prio Hold Age",
			"2001:db8:1000::2000:1(fe80::2000:1%eth0)",
			"     ff00::/8                                 0    150  145",
		}},
		{"twelve mifs", wideSnapshot(), []api.Section{api.SectionRoutes}, []string{
			"Joined   oifs: .j.........j",
			"Pruned   oifs: ............",
			"Leaves   oifs: ............",
			"Asserted oifs: ............",
			"Outgoing oifs: .o.........o",
			"Incoming     : I...........",
			"Upstream nbr: NONE",
			"",
			"TIMERS: Entry=210 JP=0 RS=0 Assert=0",
			"  MIF   0   1   2   3   4   5   6   7   8   9",
			"    0   0 200   0   0   0   0   0   0   0   0",
			"    1   0 200",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.snap, tc.sections)
			if !strings.Contains(got, strings.Join(tc.want, "\n")+"\n") {
				t.Errorf("report lacks the lines\n%s\n--- report:\n%s", strings.Join(tc.want, "\n"), got)
			}
		})
	}
}

// TestReportSectionOrder: the classic report has KAME's sections in KAME's
// order.
func TestReportSectionOrder(t *testing.T) {
	got := render(t, apitest.Sample(), nil)
	last := -1
	for _, title := range []string{
		"Multicast Interface Table", "PIM Neighbor List", "MLD Querier List", "Reported MLD Group",
		"Multicast Routing Table", "RP-Set", "CallOut Timer Queue",
	} {
		i := strings.Index(got, title)
		if i < 0 {
			t.Fatalf("classic report has no %q section", title)
		}
		if i < last {
			t.Errorf("section %q comes before the previous one", title)
		}
		last = i
	}
	for i, l := range strings.Split(got, "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d %q has trailing spaces", i+1, l)
		}
	}
}

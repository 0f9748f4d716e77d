package main

import (
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pim6d/pim6d/lab"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim/wire"
)

// TestMLDReportsAreValid checks what mldscale sends: IPv6 with hop limit 1,
// a Router Alert hop-by-hop option and a link-local source, and an MLDv2
// report that parses back with a correct checksum, 39 records of one source.
func TestMLDReportsAreValid(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	pkts := mldReports(100, 39, src)
	if len(pkts) != 3 {
		t.Fatalf("mldReports(100, 39) = %d packets, want 3", len(pkts))
	}
	seen := map[[2]netip.Addr]bool{}
	for i, p := range pkts {
		if p[0]>>4 != 6 || p[6] != 0 || p[7] != 1 {
			t.Fatalf("packet %d: version %d next header %d hop limit %d, want 6, 0 (hop-by-hop), 1", i, p[0]>>4, p[6], p[7])
		}
		if got := p[40+2 : 40+6]; string(got) != "\x05\x02\x00\x00" {
			t.Fatalf("packet %d: hop-by-hop option % x, want Router Alert 05 02 00 00", i, got)
		}
		icmp := p[48:]
		if !mld.VerifyChecksum(src, allMLDv2Routers, icmp) {
			t.Fatalf("packet %d: bad ICMPv6 checksum", i)
		}
		m, err := mld.Parse(icmp)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		rep, ok := m.(*mld.Report)
		if !ok {
			t.Fatalf("packet %d parses as %T, want *mld.Report", i, m)
		}
		if want := min(39, 100-39*i); len(rep.Records) != want {
			t.Errorf("packet %d: %d records, want %d", i, len(rep.Records), want)
		}
		for _, r := range rep.Records {
			if r.Type != mld.AllowNewSources || len(r.Sources) != 1 {
				t.Fatalf("record %v with %d sources, want ALLOW with 1", r.Type, len(r.Sources))
			}
			seen[[2]netip.Addr{r.Sources[0], r.Group}] = true
		}
	}
	if len(seen) != 100 {
		t.Errorf("%d distinct (S,G) in the reports, want 100", len(seen))
	}
}

// TestJoinPruneParses checks a Join/Prune as pimscale builds it.
func TestJoinPruneParses(t *testing.T) {
	self, up := netip.MustParseAddr("fe80::2"), netip.MustParseAddr("fe80::1")
	nb := &pimNeighbor{self: self}
	jp := &wire.JoinPrune{UpstreamNeighbor: up, Holdtime: 210}
	for i := range 32 {
		s, g := scaleSG(i)
		jp.Groups = append(jp.Groups, wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: g, MaskLen: 128},
			Joins: []wire.EncodedSource{{Addr: s, MaskLen: 128, Sparse: true}}})
	}
	b, err := wire.Marshal(nb.self, allPIMRouters, jp)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.Parse(self, allPIMRouters, b)
	if err != nil {
		t.Fatal(err)
	}
	got := m.(*wire.JoinPrune)
	if got.UpstreamNeighbor != up || got.Holdtime != 210 || len(got.Groups) != 32 {
		t.Errorf("parsed J/P = upstream %v holdtime %d groups %d, want %v 210 32", got.UpstreamNeighbor, got.Holdtime, len(got.Groups), up)
	}
}

var (
	scaleBinsOnce  sync.Once
	scaleBinsDir   string
	scaleBinsBuilt scaleBins
	scaleBinsErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if scaleBinsDir != "" {
		os.RemoveAll(scaleBinsDir)
	}
	os.Exit(code)
}

// testBins builds pim6d and pim6stat once per test binary.
func testBins(t *testing.T) scaleBins {
	t.Helper()
	scaleBinsOnce.Do(func() {
		if scaleBinsDir, scaleBinsErr = os.MkdirTemp("", "pim6bench-test-"); scaleBinsErr != nil {
			return
		}
		scaleBinsBuilt, _, scaleBinsErr = buildScaleBinsIn(scaleBinsDir)
	})
	if scaleBinsErr != nil {
		t.Fatal(scaleBinsErr)
	}
	return scaleBinsBuilt
}

// scaleLab builds the scale lab with a real pim6d, skipping unless root.
func scaleLab(t *testing.T, config string) *scaleEnv {
	t.Helper()
	l := lab.New(t)
	e, err := newScaleEnv(l, testBins(t), config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.d.Stop(); os.RemoveAll(e.dir) })
	return e
}

// TestMLDScaleLab runs mldscale's measurement end to end with 500 (S,G):
// every one must reach pim6d's state, and the figures must be sane.
func TestMLDScaleLab(t *testing.T) {
	e := scaleLab(t, "")
	const n = 500
	r, err := measureMLD(e, n, 39, 20*time.Second)
	if err != nil {
		t.Fatalf("measureMLD: %v\npim6d:\n%.2000s", err, e.d.Output())
	}
	if r.got != n || r.sent != 13 || r.sendFail != 0 {
		t.Errorf("MLD intake: %d of %d (S,G) present from %d reports (%d send errors), want all from 13 and none failed", r.got, n, r.sent, r.sendFail)
	}
	if r.elapsed <= 0 || r.rssAfter <= 0 {
		t.Errorf("MLD intake: elapsed %v, RSS %d; want both positive", r.elapsed, r.rssAfter)
	}
	t.Logf("MLD: %d (S,G) in %v (%.0f/s), %.0f B RSS/(S,G)", r.got, r.elapsed, r.rate(), r.bytesPerSG())
}

// TestPIMScaleLab runs pimscale's measurement end to end with 500 (S,G) from
// a test neighbour: every one must become a route.
func TestPIMScaleLab(t *testing.T) {
	e := scaleLab(t, helloPeriodConfig)
	const n = 500
	r, err := measurePIM(e, n, 32, 20*time.Second, false)
	if err != nil {
		t.Fatalf("measurePIM: %v\npim6d:\n%.2000s", err, e.d.Output())
	}
	if r.got != n || r.msgs != 16 || r.sendFail != 0 {
		t.Errorf("PIM intake: %d of %d (S,G) routes from %d Join/Prunes (%d send errors), want all from 16 and none failed", r.got, n, r.msgs, r.sendFail)
	}
	t.Logf("PIM: %d (S,G) in %v (%.0f/s), %.0f B RSS/(S,G)", r.got, r.elapsed, r.rate(), r.bytesPerSG())
}

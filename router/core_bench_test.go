package router

import (
	"fmt"
	"github.com/pim6d/pim6d/api"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/stack"
)

// scaleNet is a tree of routers (router i's parent is (i-1)/fanout) under a
// root on the sources' subnet, with the receivers on LANs of the leaf routers.
type scaleNet struct {
	*lab
	routers []*coreRunner
	parent  []int
	leafLAN map[int]string // leaf router index → its LAN
	rcvs    []*host
	rcvAt   []int // receiver → its leaf router
	sg      [][2]netip.Addr
	src     *host
}

func buildScaleNet(tb testing.TB, nRouters, fanout, nReceivers, nSources, nGroups int) *scaleNet {
	s := &scaleNet{lab: newLab(tb), leafLAN: map[int]string{}}
	s.src = s.addHost("src", "s0", "2001:db8:1::2/64")
	children := make([]int, nRouters)
	s.parent = make([]int, nRouters)
	s.parent[0] = -1
	for i := 1; i < nRouters; i++ {
		s.parent[i] = (i - 1) / fanout
		children[s.parent[i]]++
	}
	s.routers = make([]*coreRunner, nRouters)
	// Attach in index order: uplink first (eth0), then the children's links,
	// then the leaf LAN.
	for i := range nRouters {
		var segs []string
		if i == 0 {
			segs = append(segs, "s0")
		} else {
			segs = append(segs, fmt.Sprintf("p%d", i))
		}
		for c := i*fanout + 1; c <= i*fanout+fanout && c < nRouters; c++ {
			segs = append(segs, fmt.Sprintf("p%d", c))
		}
		if children[i] == 0 {
			s.leafLAN[i] = fmt.Sprintf("leaf%d", i)
			segs = append(segs, s.leafLAN[i])
		}
		s.routers[i] = s.addRouter(fmt.Sprintf("r%d", i), segs...)
	}
	s.addAddr(s.routers[0].node, "eth0", "2001:db8:1::1/64")
	for i := 1; i < nRouters; i++ {
		p := s.routers[s.parent[i]]
		s.routeVia(s.routers[i], srcPrefix, fmt.Sprintf("p%d", i), p, uint32(10*i))
	}
	leaves := slices.Sorted(mapKeys(s.leafLAN))
	for k := range nSources {
		for g := range nGroups {
			s.sg = append(s.sg, [2]netip.Addr{
				netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%x", 0x100+k)),
				netip.MustParseAddr(fmt.Sprintf("ff3e::1:%x", g+1)),
			})
		}
	}
	for j := range nReceivers {
		leaf := leaves[j%len(leaves)]
		s.rcvs = append(s.rcvs, s.addHost(fmt.Sprintf("h%d", j), s.leafLAN[leaf], ""))
		s.rcvAt = append(s.rcvAt, leaf)
	}
	s.start()
	s.run(adjacency)
	return s
}

// joinAll makes receiver j join (S,G) number j mod len(sg).
func (s *scaleNet) joinAll() {
	for j, h := range s.rcvs {
		sg := s.sg[j%len(s.sg)]
		h.join(sg[0], sg[1])
	}
}

// want is, per router, the (S,G)s it must forward and to which links.
func (s *scaleNet) want() []map[[2]netip.Addr][]int {
	w := make([]map[[2]netip.Addr][]int, len(s.routers))
	for i := range w {
		w[i] = map[[2]netip.Addr][]int{}
	}
	add := func(r int, sg [2]netip.Addr, link int) {
		if !slices.Contains(w[r][sg], link) {
			w[r][sg] = append(w[r][sg], link)
			slices.Sort(w[r][sg])
		}
	}
	for j := range s.rcvs {
		sg := s.sg[j%len(s.sg)]
		r := s.rcvAt[j]
		add(r, sg, s.routers[r].ifs[s.leafLAN[r]])
		for c := r; s.parent[c] >= 0; c = s.parent[c] {
			p := s.parent[c]
			add(p, sg, s.routers[p].ifs[fmt.Sprintf("p%d", c)])
		}
	}
	return w
}

// converged reports whether every router's table forwards exactly what the
// receivers asked for, and how many routes are still missing or wrong.
func (s *scaleNet) converged(want []map[[2]netip.Addr][]int) (bool, int) {
	bad := 0
	for i, r := range s.routers {
		for sg, oifs := range want[i] {
			rt, ok := r.node.Table().Get(netip.PrefixFrom(sg[1], 128), netip.PrefixFrom(sg[0], 128), 0)
			if !ok || rt.Kind != stack.KindMulticast || rt.IIF != 1 || !slices.Equal(rt.OIFs, oifs) {
				bad++
			}
		}
	}
	return bad == 0, bad
}

// convergeAfterJoins joins every receiver and runs until the network has
// converged, returning the virtual time it took.
func (s *scaleNet) convergeAfterJoins(tb testing.TB) time.Duration {
	want := s.want()
	start := s.now()
	s.joinAll()
	for {
		ok, bad := s.converged(want)
		if ok {
			return s.now().Sub(start)
		}
		if s.now().Sub(start) > 5*time.Minute {
			tb.Fatalf("not converged 5 min after the joins: %d routes missing or wrong", bad)
		}
		s.run(time.Millisecond)
	}
}

// TestSimScaleTreeConverges is the benchmark's network, small: every receiver
// gets exactly one copy of its (S,G)'s data once the joins converge.
func TestSimScaleTreeConverges(t *testing.T) {
	s := buildScaleNet(t, 20, 3, 100, 4, 5)
	d := s.convergeAfterJoins(t)
	t.Logf("20 routers, 100 receivers, 20 (S,G): converged in %v of virtual time", d)
	for _, sg := range s.sg {
		s.src.inject(sg[0], sg[1])
	}
	s.run(time.Second)
	for j, h := range s.rcvs {
		sg := s.sg[j%len(s.sg)]
		if got := h.received(sg[0], sg[1]); got != 1 {
			t.Errorf("receiver h%d got %d copies of (%v,%v), want 1", j, got, sg[0], sg[1])
		}
	}
}

// BenchmarkSimConvergence100Routers: 100 routers (a tree of fanout 3 under the
// sources' router), 1,000 receivers on the leaf LANs joining 200 (S,G)
// (10 sources × 20 groups) at the same instant; wall time until every
// router's table holds the right (S,G) routes.
func BenchmarkSimConvergence100Routers(b *testing.B) {
	var virt time.Duration
	for range b.N {
		b.StopTimer()
		s := buildScaleNet(b, 100, 3, 1000, 10, 20)
		runtime.GC() // the build's garbage is not the convergence's
		b.StartTimer()
		virt += s.convergeAfterJoins(b)
	}
	b.ReportMetric(virt.Seconds()/float64(b.N), "virtual-s/op")
}

// BenchmarkSimSteadyState100Routers: the same network after convergence,
// simulated for 10 minutes of refreshes (Hellos, periodic Joins, MLD queries
// and reports); wall time per simulated 10 minutes.
func BenchmarkSimSteadyState100Routers(b *testing.B) {
	s := buildScaleNet(b, 100, 3, 1000, 10, 20)
	s.convergeAfterJoins(b)
	b.ResetTimer()
	for b.Loop() {
		s.run(10 * time.Minute)
	}
	b.StopTimer()
	if ok, bad := s.converged(s.want()); !ok {
		b.Fatalf("state lost during the steady state: %d routes missing or wrong", bad)
	}
}

// BenchmarkCoreMemoryPerSG: one router on the sources' subnet with a LAN whose
// host joins n (S,G) (100 groups × n/100 sources, INCLUDE); heap per (S,G)
// held by the Core (MLD source records, listener map, PIM state, forwarding
// map, mfib) and the node's table, after a GC.
func BenchmarkCoreMemoryPerSG(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				l, r, h := frrShapeLab(b)
				const groups = 100
				perGroup := n / groups
				var before runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				start := time.Now()
				// ALLOW records of up to 80 sources fit a 1500-byte report.
				for g := range groups {
					grp := netip.MustParseAddr(fmt.Sprintf("ff3e::2:%x", g+1))
					for off := 0; off < perGroup; off += 80 {
						var srcs []netip.Addr
						for k := off; k < min(off+80, perGroup); k++ {
							srcs = append(srcs, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(k >> 8), 15: byte(k)}))
						}
						h.send(mld.Record{Type: mld.AllowNewSources, Group: grp, Sources: srcs})
						l.run(time.Millisecond)
					}
				}
				l.run(time.Second)
				elapsed := time.Since(start)
				b.StopTimer()
				got := r.node.Table().Len()
				if r.core.mfib.Len() < n {
					b.Fatalf("mfib holds %d entries after %d (S,G) joins", r.core.mfib.Len(), n)
				}
				var after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&after)
				if path := os.Getenv("PIM6D_HEAPPROFILE"); path != "" {
					writeHeapProfile(b, path) // where the bytes are, while the router is alive
				}
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/SG")
				total += elapsed
				b.ReportMetric(float64(got), "table-routes")
				runtime.KeepAlive(l)
				runtime.KeepAlive(h)
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "SG/s")
		})
	}
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCoreIntakeFRRShape is the end-to-end intake benchmark's shape
// (pim6bench mldscale, issue 4) without the sockets: n distinct SSM groups,
// one source each (cycling over 16 sources on the router's own subnet), sent
// as MLDv2 reports of 39 ALLOW records. It reports the Core's intake rate and
// the heap per (S,G) it then holds (MLD, PIM, mfib and the node's table).
func BenchmarkCoreIntakeFRRShape(b *testing.B) {
	for _, n := range []int{50_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var total time.Duration
			var perSG float64
			for range b.N {
				b.StopTimer()
				l, r, h := frrShapeLab(b)
				reports := frrShapeReports(n)
				var before runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				start := time.Now()
				for _, recs := range reports {
					h.send(recs...)
				}
				l.run(10 * time.Millisecond)
				elapsed := time.Since(start)
				b.StopTimer()
				if r.core.mfib.Len() < n {
					b.Fatalf("mfib holds %d entries after %d (S,G) joins", r.core.mfib.Len(), n)
				}
				reports = nil
				var after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&after)
				if path := os.Getenv("PIM6D_HEAPPROFILE"); path != "" {
					writeHeapProfile(b, path)
				}
				perSG = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
				total += elapsed
				runtime.KeepAlive(l)
				runtime.KeepAlive(h)
				b.StartTimer()
			}
			b.ReportMetric(perSG, "B/SG")
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "SG/s")
		})
	}
}

// frrShapeLab is a router on the sources' subnet (2001:db8:1::/64) with a
// host on its LAN, past its start-up.
func frrShapeLab(b *testing.B) (*lab, *coreRunner, *host) {
	l := newLab(b)
	l.addHost("src", "s0", "2001:db8:1::2/64")
	r := l.addRouter("r1", "s0", "lan")
	h := l.addHost("h", "lan", "")
	l.addAddr(r.node, "eth0", "2001:db8:1::1/64")
	l.start()
	l.run(adjacency)
	return l, r, h
}

// frrShapeReports are the records of n (S,G) joins in FRR's benchmark shape:
// n distinct SSM groups, one source each (cycling over 16 sources on the
// router's subnet), 39 ALLOW records per report.
func frrShapeReports(n int) [][]mld.Record {
	var reports [][]mld.Record
	for off := 0; off < n; off += 39 {
		var recs []mld.Record
		for i := off; i < min(off+39, n); i++ {
			grp := netip.AddrFrom16([16]byte{0xff, 0x3e, 11: byte(i >> 16), 12: 0xbe, 13: 0x0c, 14: byte(i >> 8), 15: byte(i)})
			src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(0x10 + i%16)})
			recs = append(recs, mld.Record{Type: mld.AllowNewSources, Group: grp, Sources: []netip.Addr{src}})
		}
		reports = append(reports, recs)
	}
	return reports
}

// frrShapeRouter is a router whose host has joined n (S,G) in FRR's shape.
func frrShapeRouter(b *testing.B, n int) (*lab, *coreRunner) {
	l, r, h := frrShapeLab(b)
	for _, recs := range frrShapeReports(n) {
		h.send(recs...)
	}
	l.run(10 * time.Millisecond)
	if r.core.mfib.Len() < n {
		b.Fatalf("mfib holds %d entries after %d (S,G) joins", r.core.mfib.Len(), n)
	}
	return l, r
}

// BenchmarkSnapshot50k: a whole snapshot of a router holding 50,000 (S,G)
// (MLD groups and routes): "capture" is the part that runs on the event loop
// (what holds the protocols up), "build" the conversion to the API's form,
// which the daemon runs off the loop.
func BenchmarkSnapshot50k(b *testing.B) {
	l, r := frrShapeRouter(b, 50_000)
	b.Run("capture", func(b *testing.B) {
		for range b.N {
			r.core.CaptureSnapshot(l.now(), nil, nil)
		}
	})
	// As the daemon does it: the space sized on the loop, allocated off it
	// (not timed), then the copy into it.
	b.Run("capture-into-space", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			space := r.core.SnapshotSpace(nil)()
			b.StartTimer()
			r.core.CaptureSnapshot(l.now(), nil, space)
		}
	})
	b.Run("build", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			build := r.core.CaptureSnapshot(l.now(), nil, nil)
			b.StartTimer()
			if s := build(); len(s.Routes) < 50_000 {
				b.Fatalf("snapshot has %d routes", len(s.Routes))
			}
		}
	})
	// What pim6stat -s (and pim6bench's intake timing) costs the loop.
	b.Run("summary", func(b *testing.B) {
		only := func(s api.Section) bool { return s == api.SectionSummary }
		for range b.N {
			r.core.SnapshotSpace(only)()
			if s := r.core.CaptureSnapshot(l.now(), only, nil)(); s.Summary.Routes < 50_000 {
				b.Fatalf("summary counts %d routes", s.Summary.Routes)
			}
		}
	})
}

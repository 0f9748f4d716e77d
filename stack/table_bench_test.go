package stack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmark table is a full-size router FIB: 1,000,000 unicast routes with
// a realistic spread of prefix lengths, 100,000 (S,G) entries (G/128, S/128),
// the ff00::/8 signal route and SSM-range drop routes. The reference is what a
// forwarding-cache design would use: a Go map keyed by (S,G).
//
//	go test -run='^$' -bench=Table -benchmem ./stack/
const (
	benchUnicast = 1_000_000
	benchSG      = 100_000
	benchProbes  = 1 << 17 // lookup keys, drawn in advance, used round-robin
)

type sgKey struct{ s, g netip.Addr }

type benchFIB struct {
	unicast []Route
	sg      []Route
	extra   []Route // signal and drop routes

	sgProbes  []sgKey      // existing (S,G)s in random order
	rpfProbes []netip.Addr // addresses inside random unicast prefixes
	missSG    []sgKey      // (S,G)s without an entry, in the SSM range
}

var (
	benchOnce sync.Once
	benchData *benchFIB
	benchTbl  *Table
	benchMap  map[sgKey]*Route
)

// randomUnicast draws a global unicast prefix: mostly /48s, then /32../44
// allocations, /56 and /64 customer routes and /128 host routes.
func randomUnicast(rng *rand.Rand) netip.Prefix {
	var b [16]byte
	b[0] = 0x20 | byte(rng.IntN(16)) // 2000::/4, a bit wider than today's 2000::/3 allocations
	b[1] = byte(rng.IntN(256))
	for i := 2; i < 16; i++ {
		b[i] = byte(rng.Uint32())
	}
	var bits int
	switch x := rng.IntN(100); {
	case x < 5:
		bits = 32
	case x < 15:
		bits = 36 + 4*rng.IntN(3) // /36, /40, /44
	case x < 60:
		bits = 48
	case x < 72:
		bits = 56
	case x < 90:
		bits = 64
	default:
		bits = 128
	}
	p, _ := netip.AddrFrom16(b).Prefix(bits)
	return p
}

func makeBenchFIB() *benchFIB {
	rng := rand.New(rand.NewPCG(42, 1))
	d := &benchFIB{}
	seen := map[netip.Prefix]bool{}
	for len(d.unicast) < benchUnicast {
		p := randomUnicast(rng)
		if seen[p] {
			continue
		}
		seen[p] = true
		d.unicast = append(d.unicast, Route{Dst: p, Src: netip.MustParsePrefix("::/0"), Kind: KindUnicast,
			NextHops: []NextHop{{LinkIndex: 1 + rng.IntN(8)}}, Protocol: "kernel"})
	}
	sgs := map[sgKey]bool{}
	for len(d.sg) < benchSG {
		var g [16]byte
		g[0], g[1] = 0xff, 0x3e
		g[12], g[13], g[14], g[15] = byte(rng.IntN(4)), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())
		// Sources live in the unicast table, so RPF finds a route for them.
		src := d.unicast[rng.IntN(len(d.unicast))].Dst.Addr()
		k := sgKey{src, netip.AddrFrom16(g)}
		if sgs[k] {
			continue
		}
		sgs[k] = true
		d.sg = append(d.sg, Route{Dst: netip.PrefixFrom(k.g, 128), Src: netip.PrefixFrom(k.s, 128),
			Kind: KindMulticast, IIF: 1, OIFs: []int{2, 3, 4}, Flags: FlagNotifyData})
	}
	d.extra = []Route{
		{Dst: netip.MustParsePrefix("ff00::/8"), Src: netip.MustParsePrefix("::/0"), Kind: KindSignal},
	}
	for scope := 1; scope < 16; scope++ {
		p := netip.MustParsePrefix(fmt.Sprintf("ff3%x::/32", scope))
		if scoped(p) {
			continue
		}
		d.extra = append(d.extra, Route{Dst: p, Src: netip.MustParsePrefix("::/0"), Kind: KindDrop})
	}
	for range benchProbes {
		r := d.sg[rng.IntN(len(d.sg))]
		d.sgProbes = append(d.sgProbes, sgKey{r.Src.Addr(), r.Dst.Addr()})
		u := d.unicast[rng.IntN(len(d.unicast))].Dst
		a := u.Addr().As16()
		for i := u.Bits() / 8; i < 16; i++ {
			a[i] |= byte(rng.Uint32()) & (0xff >> max(0, u.Bits()-8*i))
		}
		d.rpfProbes = append(d.rpfProbes, netip.AddrFrom16(a))
		m := sgKey{d.sgProbes[len(d.sgProbes)-1].s, d.sgProbes[len(d.sgProbes)-1].g}
		mg := m.g.As16()
		mg[11] = 0xee // a group no (S,G) uses: falls to the SSM drop route
		m.g = netip.AddrFrom16(mg)
		d.missSG = append(d.missSG, m)
	}
	return d
}

func buildBenchTable(d *benchFIB) *Table {
	tb := NewTable()
	for _, batch := range [][]Route{d.unicast, d.sg, d.extra} {
		if err := tb.InsertBatch(batch); err != nil {
			panic(err)
		}
	}
	return tb
}

func buildBenchMap(d *benchFIB) map[sgKey]*Route {
	m := make(map[sgKey]*Route)
	for i := range d.sg {
		r := d.sg[i]
		m[sgKey{r.Src.Addr(), r.Dst.Addr()}] = &r
	}
	return m
}

func benchSetup(b *testing.B) (*benchFIB, *Table, map[sgKey]*Route) {
	b.Helper()
	benchOnce.Do(func() {
		benchData = makeBenchFIB()
		benchTbl = buildBenchTable(benchData)
		benchMap = buildBenchMap(benchData)
	})
	// Collect the set-up garbage now, or the collector competes with the
	// first benchmark for the CPUs.
	runtime.GC()
	return benchData, benchTbl, benchMap
}

// BenchmarkTableLookupSG: forwarding an (S,G) packet, the hot path.
func BenchmarkTableLookupSG(b *testing.B) {
	d, tb, _ := benchSetup(b)
	b.ResetTimer()
	var hits int
	for i := 0; b.Loop(); i++ {
		k := d.sgProbes[i&(benchProbes-1)]
		if r, ok := tb.Lookup(k.g, k.s, 0); ok && r.Kind == KindMulticast {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no (S,G) found")
	}
}

// BenchmarkTableMapSG is the reference: the same probes in a plain Go map
// keyed by (S,G), the forwarding-cache model.
func BenchmarkTableMapSG(b *testing.B) {
	d, _, m := benchSetup(b)
	b.ResetTimer()
	var hits int
	for i := 0; b.Loop(); i++ {
		k := d.sgProbes[i&(benchProbes-1)]
		if r, ok := m[k]; ok && r.Kind == KindMulticast {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no (S,G) found")
	}
}

// BenchmarkTableSGRatio times the table and the map reference alternately,
// in rounds of 4096 lookups of the same probes, so that load from other work
// on the machine falls on both alike; it reports both costs and their ratio.
func BenchmarkTableSGRatio(b *testing.B) {
	d, tb, m := benchSetup(b)
	const round = 4096
	var tTable, tMap time.Duration
	var hits int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		base := (i * round) & (benchProbes - 1)
		probes := d.sgProbes[base : base+round]
		timeTable := func() {
			start := time.Now()
			for _, k := range probes {
				if r, ok := tb.Lookup(k.g, k.s, 0); ok && r.Kind == KindMulticast {
					hits++
				}
			}
			tTable += time.Since(start)
		}
		timeMap := func() {
			start := time.Now()
			for _, k := range probes {
				if r, ok := m[k]; ok && r.Kind == KindMulticast {
					hits++
				}
			}
			tMap += time.Since(start)
		}
		// Alternate which goes first: the second finds the probes in cache.
		if i%2 == 0 {
			timeTable()
			timeMap()
		} else {
			timeMap()
			timeTable()
		}
	}
	if hits != 2*round*b.N {
		b.Fatalf("hits = %d, want %d", hits, 2*round*b.N)
	}
	n := float64(round * b.N)
	b.ReportMetric(float64(tTable.Nanoseconds())/n, "table-ns/lookup")
	b.ReportMetric(float64(tMap.Nanoseconds())/n, "map-ns/lookup")
	b.ReportMetric(float64(tTable)/float64(tMap), "table/map")
}

// BenchmarkTableLookupSGParallel: the same lookups from every core at once.
func BenchmarkTableLookupSGParallel(b *testing.B) {
	d, tb, _ := benchSetup(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchProbes)
		for pb.Next() {
			k := d.sgProbes[i&(benchProbes-1)]
			tb.Lookup(k.g, k.s, 0)
			i++
		}
	})
}

// BenchmarkTableLookupSGMiss: a packet of a group without an (S,G) entry in
// the SSM range: the host index misses and the tries find ff3e::/32 (drop).
func BenchmarkTableLookupSGMiss(b *testing.B) {
	d, tb, _ := benchSetup(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := d.missSG[i&(benchProbes-1)]
		if r, ok := tb.Lookup(k.g, k.s, 0); !ok || r.Kind != KindDrop {
			b.Fatalf("Lookup(%v, %v) = %v, want the SSM drop route", k.g, k.s, r)
		}
	}
}

// BenchmarkTableRPF: the unicast route toward a source, among 1M prefixes.
func BenchmarkTableRPF(b *testing.B) {
	d, tb, _ := benchSetup(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := tb.RPF(d.rpfProbes[i&(benchProbes-1)], 0); !ok {
			b.Fatal("RPF found nothing")
		}
	}
}

// BenchmarkTableInsertDeleteSG: adding then removing (S,G) entries in the full
// table, one write each (insert and delete are timed together: ns/op is per
// pair).
func BenchmarkTableInsertDeleteSG(b *testing.B) {
	_, tb, _ := benchSetup(b)
	rs := benchNewSG(1 << 16)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := &rs[i&(len(rs)-1)]
		if err := tb.Insert(*r); err != nil {
			b.Fatal(err)
		}
		tb.Delete(r.Dst, r.Src, 0)
	}
}

// BenchmarkTableInsertSG100k: 100,000 (S,G) inserts into a table that already
// holds the full FIB; ns/op is for the whole 100k, and sg-inserts/s the rate.
func BenchmarkTableInsertSG100k(b *testing.B) {
	_, tb, _ := benchSetup(b)
	rs := benchNewSG(100_000)
	b.ResetTimer()
	for b.Loop() {
		for i := range rs {
			if err := tb.Insert(rs[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for i := range rs {
			tb.Delete(rs[i].Dst, rs[i].Src, 0)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(rs))*float64(b.N)/b.Elapsed().Seconds(), "sg-inserts/s")
}

// BenchmarkTableInsertDeleteUnicast: one unicast route added and removed in
// the full table, each write publishing a new version of the tries.
func BenchmarkTableInsertDeleteUnicast(b *testing.B) {
	_, tb, _ := benchSetup(b)
	rng := rand.New(rand.NewPCG(9, 9))
	rs := make([]Route, 1<<14)
	for i := range rs {
		rs[i] = Route{Dst: randomUnicast(rng), Src: netip.MustParsePrefix("::/0"), Kind: KindUnicast, Protocol: "bench"}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := &rs[i&(len(rs)-1)]
		if _, exists := tb.Get(r.Dst, r.Src, 0); exists {
			continue // one of the 1M; leave it alone
		}
		if err := tb.Insert(*r); err != nil {
			b.Fatal(err)
		}
		tb.Delete(r.Dst, r.Src, 0)
	}
}

// BenchmarkTableLoadUnicast1M: loading 1M unicast routes into an empty table
// with InsertBatch, as at start-up from the kernel's dump.
func BenchmarkTableLoadUnicast1M(b *testing.B) {
	d, _, _ := benchSetup(b)
	b.ResetTimer()
	for b.Loop() {
		tb := NewTable()
		if err := tb.InsertBatch(d.unicast); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d.unicast))*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
}

// BenchmarkTableMemory reports heap bytes per route of the full table, and per
// entry of the (S,G) map reference, measured with runtime.MemStats around the
// build (the routes themselves included).
func BenchmarkTableMemory(b *testing.B) {
	d, _, _ := benchSetup(b)
	var tb *Table
	var m map[sgKey]*Route
	var perRoute, perMapEntry float64
	for b.Loop() {
		before := heapInUse()
		tb = buildBenchTable(d)
		after := heapInUse()
		perRoute = float64(after-before) / float64(tb.Len())
		before = heapInUse()
		m = buildBenchMap(d)
		after = heapInUse()
		perMapEntry = float64(after-before) / float64(len(m))
	}
	b.ReportMetric(perRoute, "B/route")
	b.ReportMetric(perMapEntry, "B/map-entry")
	runtime.KeepAlive(tb)
	runtime.KeepAlive(m)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func benchNewSG(n int) []Route {
	rs := make([]Route, n)
	for i := range rs {
		var g, s [16]byte
		g[0], g[1], g[11] = 0xff, 0x3e, 0xbb // not among the benchmark table's groups
		g[12], g[13], g[14], g[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		s[0], s[1], s[15] = 0x20, 0x01, 1
		rs[i] = Route{Dst: netip.PrefixFrom(netip.AddrFrom16(g), 128), Src: netip.PrefixFrom(netip.AddrFrom16(s), 128),
			Kind: KindMulticast, IIF: 1, OIFs: []int{2}}
	}
	return rs
}

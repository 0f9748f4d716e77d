package mld

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pim6d/pim6d/stack"
)

// buildReports packs one record per group, each with srcsPerGroup sources, of
// type t into MLDv2 report packets of at most perReport records.
func buildReports(groups, srcsPerGroup, perReport int, t RecordType, firstGroup int) []stack.Packet {
	var pkts []stack.Packet
	var recs []Record
	for g := 0; g < groups; g++ {
		r := Record{Type: t, Group: groupN(firstGroup + g)}
		for s := 0; s < srcsPerGroup; s++ {
			r.Sources = append(r.Sources, sourceN(s+1))
		}
		recs = append(recs, r)
		if len(recs) == perReport {
			pkts = append(pkts, reportPacket(recs...))
			recs = nil
		}
	}
	if len(recs) > 0 {
		pkts = append(pkts, reportPacket(recs...))
	}
	return pkts
}

func feedAll(q *Querier, now time.Time, pkts []stack.Packet, out *Output) {
	for _, p := range pkts {
		out.Reset()
		q.HandlePacket(now, p, out)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

const (
	benchGroups  = 10000
	benchSources = 10
	recsPerMTU   = 7 // 8 + 7*(20+10*16) = 1268 bytes: fits a 1280-byte IPv6 MTU with headers
)

// BenchmarkReportsCreate: 10,000 groups x 10 sources (IS_IN records, 7 per
// report) into an empty querier: state creation.
func BenchmarkReportsCreate(b *testing.B) {
	pkts := buildReports(benchGroups, benchSources, recsPerMTU, ModeIsInclude, 0)
	var out Output
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := newTestQuerier(b, Config{})
		feedAll(q, t0, pkts, &out)
	}
	reportRates(b, benchGroups, benchGroups*benchSources)
}

// BenchmarkReportsRefresh: the same reports into a querier that already
// holds the state (the periodic answers to General Queries).
func BenchmarkReportsRefresh(b *testing.B) {
	pkts := buildReports(benchGroups, benchSources, recsPerMTU, ModeIsInclude, 0)
	q := newTestQuerier(b, Config{})
	var out Output
	feedAll(q, t0, pkts, &out)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		feedAll(q, at(time.Duration(i)*time.Millisecond), pkts, &out)
	}
	reportRates(b, benchGroups, benchGroups*benchSources)
}

// BenchmarkSGJoins measures the shape FRR was measured with: MLDv2 reports
// of 39 single-source IS_IN records, one (S,G) each, 10,000 and 50,000 (S,G).
func BenchmarkSGJoins(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(itoa(n), func(b *testing.B) {
			pkts := buildReports(n, 1, 39, ModeIsInclude, 0)
			var out Output
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := newTestQuerier(b, Config{})
				feedAll(q, t0, pkts, &out)
			}
			reportRates(b, n, n)
		})
	}
}

func itoa(n int) string {
	if n%1000 == 0 {
		return string(rune('0'+n/10000%10)) + string(rune('0'+n/1000%10)) + "k"
	}
	return "n"
}

func reportRates(b *testing.B, records, sg int) {
	sec := b.Elapsed().Seconds()
	if sec == 0 {
		return
	}
	b.ReportMetric(float64(records)*float64(b.N)/sec, "records/s")
	b.ReportMetric(float64(sg)*float64(b.N)/sec, "(S,G)/s")
}

// BenchmarkMemoryPerSource reports the heap held per (group, source) with
// 10,000 groups x 10 sources on one interface.
func BenchmarkMemoryPerSource(b *testing.B) {
	pkts := buildReports(benchGroups, benchSources, recsPerMTU, ModeIsInclude, 0)
	var out Output
	var perSG float64
	for i := 0; i < b.N; i++ {
		before := heapAlloc()
		q := newTestQuerier(b, Config{})
		feedAll(q, t0, pkts, &out)
		after := heapAlloc()
		perSG = float64(after-before) / float64(benchGroups*benchSources)
		runtime.KeepAlive(q)
	}
	b.ReportMetric(perSG, "B/(S,G)")
}

// TestFloodBeyondLimitsKeepsMemoryFlat: a flood of reports for far more
// groups and sources than the limits leaves the state at the limits and the
// heap flat (RFC-independent robustness requirement of issue 4).
func TestFloodBeyondLimitsKeepsMemoryFlat(t *testing.T) {
	const maxGroups, maxSources = 1000, 10000
	q := newTestQuerier(t, Config{MaxGroups: maxGroups, MaxSources: maxSources})
	var out Output
	flood := func(first int) {
		for base := first; base < first+20000; base += 2000 {
			feedAll(q, t0, buildReports(2000, benchSources, recsPerMTU, ModeIsInclude, base), &out)
		}
	}
	flood(0) // reach the limits
	sn := q.Snapshot(t0)
	if len(sn.Groups) != maxGroups || sn.Sources != maxSources {
		t.Fatalf("after the first flood: %d groups, %d sources; want %d, %d", len(sn.Groups), sn.Sources, maxGroups, maxSources)
	}
	base := heapAlloc()
	for round := 1; round <= 4; round++ {
		flood(round * 20000) // 20,000 new groups x 10 sources each round
	}
	grown := int64(heapAlloc()) - int64(base)
	sn = q.Snapshot(t0)
	if len(sn.Groups) != maxGroups || sn.Sources != maxSources {
		t.Errorf("after 100,000 groups: %d groups, %d sources; want %d, %d", len(sn.Groups), sn.Sources, maxGroups, maxSources)
	}
	if timers := len(q.timers); timers > 3*maxGroups+maxSources+2 {
		t.Errorf("timer heap holds %d entries, want at most %d", timers, 3*maxGroups+maxSources+2)
	}
	if grown > 256<<10 {
		t.Errorf("heap grew %d bytes during a flood beyond the limits, want flat (< 256 KiB)", grown)
	}
	c := q.Counters()
	if c.IgnoredFor(IgnoreGroupLimit) == 0 {
		t.Errorf("no refusals counted")
	}
	t.Logf("heap change over 80,000 refused groups: %d bytes; refused groups %d, sources %d",
		grown, c.IgnoredFor(IgnoreGroupLimit), c.IgnoredFor(IgnoreSourceLimit))
}

var _ = netip.Addr{}

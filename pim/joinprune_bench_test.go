package pim

import (
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

// benchSource returns the i-th source in 2001:db8:5::/48.
func benchSource(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 5, 11: byte(i >> 24), 12: byte(i >> 16), 13: byte(i >> 8), 14: byte(i), 15: 1})
}

func benchGroup(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0xff, 0x3e, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
}

// benchMessages builds Join/Prune messages carrying n (S,G) joins addressed to
// fe80::2 (the router under test), 32 groups per message with 2 sources each
// (64 entries, 1,306 bytes: fits a 1500-byte MTU), like the FRR measurement.
func benchMessages(n int) []*wire.JoinPrune {
	var msgs []*wire.JoinPrune
	for i := 0; i < n; {
		m := &wire.JoinPrune{UpstreamNeighbor: ll(2), Holdtime: 210}
		for g := 0; g < 32 && i < n; g++ {
			grp := wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: benchGroup(i / 2), MaskLen: 128}}
			for s := 0; s < 2 && i < n; s++ {
				grp.Joins = append(grp.Joins, wire.EncodedSource{Addr: benchSource(i), MaskLen: 128, Sparse: true})
				i++
			}
			m.Groups = append(m.Groups, grp)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func newBenchRouter(b testing.TB) *Router {
	r := newTestRouter(b, 1, upstreamRPF, nil,
		Interface{Index: 1, LinkLocal: ll(1), MTU: 1500}, Interface{Index: 2, LinkLocal: ll(2), MTU: 1500})
	forever := func(h *wire.Hello) { h.Holdtime = 0xffff }
	r.Receive(t0, 1, ll(100), AllPIMRouters, hello(1, forever, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(100)} }))
	r.Receive(t0, 2, ll(200), AllPIMRouters, hello(2, forever))
	r.Outbox()
	return r
}

// BenchmarkJoinPruneReceive measures (S,G) Join entries processed per second:
// "new" creates the state (downstream Join, upstream Join sent, forwarding
// change), "refresh" re-receives the same Joins (the steady state); "wire"
// also decodes the packets (wire.Parse via ReceivePacket).
func BenchmarkJoinPruneReceive(b *testing.B) {
	for _, mode := range []string{"new", "refresh", "wire-new"} {
		b.Run(mode, func(b *testing.B) {
			const perMsg = 64
			n := max(b.N, perMsg)
			msgs := benchMessages(n)
			var pkts []stack.Packet
			if mode == "wire-new" {
				for _, m := range msgs {
					p, err := Send{Interface: 2, Src: ll(200), Dst: AllPIMRouters, Message: m}.Packet()
					if err != nil {
						b.Fatal(err)
					}
					pkts = append(pkts, stack.Packet{LinkIndex: 2, Src: p.Src, Dst: p.Dst, HopLimit: 1, Proto: stack.ProtoPIM, Payload: p.Payload})
				}
			}
			r := newBenchRouter(b)
			now := at(time.Second)
			if mode == "refresh" {
				for _, m := range msgs {
					r.Receive(now, 2, ll(200), AllPIMRouters, m)
					r.Outbox()
				}
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i, m := range msgs {
				if pkts != nil {
					r.ReceivePacket(now, pkts[i])
				} else {
					r.Receive(now, 2, ll(200), AllPIMRouters, m)
				}
				r.Outbox()
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			if r.RouteCount() != n {
				b.Fatalf("RouteCount = %d, want %d", r.RouteCount(), n)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/entry")
		})
	}
}

// BenchmarkMemoryPerSG measures the heap held per (S,G) entry (downstream Join
// on one interface, upstream Joined, timers running) at 100,000 and 1,000,000.
func BenchmarkMemoryPerSG(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				msgs := benchMessages(n)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				r := newBenchRouter(b)
				now := at(time.Second)
				start, cpu0 := time.Now(), cpuTime()
				for _, m := range msgs {
					r.Receive(now, 2, ll(200), AllPIMRouters, m)
					r.Outbox()
				}
				elapsed, cpu := time.Since(start), cpuTime()-cpu0
				runtime.GC()
				runtime.ReadMemStats(&after)
				if r.RouteCount() != n {
					b.Fatalf("RouteCount = %d, want %d", r.RouteCount(), n)
				}
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/SG")
				b.ReportMetric(float64(n)/elapsed.Seconds(), "entries/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/entry")
				// Periodic refresh of all n over three minutes of virtual time.
				cpu0 = cpuTime()
				end := now.Add(3 * time.Minute)
				for d := r.NextDeadline(); !d.After(end); d = r.NextDeadline() {
					r.Tick(d)
					r.Outbox()
				}
				b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/3min-virtual")
				runtime.KeepAlive(r)
				runtime.KeepAlive(msgs)
			}
		})
	}
}

// cpuTime is the process's user+system CPU time (all threads, GC included):
// less sensitive than wall time to other load on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build linux && (amd64 || arm64)

package prefault

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadFaults is the calling thread's minor page faults so far.
func threadFaults(t *testing.T) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// growHeap allocates and writes mib MiB in 64 KiB pieces, pausing between
// pieces as an event loop between packets would, and returns the pieces
// (kept live so the heap grows) and the page faults this thread took.
func growHeap(t *testing.T, mib int) ([][]byte, int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var keep [][]byte
	f0 := threadFaults(t)
	for i := range mib * 16 {
		b := make([]byte, 64<<10)
		for j := 0; j < len(b); j += pageSize {
			b[j] = byte(i)
		}
		keep = append(keep, b)
		if i%4 == 3 {
			time.Sleep(200 * time.Microsecond)
		}
	}
	return keep, threadFaults(t) - f0
}

// The point of HeapAhead: the thread that allocates fresh heap memory and
// writes to it no longer takes the page faults, the populating goroutine
// does; and what the heap holds is untouched.
func TestHeapAheadTakesPageFaultsOffTheAllocatingThread(t *testing.T) {
	debug.FreeOSMemory() // what earlier tests left free must fault again too
	keep1, without := growHeap(t, 32)
	// The race detector slows the growth down to about the default MinRate.
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	keep2, with := growHeap(t, 32)
	st := h.Stats()
	t.Logf("page faults taken by the allocating thread for 32 MiB: %d without, %d with HeapAhead (%d pages populated in %d rounds)", without, with, st.Populated, st.Rounds)
	if without < 32<<20/pageSize/2 {
		t.Fatalf("only %d faults for 32 MiB of fresh heap without HeapAhead: the test does not measure what it should", without)
	}
	// Under the race detector the thread also faults in shadow memory,
	// which is not the heap's: count what went, not what is left.
	if heapPages := int64(32 << 20 / pageSize); without-with < heapPages*3/4 {
		t.Errorf("HeapAhead took %d of the allocating thread's faults away (%d -> %d), want at least %d of the heap's %d pages", without-with, without, with, heapPages*3/4, heapPages)
	}
	for i, b := range append(keep1, keep2...) {
		for j := 0; j < len(b); j += pageSize {
			if b[j] != byte(i%(32*16)) {
				t.Fatalf("piece %d byte %d = %d, want %d", i, j, b[j], byte(i%(32*16)))
			}
		}
	}
}

type node struct {
	next  *node
	value [6]uint64
}

// HeapAhead only populates and reads pages: a heap of pointer-linked
// objects built, collected and rebuilt while it runs at a high rate keeps
// every value, and the collector never finds a bad pointer.
func TestHeapAheadLeavesTheHeapIntact(t *testing.T) {
	h, err := StartHeapAhead(HeapOptions{Busy: 100 * time.Microsecond, Idle: 100 * time.Microsecond, MinWindow: 1 << 20, MaxWindow: 8 << 20, MinBurst: 1})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	for round := range 6 {
		var lists [64]*node
		for i := range 200_000 {
			n := &node{next: lists[i%64]}
			for k := range n.value {
				n.value[k] = uint64(i*8 + k)
			}
			lists[i%64] = n
		}
		runtime.GC()
		seen := 0
		for i, n := range lists {
			for j := n; j != nil; j = j.next {
				idx := int(j.value[0] / 8)
				if idx%64 != i {
					t.Fatalf("round %d: node %d found on list %d", round, idx, i)
				}
				for k, v := range j.value {
					if v != uint64(idx*8+k) {
						t.Fatalf("round %d: node %d value %d = %d, want %d", round, idx, k, v, idx*8+k)
					}
				}
				seen++
			}
		}
		if seen != 200_000 {
			t.Fatalf("round %d: %d nodes reachable, want 200000", round, seen)
		}
	}
	if st := h.Stats(); st.Populated == 0 {
		t.Errorf("HeapAhead populated no page while the heap grew to %d MiB", 200_000*64>>20)
	}
}

// A burst of growth smaller than MinBurst (a small intake) is left to fault
// its own pages: it is over before populating ahead would pay for its RSS;
// smaller than TrimBurst, it is not followed by a trim either.
func TestHeapAheadLeavesSmallBurstsAlone(t *testing.T) {
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 64 << 20, TrimBurst: 64 << 20})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	keep, _ := growHeap(t, 16)
	time.Sleep(400 * time.Millisecond) // past TrimAfter
	if st := h.Stats(); st.Populated != 0 || st.Trims != 0 {
		t.Errorf("%d pages populated and %d trims for a 16 MiB burst with MinBurst 64 MiB", st.Populated, st.Trims)
	}
	runtime.KeepAlive(keep)
}

// heapFree is the heap's free memory still mapped (not returned to the OS).
func heapFree() uint64 { return readMetric("/memory/classes/heap/free:bytes").Uint64() }

// readMetric reads one runtime metric.
func readMetric(name string) metrics.Value {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value
}

// After a large burst of growth ends, the collector's headroom goes back to
// the OS once; a small burst is left alone.
func TestHeapAheadTrimsOnceAfterALargeBurst(t *testing.T) {
	// Under load the test may be descheduled for longer than TrimAfter
	// between the burst's end and dropping its last part: the trim then
	// comes first and there is nothing to measure. That try is repeated.
	for try := 1; ; try++ {
		if trimmedOnce(t, try == 3) || t.Failed() {
			return
		}
		t.Logf("try %d: the trim came before the burst's last part was dropped; again", try)
	}
}

// trimmedOnce runs one burst and checks its trim; it returns false, having
// checked nothing, when the trim came too early to be measured, unless
// lastTry.
func trimmedOnce(t *testing.T, lastTry bool) bool {
	// Without huge pages: their tail claim takes free pages too.
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 8 << 20, TrimAfter: 50 * time.Millisecond, TrimBurst: 8 << 20, HugeBurst: -1})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	// 64 MiB over ~100 ms so that several rounds see the growth, the last
	// 16 MiB of it dropped at the end: the collector leaves it free.
	var keep, tail [][]byte
	for i := range 1024 {
		b := make([]byte, 64<<10)
		b[0] = byte(i)
		if i < 768 {
			keep = append(keep, b)
		} else {
			tail = append(tail, b)
		}
		if i%16 == 15 {
			time.Sleep(time.Millisecond)
		}
	}
	tail = nil
	runtime.GC() // what the burst's last part held is free now
	if h.Stats().Trims != 0 && !lastTry {
		return false
	}
	if free := heapFree(); free < 4<<20 {
		t.Fatalf("only %d KiB of the heap free after the burst: the test measures nothing", free>>10)
	}
	waitFor := time.Now().Add(2 * time.Second)
	for h.Stats().Trims == 0 && time.Now().Before(waitFor) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := h.Stats(); st.Trims != 1 {
		t.Fatalf("trims after a 64 MiB burst = %d, want 1", st.Trims)
	}
	// What the runtime cannot give back (free pages in the page caches of
	// processors busy during the collection: up to 512 KiB per P, measured
	// 2 MiB with GOMAXPROCS 8) stays after any trim; the reference is a
	// second trim made here.
	free := heapFree()
	debug.FreeOSMemory()
	if floor := heapFree(); free > floor+1<<20 {
		t.Errorf("%d KiB of the heap still free and mapped after the trim (%d KiB after a second one)", free>>10, floor>>10)
	}
	time.Sleep(200 * time.Millisecond)
	if st := h.Stats(); st.Trims != 1 {
		t.Errorf("trims = %d while the heap rested, want still 1", st.Trims)
	}
	runtime.KeepAlive(keep)
	return true
}

// Stop ends the goroutine, and may be called twice.
func TestHeapAheadStops(t *testing.T) {
	h, err := StartHeapAhead(HeapOptions{})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	h.Stop()
	h.Stop()
	before := h.Stats()
	growHeap(t, 4)
	if after := h.Stats(); after != before {
		t.Errorf("stats moved after Stop: %+v -> %+v", before, after)
	}
}

// A heap that grows slowly (here ~2 MiB/s, a trickle of new state) is left
// to fault its own pages: nothing is mapped ahead for it.
func TestHeapAheadLeavesSlowGrowthAlone(t *testing.T) {
	h, err := StartHeapAhead(HeapOptions{Busy: time.Millisecond, Idle: 5 * time.Millisecond})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	var keep [][]byte
	for i := range 100 {
		b := make([]byte, 16<<10)
		b[0] = byte(i)
		keep = append(keep, b)
		time.Sleep(8 * time.Millisecond)
	}
	if st := h.Stats(); st.Populated != 0 {
		t.Errorf("%d pages populated ahead of a heap growing by 16 KiB every 8 ms", st.Populated)
	}
	runtime.KeepAlive(keep)
}

// residentPages lists which of b's pages are resident.
func residentPages(t *testing.T, b []byte) []bool {
	vec := make([]byte, len(b)/pageSize)
	if err := mincore(uintptr(unsafe.Pointer(&b[0])), len(vec), vec); err != nil {
		t.Fatal(err)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out
}

// Below the heap's top, a hole is either memory the heap gave back (it will
// reuse it first) or the unwritten end of an allocation (never touched):
// HeapAhead fills holes only as far as the heap's released memory allows,
// then goes on above the top. Here on a mapping of its own: pages 0-9 and
// 20-29 written, 10-19 a hole, 30 and up above the top.
func TestHeapAheadFillsHolesOnlyAsFarAsTheHeapGaveMemoryBack(t *testing.T) {
	for _, tc := range []struct {
		holes      int
		wantFilled []int // pages made resident
	}{
		{holes: 0, wantFilled: []int{30, 31, 32, 33, 34, 35, 36, 37}},
		{holes: 4, wantFilled: []int{10, 11, 12, 13, 30, 31, 32, 33}},
		{holes: 100, wantFilled: []int{10, 11, 12, 13, 14, 15, 16, 17}},
	} {
		b, err := unix.Mmap(-1, 0, 64*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29} {
			b[p*pageSize] = 1
		}
		before := residentPages(t, b)
		base := uintptr(unsafe.Pointer(&b[0]))
		h := &HeapAhead{maps: []mapping{{base, base + 64*pageSize}}, vec: make([]byte, 1024), cursor: base}
		top, above := h.residentTop()
		if top != base+30*pageSize || above != 34*pageSize {
			t.Fatalf("residentTop = page %d, %d pages above; want 30, 34", (top-base)/pageSize, above/pageSize)
		}
		if left := h.populateAhead(8, top, tc.holes); left != 0 {
			t.Errorf("holes %d: %d of a window of 8 left unfilled", tc.holes, left)
		}
		var filled []int
		for i, r := range residentPages(t, b) {
			if r && !before[i] {
				filled = append(filled, i)
			}
		}
		if !slices.Equal(filled, tc.wantFilled) {
			t.Errorf("hole budget %d: pages filled %v, want %v", tc.holes, filled, tc.wantFilled)
		}
		unix.Munmap(b)
	}
}

// gcCycles is how many collections have run.
func gcCycles() uint64 { return readMetric("/gc/cycles/total:gc-cycles").Uint64() }

// burstCollections grows the heap by 48 MiB under a HeapAhead with opts
// (GOGC 50, as in pim6d), and returns the collections the last 32 MiB of the
// burst took, GOGC two thirds through it, the HeapAhead, still running, and
// the 48 MiB.
func burstCollections(t *testing.T, opts HeapOptions) (cycles uint64, midPercent int, h *HeapAhead, keep [][]byte) {
	t.Cleanup(func() { debug.SetGCPercent(debug.SetGCPercent(50)) })
	debug.SetGCPercent(50)
	runtime.GC()
	h, err := StartHeapAhead(opts)
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	t.Cleanup(h.Stop)
	var before uint64
	for i := range 768 {
		b := make([]byte, 64<<10)
		b[0] = byte(i)
		keep = append(keep, b)
		if i%16 == 15 {
			time.Sleep(time.Millisecond)
		}
		switch i {
		case 256:
			before = gcCycles()
		case 512:
			midPercent = gcPercent()
		}
	}
	cycles = gcCycles() - before
	return cycles, midPercent, h, keep
}

// heapGoalAndObjects reads the collector's heap goal and the heap's bytes
// in objects.
func heapGoalAndObjects() (goal, objects uint64) {
	return readMetric("/gc/heap/goal:bytes").Uint64(), readMetric("/memory/classes/heap/objects:bytes").Uint64()
}

// A burst of growth is new long-lived state: while it lasts, the collector
// runs at BurstGCPercent and so marks that state fewer times; GOGC comes
// back as soon as the growth stops.
func TestHeapAheadHoldsTheCollectorBackDuringABurst(t *testing.T) {
	opts := HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, TrimAfter: -1, TrimBurst: 4 << 20}
	opts.BurstGCPercent = -1
	plain, plainMid, h, _ := burstCollections(t, opts)
	h.Stop()
	if plainMid != 50 || h.Stats().GCHolds != 0 {
		t.Fatalf("BurstGCPercent -1: GOGC %d during the burst, %d holds; want 50 and none", plainMid, h.Stats().GCHolds)
	}
	opts.BurstGCPercent = 400
	held, heldMid, h, keepHeld := burstCollections(t, opts)
	t.Logf("collections during the last 32 MiB of a 48 MiB burst at GOGC 50: %d; with the collector held at 400: %d", plain, held)
	if heldMid != 400 {
		t.Errorf("GOGC halfway through the burst = %d, want 400", heldMid)
	}
	if held >= plain {
		t.Errorf("%d collections with the collector held, %d without: want fewer", held, plain)
	}
	waitFor := time.Now().Add(2 * time.Second)
	for gcPercent() != 50 && time.Now().Before(waitFor) {
		time.Sleep(5 * time.Millisecond)
	}
	if p := gcPercent(); p != 50 {
		t.Errorf("GOGC = %d after the burst, want 50 back", p)
	}
	// GOGC came back after a collection, not before one: the heap is under
	// the collector's goal, so no cycle starts with the whole burst to mark
	// and every allocation charged an assist for it.
	if goal, objects := heapGoalAndObjects(); goal < objects {
		t.Errorf("heap goal %d MiB under the heap's %d MiB of objects once GOGC is back", goal>>20, objects>>20)
	}
	runtime.KeepAlive(keepHeld)
	// One hold for the burst; a second when the test was descheduled for
	// longer than gcHoldQuiet within it (seen under load), never one a round.
	if n := h.Stats().GCHolds; n == 0 || n > 2 {
		t.Errorf("holds = %d, want 1 (2 under load)", n)
	}
}

// Stop during a burst gives GOGC back; a collector turned off (GOGC=off)
// is never turned on.
func TestHeapAheadGivesGOGCBackOnStopAndLeavesItOff(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(debug.SetGCPercent(50)) })
	debug.SetGCPercent(50)
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, TrimAfter: -1, TrimBurst: 4 << 20})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	grown := make(chan [][]byte)
	go func() { keep, _ := growHeap(t, 64); grown <- keep }()
	waitFor := time.Now().Add(2 * time.Second)
	for gcPercent() != 400 && time.Now().Before(waitFor) {
		time.Sleep(time.Millisecond)
	}
	if p := gcPercent(); p != 400 {
		t.Fatalf("GOGC during the burst = %d, want 400", p)
	}
	h.Stop()
	if p := gcPercent(); p != 50 {
		t.Errorf("GOGC = %d after Stop during the burst, want 50 back", p)
	}
	<-grown

	debug.SetGCPercent(-1)
	h, err = StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, TrimAfter: -1, TrimBurst: 1 << 20})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	keep, _ := growHeap(t, 8)
	if p := gcPercent(); p != -1 {
		t.Errorf("GOGC = %d during a burst with the collector off, want it left off", p)
	}
	h.Stop()
	if n := h.Stats().GCHolds; n != 0 {
		t.Errorf("holds = %d with the collector off, want 0", n)
	}
	runtime.KeepAlive(keep)
}

// With StateSize set, only growth that comes with new state holds the
// collector back: a heap growing with a snapshot answer being built grows
// with what will be garbage, and collecting it keeps the peak down.
func TestHeapAheadHoldsTheCollectorOnlyForNewState(t *testing.T) {
	var entries atomic.Int64
	opts := HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, TrimAfter: -1, TrimBurst: 4 << 20, StateSize: entries.Load}
	_, mid, h, _ := burstCollections(t, opts)
	h.Stop()
	if mid != 50 || h.Stats().GCHolds != 0 {
		t.Errorf("heap growth without new state: GOGC %d halfway, %d holds; want 50 and none", mid, h.Stats().GCHolds)
	}

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				entries.Add(100)
			}
		}
	}()
	_, mid, h, _ = burstCollections(t, opts)
	// A second hold when the test was descheduled for longer than
	// gcHoldQuiet within the burst (seen under load), never one a round.
	if n := h.Stats().GCHolds; mid != 400 || n == 0 || n > 2 {
		t.Errorf("heap growth with new state: GOGC %d halfway, %d holds; want 400 and 1 (2 under load)", mid, n)
	}
}

// assistSeconds is the CPU time goroutines have spent assisting the
// collector (marking in place of their allocation).
func assistSeconds() float64 { return readMetric("/cpu/classes/gc/mark/assist:cpu-seconds").Float64() }

// When the burst ends and GOGC comes back, the burst's state has already
// been marked off the allocating goroutines: the next allocations (the
// event loop's next Hello) are not charged assists for marking all of it,
// as they are when a cycle starts with the heap far over its goal.
func TestHeapAheadReleasesTheCollectorWithoutAssists(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(debug.SetGCPercent(50)) })
	debug.SetGCPercent(50)
	runtime.GC()
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, TrimAfter: -1, TrimBurst: 4 << 20})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	// State full of pointers, as protocol state is: marking it takes time.
	var head *node
	for i := range 1 << 20 {
		head = &node{next: head}
		if i%(1<<14) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor := time.Now().Add(2 * time.Second)
	for (h.Stats().GCHolds == 0 || gcPercent() != 50) && time.Now().Before(waitFor) {
		time.Sleep(time.Millisecond)
	}
	// A second hold when the test was descheduled for longer than
	// gcHoldQuiet within the burst (seen under load).
	if n := h.Stats().GCHolds; n == 0 || n > 2 || gcPercent() != 50 {
		t.Fatalf("holds %d, GOGC %d: the burst was not held and released", n, gcPercent())
	}
	a0 := assistSeconds()
	var small []*node
	for i := range 1 << 16 {
		small = append(small, &node{value: [6]uint64{uint64(i)}})
	}
	runtime.GC() // the metric is brought up to date at the end of a cycle
	assist := assistSeconds() - a0
	t.Logf("assists charged to 64k small allocations after the release: %.2f ms", assist*1e3)
	if assist > 0.002 {
		t.Errorf("%.1f ms of assists charged to allocations after the burst, want the burst marked off them", assist*1e3)
	}
	runtime.KeepAlive(head)
	runtime.KeepAlive(small)
}

// hugePagesOnAdviceOrSkip skips a test that needs the kernel to give
// transparent huge pages where they are asked for.
func hugePagesOnAdviceOrSkip(t *testing.T) {
	if !hugePagesOnAdvice() {
		b, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
		t.Skipf("transparent huge pages are not given on advice here (%q)", strings.TrimSpace(string(b)))
	}
}

// anonHugeBytes is this process's memory in transparent huge pages.
func anonHugeBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "AnonHugePages:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("smaps_rollup: %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no AnonHugePages in /proc/self/smaps_rollup")
	return 0
}

// A burst's growth gets huge pages: the allocating thread takes one fault
// per 2 MiB instead of one per 4 KiB, with no populating ahead at all
// (MinBurst out of reach), because HeapAhead advised the space the heap
// grows into, which it had the runtime map at its start.
func TestHeapAheadGivesABurstHugePages(t *testing.T) {
	hugePagesOnAdviceOrSkip(t)
	grow := func(hugeBurst int) (faults, huge int64, keep [][]byte) {
		debug.FreeOSMemory()
		h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, Idle: time.Millisecond, HugeBurst: hugeBurst})
		if err != nil {
			t.Skipf("heap prefault unavailable here: %v", err)
		}
		defer h.Stop()
		huge0 := anonHugeBytes(t)
		keep, faults = growHeap(t, 32)
		return faults, anonHugeBytes(t) - huge0, keep
	}
	without, _, keep1 := grow(-1)
	with, huge, keep2 := grow(0)
	t.Logf("page faults taken by the allocating thread for 32 MiB: %d without huge pages, %d with (%d MiB more in huge pages)", without, with, huge>>20)
	if heapPages := int64(32 << 20 / pageSize); without < heapPages/2 {
		t.Fatalf("only %d faults for 32 MiB of fresh heap without huge pages: the test measures nothing", without)
	}
	if with > without/4 && !raceEnabled {
		t.Errorf("%d page faults with huge pages, want at most a quarter of the %d without", with, without)
	}
	if huge < 16<<20 {
		t.Errorf("the heap's growth of 32 MiB added %d KiB of huge pages, want at least 16 MiB", huge>>10)
	}
	runtime.KeepAlive(keep1)
	runtime.KeepAlive(keep2)
}

// heapVMAFlags counts the Go heap's read-write mappings advised for huge
// pages ("hg" in VmFlags) and advised against them ("nh").
func heapVMAFlags(t *testing.T) (hg, nh int) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	arena := uintptr(unsafe.Pointer(heapProbe)) &^ (arenaBytes - 1)
	low, high := arena-min(arena, heapSpan), arena+heapSpan
	inHeap := false
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			lo, hi, _ := strings.Cut(f[0], "-")
			start, _ := strconv.ParseUint(lo, 16, 64)
			end, _ := strconv.ParseUint(hi, 16, 64)
			inHeap = strings.HasPrefix(f[1], "rw") && uintptr(start) >= low && uintptr(end) <= high && len(f) == 5
			continue
		}
		if !inHeap || len(f) == 0 || f[0] != "VmFlags:" {
			continue
		}
		if slices.Contains(f[1:], "hg") {
			hg++
		}
		if slices.Contains(f[1:], "nh") {
			nh++
		}
	}
	return hg, nh
}

// The advice lasts as long as the burst: afterwards no heap mapping is
// left advised for huge pages, so khugepaged never gathers pages the
// scavenger gave back into huge pages the runtime believes are returned.
func TestHeapAheadWithdrawsTheHugePageAdviceAfterABurst(t *testing.T) {
	hugePagesOnAdviceOrSkip(t)
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, Idle: time.Millisecond, TrimAfter: -1})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	var keep [][]byte
	hgDuring := 0
	for i := range 256 { // 16 MiB, 256 KiB a millisecond
		b := make([]byte, 64<<10)
		for j := 0; j < len(b); j += pageSize {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%4 == 3 {
			time.Sleep(time.Millisecond)
		}
		if i == 200 {
			hgDuring, _ = heapVMAFlags(t)
		}
	}
	// Withdrawn 10 ms after the growth stops; under load the rounds come
	// late.
	hg, nh := heapVMAFlags(t)
	for deadline := time.Now().Add(2 * time.Second); hg != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		hg, nh = heapVMAFlags(t)
	}
	t.Logf("heap mappings advised for huge pages: %d during the burst, %d after it (%d advised against)", hgDuring, hg, nh)
	if hgDuring == 0 {
		t.Errorf("no heap mapping advised for huge pages during a 16 MiB burst")
	}
	if hg != 0 {
		t.Errorf("%d heap mappings still advised for huge pages after the burst", hg)
	}
	runtime.KeepAlive(keep)
}

// heapResidentBeyondGo is how much of the heap mappings is resident beyond
// what the runtime counts as mapped (objects, unused parts of spans, free
// memory it has not returned, stacks).
func heapResidentBeyondGo(t *testing.T) int64 {
	var h HeapAhead
	h.vec = make([]byte, 1024)
	if err := h.readMaps(); err != nil {
		t.Fatal(err)
	}
	resident := int64(0)
	for _, m := range h.maps {
		for a := m.start; a < m.end; {
			n := min(len(h.vec), int((m.end-a)/pageSize))
			if err := mincore(a, n, h.vec); err != nil {
				t.Fatal(err)
			}
			for _, v := range h.vec[:n] {
				resident += int64(v&1) * pageSize
			}
			a += uintptr(n) * pageSize
		}
	}
	goCounts := int64(0)
	for _, name := range []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/heap/free:bytes", "/memory/classes/heap/stacks:bytes"} {
		goCounts += int64(readMetric(name).Uint64())
	}
	return resident - goCounts
}

// The last huge page a burst grows into is resident as a whole, but the
// runtime counts the part it never allocated as returned to the OS: the
// trim after the burst gives that part back too, however large the heap's
// free holes below it.
func TestHeapAheadGivesTheUnusedEndOfTheLastHugePageBack(t *testing.T) {
	hugePagesOnAdviceOrSkip(t)
	// Under load the test may be descheduled for longer than TrimAfter
	// before the frontier is where it wants it: the trim then comes first,
	// and that try is repeated.
	for try := 1; ; try++ {
		if gaveTheTailBack(t, try == 3) || t.Failed() {
			return
		}
		t.Logf("try %d: the trim came before the burst was over; again", try)
	}
}

// gaveTheTailBack runs one burst and checks its trim; it returns false,
// having checked nothing, when the trim came too early, unless lastTry.
func gaveTheTailBack(t *testing.T, lastTry bool) bool {
	debug.FreeOSMemory()
	h, err := StartHeapAhead(HeapOptions{MinRate: 1 << 20, MinBurst: 1 << 30, Idle: time.Millisecond, TrimAfter: 50 * time.Millisecond})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	before := heapResidentBeyondGo(t)
	// 16 MiB of the burst are dropped at its end: holes below the tail,
	// larger than the 8 MiB the claim once stopped at.
	holes, _ := growHeap(t, 16)
	keep, _ := growHeap(t, 12)
	// Stop with the heap's frontier in the middle of a huge page.
	for i := 0; ; i++ {
		last := keep[len(keep)-1]
		end := uintptr(unsafe.Pointer(unsafe.SliceData(last))) + uintptr(len(last))
		if off := end % hugePageSize; off > hugePageSize/4 && off < hugePageSize*3/4 || i > 64 {
			t.Logf("the heap's frontier is %d KiB into a huge page", off>>10)
			break
		}
		b := make([]byte, 64<<10)
		b[0] = 1
		keep = append(keep, b)
	}
	runtime.KeepAlive(holes)
	holes = nil
	runtime.GC()
	st := h.Stats()
	if st.Trims != 0 && !lastTry {
		return false
	}
	if st.HugeBursts == 0 {
		t.Fatalf("the burst had no huge pages: the test measures nothing")
	}
	waitFor := time.Now().Add(2 * time.Second)
	for h.Stats().Trims == 0 && time.Now().Before(waitFor) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.Stats().Trims == 0 {
		t.Fatal("no trim after the burst")
	}
	after := heapResidentBeyondGo(t)
	t.Logf("heap resident beyond what the runtime counts: %d KiB before the burst, %d KiB after it and the trim", before>>10, after>>10)
	if after-before > 256<<10 {
		t.Errorf("%d KiB more of the heap resident than the runtime counts after the trim, want at most 256 KiB", (after-before)>>10)
	}
	runtime.KeepAlive(keep)
	return true
}

// While the heap is small, MinHeadroom keeps the collector's goal that far
// above the live heap: a small intake grows without collections, where
// GOGC 50 alone (a goal of 2-3 MiB) collects several times. A heap large
// enough for GOGC's own headroom keeps its GOGC, and Stop gives it back.
func TestHeapAheadKeepsAMinimumHeadroomForASmallHeap(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(debug.SetGCPercent(50)) })
	grow := func(minHeadroom int) (cycles uint64, room int64) {
		debug.SetGCPercent(50)
		runtime.GC()
		h, err := StartHeapAhead(HeapOptions{MinHeadroom: minHeadroom, MinBurst: 1 << 30, TrimAfter: -1, BurstGCPercent: -1, HugeBurst: -1, Idle: time.Millisecond})
		if err != nil {
			t.Skipf("heap prefault unavailable here: %v", err)
		}
		defer h.Stop()
		time.Sleep(20 * time.Millisecond) // a few rounds
		room = int64(readMetric("/gc/heap/goal:bytes").Uint64()) - int64(readMetric("/gc/heap/live:bytes").Uint64())
		before := gcCycles()
		var keep [][]byte
		for i := range 128 { // 8 MiB
			b := make([]byte, 64<<10)
			b[0] = byte(i)
			keep = append(keep, b)
		}
		cycles = gcCycles() - before
		runtime.KeepAlive(keep)
		return cycles, room
	}
	plainCycles, plainRoom := grow(0)
	floorCycles, floorRoom := grow(16 << 20)
	t.Logf("growing a small heap by 8 MiB at GOGC 50: %d collections with the goal %d KiB above the live heap; with a 16 MiB floor, %d collections, %d KiB", plainCycles, plainRoom>>10, floorCycles, floorRoom>>10)
	if floorRoom < 15<<20 || floorRoom > 17<<20 {
		t.Errorf("goal %d KiB above the live heap with MinHeadroom 16 MiB", floorRoom>>10)
	}
	if floorCycles != 0 || plainCycles == 0 {
		t.Errorf("collections while growing 8 MiB: %d with the floor, %d without; want none and some", floorCycles, plainCycles)
	}
	if p := gcPercent(); p != 50 {
		t.Errorf("GOGC = %d after Stop, want 50 back", p)
	}

	// 48 MiB live at GOGC 50: 24 MiB of headroom already.
	var large [][]byte
	for range 768 {
		large = append(large, make([]byte, 64<<10))
	}
	runtime.GC()
	h, err := StartHeapAhead(HeapOptions{MinHeadroom: 16 << 20, MinBurst: 1 << 30, TrimAfter: -1, BurstGCPercent: -1, HugeBurst: -1, Idle: time.Millisecond})
	if err != nil {
		t.Skipf("heap prefault unavailable here: %v", err)
	}
	defer h.Stop()
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if p := gcPercent(); p != 50 {
		t.Errorf("GOGC = %d with 48 MiB live and MinHeadroom 16 MiB, want 50 kept", p)
	}
	runtime.KeepAlive(large)
}

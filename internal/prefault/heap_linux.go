//go:build linux && (amd64 || arm64)

package prefault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Go's heap grows in 64 MiB arenas, contiguously up from a first address
// that Go 1.26 randomizes; what else Go and the kernel map (the runtime's
// own metadata, thread stacks, the race detector's shadow) lies far from it.
// The heap mappings are therefore the anonymous read-write mappings within
// heapSpan of the arena a heap object sits in.
const (
	arenaBytes = 64 << 20
	heapSpan   = 64 << 30
)

// heapProbe is a heap object: where it lives says where the heap is.
var heapProbe = new([pageSize]byte)

// readPages reads one byte at start, start+stride, ... (n of them): a
// user-mode access, which is what maps a populated page for good on the VMs
// measured (a read by the kernel, as in process_vm_readv, does not).
// Written in assembly so that no Go pointer to memory the heap has not
// handed out ever exists for the garbage collector to find.
//
//go:noescape
func readPages(start uintptr, n int, stride uintptr) byte

// HeapAhead keeps the next pages the Go heap will grow into faulted in, from
// a goroutine of its own, while the heap grows fast: the goroutine that
// allocates (pim6d's event loop) then writes to pages already mapped. During
// such a burst it holds the collector back (BurstGCPercent), and after it
// returns the collector's headroom to the OS.
//
// On the VMs pim6d is measured on, a page fault costs 13-17 µs, whoever
// takes it; MADV_POPULATE_WRITE followed by one user-mode read costs the
// faulting thread ~5 µs per page instead, and a later write by any thread
// costs nothing more (docs/bench/scale.md). Where the kernel gives
// transparent huge pages on advice, the address space a burst grows into is
// advised for them as well (HugeBurst): one fault then maps 2 MiB, ~0.3 µs
// per 4 KiB. It only ever populates and reads
// memory, so it cannot change what the heap holds. The cost is RSS: pages
// mapped ahead that the heap has not used yet (up to MaxWindow), holes it
// fills that the heap reuses later or never: measured in pim6d, about 2 MB
// after a large intake, which the trim after the burst more than gives back.
type HeapAhead struct {
	opts       HeapOptions
	stop       chan struct{}
	done       chan struct{}
	stopOnce   sync.Once
	rounds     atomic.Uint64
	populated  atomic.Uint64
	trims      atomic.Uint64
	gcHolds    atomic.Uint64
	hugeBursts atomic.Uint64

	samples   []metrics.Sample
	lastInUse uint64
	released  uint64 // the heap's free memory given back to the OS, at the last round
	lastAt    time.Time
	activeAt  time.Time // the last round in which the heap grew fast
	burstFrom uint64    // the heap in use when the current burst of growth began
	trimDue   bool      // the current or last burst reached TrimBurst, and was not trimmed after
	gcHeld    bool      // GOGC is BurstGCPercent; gcPercent is what it was
	gcPercent int
	gcBase    int       // GOGC when HeapAhead started, which MinHeadroom only ever raises
	gcCycles  uint64    // collections seen by the last headroom check
	gcWanted  time.Time // the last round in which the burst called for the hold
	lastState int64     // StateSize at the last round
	idle      bool
	cursor    uintptr // the lowest page that was not resident at the last scan
	vec       []byte
	maps      []mapping
	mapsAt    time.Time
	hugeOK    bool      // the system gives huge pages on advice (THP "madvise")
	hugeOn    bool      // this burst's empty address space is advised for huge pages
	hugeSeen  uintptr   // the heap's address space looked at for that so far, up to here
	advised   []mapping // what was advised, to withdraw when the burst ends
	hugeUsed  bool      // the last burst had advice, and was not trimmed after
}

type mapping struct{ start, end uintptr }

// ErrHeapAheadUnsupported says the kernel cannot populate memory ahead
// (MADV_POPULATE_WRITE is Linux 5.14 and later).
var ErrHeapAheadUnsupported = errors.New("MADV_POPULATE_WRITE not supported by this kernel")

// StartHeapAhead starts keeping the heap's next pages faulted in. It fails
// when the kernel lacks MADV_POPULATE_WRITE or the heap cannot be found.
func StartHeapAhead(opts HeapOptions) (*HeapAhead, error) {
	if opts.MinWindow <= 0 {
		opts.MinWindow = 128 << 10
	}
	if opts.MaxWindow < opts.MinWindow {
		opts.MaxWindow = max(1<<20, opts.MinWindow)
	}
	if opts.Busy <= 0 {
		opts.Busy = time.Millisecond
	}
	if opts.Idle <= 0 {
		opts.Idle = 20 * time.Millisecond
	}
	if opts.MinRate <= 0 {
		opts.MinRate = 32 << 20
	}
	if opts.MinBurst <= 0 {
		opts.MinBurst = 16 << 20
	}
	if opts.TrimAfter == 0 {
		opts.TrimAfter = 250 * time.Millisecond
	}
	if opts.TrimBurst <= 0 {
		opts.TrimBurst = 4 << 20
	}
	if opts.BurstGCPercent == 0 {
		opts.BurstGCPercent = 400
	}
	if opts.HugeBurst == 0 {
		opts.HugeBurst = 2 << 20
	}
	if opts.HugeReserve <= 0 {
		opts.HugeReserve = 64 << 20
	}
	h := &HeapAhead{
		opts: opts,
		stop: make(chan struct{}),
		done: make(chan struct{}),
		samples: []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/unused:bytes"},
			{Name: "/memory/classes/heap/released:bytes"},
			{Name: "/gc/cycles/total:gc-cycles"},
			{Name: "/gc/heap/live:bytes"},
		},
		vec:    make([]byte, 1024),
		idle:   true,
		hugeOK: hugePagesOnAdvice(),
	}
	if err := h.readMaps(); err != nil {
		return nil, err
	}
	if len(h.maps) == 0 {
		return nil, fmt.Errorf("heap prefault: no Go heap mapping found in /proc/self/maps")
	}
	// Probe the kernel on one page of the heap that is certainly in use:
	// populating a resident page changes nothing.
	if err := populate(uintptr(unsafe.Pointer(heapProbe))&^(pageSize-1), pageSize); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return nil, ErrHeapAheadUnsupported
		}
		return nil, fmt.Errorf("heap prefault: %w", err)
	}
	if h.huge() {
		premapHeap(opts.HugeReserve)
		debug.FreeOSMemory() // collects the allocation that mapped the space
	}
	h.gcBase = gcPercent()
	h.lastInUse, h.lastAt = h.inUse(), time.Now()
	go h.run()
	return h, nil
}

// Stop ends the goroutine and waits for it.
func (h *HeapAhead) Stop() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
}

// Stats reads the counters.
func (h *HeapAhead) Stats() HeapStats {
	return HeapStats{Rounds: h.rounds.Load(), Populated: h.populated.Load(), Trims: h.trims.Load(), GCHolds: h.gcHolds.Load(), HugeBursts: h.hugeBursts.Load()}
}

func (h *HeapAhead) run() {
	defer close(h.done)
	defer h.dropHeadroom()
	defer h.releaseGC()
	defer h.withdrawHuge()
	t := time.NewTimer(h.opts.Idle)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		if h.round() {
			t.Reset(h.opts.Busy)
		} else {
			t.Reset(h.opts.Idle)
		}
	}
}

// inUse reads the heap's metrics: the bytes in spans in use, which grow as
// the heap does, and (into h.released) the free bytes given back to the OS.
// When a collection has run since the last read, it sets GOGC for the
// collector's headroom (keepHeadroom) from the live heap read with them.
func (h *HeapAhead) inUse() uint64 {
	metrics.Read(h.samples)
	v := func(i int) uint64 {
		if h.samples[i].Value.Kind() == metrics.KindUint64 {
			return h.samples[i].Value.Uint64()
		}
		return 0
	}
	h.released = v(2)
	if cycles := v(3); cycles != h.gcCycles {
		h.gcCycles = cycles
		h.keepHeadroom(v(4))
	}
	return v(0) + v(1)
}

// keepHeadroom sets GOGC after a collection so that the next goal is at
// least MinHeadroom above the live heap, and no lower than the GOGC
// HeapAhead started with; not while a burst holds the collector (it sets
// GOGC back when it ends, and the next collection brings this back).
func (h *HeapAhead) keepHeadroom(live uint64) {
	if h.opts.MinHeadroom <= 0 || h.gcBase <= 0 || h.gcHeld {
		return
	}
	// The runtime's smallest goal grows with GOGC too (4 MiB x GOGC/100):
	// past MinHeadroom/4 MiB x 100, a tiny heap's goal would be that
	// minimum, not MinHeadroom.
	most := uint64(h.opts.MinHeadroom) * 100 / runtimeHeapMinimum
	want := h.gcBase
	if live > 0 {
		want = max(want, int(min(uint64(h.opts.MinHeadroom)*100/live, most)))
	}
	if now := gcPercent(); now >= 0 && now != want {
		debug.SetGCPercent(want)
	}
}

// runtimeHeapMinimum is the Go runtime's smallest heap goal at GOGC 100
// (defaultHeapMinimum in runtime/mgcpacer.go).
const runtimeHeapMinimum = 4 << 20

// round populates the window ahead of the heap while it grows fast (in a
// burst of MinBurst or more), returns the heap's free memory to the OS once
// a burst of TrimBurst or more has ended, and says whether the heap grew
// fast since the last round.
func (h *HeapAhead) round() bool {
	now, at := h.inUse(), time.Now()
	grown := int64(now) - int64(h.lastInUse)
	since := at.Sub(h.lastAt)
	h.lastInUse, h.lastAt = now, at
	// Bytes per Busy period at the rate the heap grew since the last round.
	perRound := float64(grown) * float64(h.opts.Busy) / float64(max(since, time.Microsecond))
	if grown <= 0 || perRound*float64(time.Second)/float64(h.opts.Busy) < float64(h.opts.MinRate) {
		// Slow growth (the heap's ups and downs between collections, a
		// trickle of state) is not worth pages mapped ahead: the faults
		// it costs are few, and populating pages the scavenger just gave
		// back would only fight it.
		h.idle = true
		h.lastState = h.stateSize()
		if at.Sub(h.gcWanted) >= gcHoldQuiet {
			h.releaseGC()
		}
		if at.Sub(h.activeAt) >= gcHoldQuiet {
			h.withdrawHuge()
		}
		if h.trimDue && h.opts.TrimAfter >= 0 && at.Sub(h.activeAt) >= h.opts.TrimAfter {
			h.trimDue = false
			if h.hugeUsed {
				h.hugeUsed = false
				h.claimHugeTail()
			}
			debug.FreeOSMemory()
			h.trims.Add(1)
			h.lastInUse = h.inUse() // the collection freed what was garbage
		}
		return false
	}
	if h.idle && at.Sub(h.activeAt) > time.Second {
		// The heap starts growing again after a rest: it may first reuse
		// pages it gave back to the OS below the old frontier, so scan from
		// the bottom: the probe's page, since Go 1.26 starts the heap at a
		// random page and never touches the pages of its first arena below
		// that. (Within one burst of growth, the collector's cycles pause
		// the growth for a round or two; the scan goes on from where it
		// was, or it would refill the holes the scavenger makes behind it.)
		h.cursor = uintptr(unsafe.Pointer(heapProbe)) &^ (pageSize - 1)
		h.burstFrom = now - uint64(grown)
	}
	h.idle, h.activeAt = false, at
	burst := int64(now) - int64(h.burstFrom)
	state := h.stateSize()
	newState := h.opts.StateSize == nil || state > h.lastState
	h.lastState = state
	if burst >= int64(h.opts.TrimBurst) {
		h.trimDue = true
		if newState {
			h.gcWanted = at
			h.holdGC()
		}
	}
	if at.Sub(h.gcWanted) >= gcHoldQuiet {
		h.releaseGC()
	}
	if h.huge() && burst >= int64(h.opts.HugeBurst) {
		h.adviseHuge()
	}
	if burst < int64(h.opts.MinBurst) {
		return true // a burst too small so far to be worth the RSS
	}
	h.rounds.Add(1)
	window := min(max(4*int(perRound), h.opts.MinWindow), h.opts.MaxWindow) / pageSize
	if time.Since(h.mapsAt) > 50*time.Millisecond {
		h.readMaps() // the heap maps more as it grows
	}
	// The heap's released memory that is not above its top is in holes
	// below it, where the heap will grow first.
	top, above := h.residentTop()
	holes := int(max(int64(h.released)-int64(above), 0) / pageSize)
	if left := h.populateAhead(window, top, holes); left > 0 && time.Since(h.mapsAt) > h.opts.Busy {
		// The known mappings ran out: the heap has likely mapped more.
		h.readMaps()
		h.populateAhead(left, top, 0)
	}
	return true
}

// premapHeap has the runtime map n bytes of address space for the heap
// now, without a page of it faulted in: a fresh large allocation is known
// to be zero, so it is neither cleared nor touched, and once a collection
// has found it dead it is free heap space in read-write mappings, which
// adviseHuge can advise before the heap writes to it. The runtime otherwise
// maps its arenas a few MiB at a time, just as the heap needs them, and the
// heap writes the first pages of each before a round could advise them:
// measured, half of every 4 MiB it mapped stayed in small pages.
func premapHeap(n int) {
	b := make([]byte, n)
	runtime.KeepAlive(b)
}

// huge says whether bursts get huge pages.
func (h *HeapAhead) huge() bool { return h.hugeOK && h.opts.HugeBurst >= 0 }

// claimHugeTail runs before the trim that follows a burst with huge pages.
// The last huge page the heap grew into is resident as a whole, though the
// heap allocated only its first part: the runtime counts the rest as memory
// it never used (returned to the OS), so the trim would leave it resident.
// Small blocks allocated now take the heap's lowest free pages, first the
// holes and then that rest, up to the heap's resident top; dropped, the
// trim's collection frees them and gives their pages back with the others.
// The holes below can be large: after some MLD 50k intakes, 128 blocks
// (8 MiB) did not reach the top and up to 13 MiB the runtime did not count
// stayed resident, ~300 B per (S,G). So the blocks go on to the top, at
// most as many as the heap's free and released memory holds.
// Released pages above what the heap ever used need no clearing, and the
// rest is few: measured 1-40 ms for 2-88 MiB of blocks.
func (h *HeapAhead) claimHugeTail() {
	h.readMaps()
	top, _ := h.residentTop()
	if top == 0 {
		return
	}
	spare := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(spare)
	most := int((spare[0].Value.Uint64()+spare[1].Value.Uint64())/tailBlock) + 1
	blocks := make([][]byte, 0, most)
	for range most {
		b := make([]byte, tailBlock)
		blocks = append(blocks, b)
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p+tailBlock >= top {
			break
		}
	}
	runtime.KeepAlive(blocks)
}

// tailBlock is a large object: a span of its own, from the lowest free
// pages.
const tailBlock = 64 << 10

// hugePageSize is the size of a transparent huge page on amd64 and on arm64
// with 4 KiB pages.
const hugePageSize = 2 << 20

// hugePagesOnAdvice says whether the kernel gives transparent huge pages
// only where they are asked for. With "always" the heap has them already;
// with "never" the advice is wasted.
func hugePagesOnAdvice() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(b, []byte("[madvise]"))
}

// adviseHuge advises every huge page's worth of the heap's address space
// that has not a page resident for transparent huge pages, once, when the
// burst calls for it or the heap maps it. Where nothing is resident,
// khugepaged has nothing to collapse, and a fault maps a whole huge page
// instead of 4 KiB; where the heap has written already, it keeps its small
// pages.
func (h *HeapAhead) adviseHuge() {
	if !h.hugeOn {
		h.hugeOn, h.hugeSeen, h.hugeUsed = true, 0, true
		h.hugeBursts.Add(1)
		h.readMaps()
	} else if time.Since(h.mapsAt) > 10*time.Millisecond {
		h.readMaps() // the runtime maps more as the heap grows
	}
	const pages = hugePageSize / pageSize
	for _, m := range h.maps {
		region := alignUp(max(m.start, h.hugeSeen), hugePageSize)
		for ; region+hugePageSize <= m.end; region += hugePageSize {
			if mincore(region, pages, h.vec[:pages]) != nil || slices.ContainsFunc(h.vec[:pages], func(v byte) bool { return v&1 != 0 }) {
				continue
			}
			if n := len(h.advised); n > 0 && h.advised[n-1].end == region {
				h.advised[n-1].end += hugePageSize
			} else {
				h.advised = append(h.advised, mapping{region, region + hugePageSize})
			}
			madvise(region, hugePageSize, unix.MADV_HUGEPAGE)
		}
		h.hugeSeen = max(h.hugeSeen, m.end)
	}
}

// withdrawHuge takes the huge page advice back (MADV_NOHUGEPAGE) once a
// burst is over. The huge pages the heap has stay; but the scavenger gives
// memory back 4 KiB at a time, splitting them, and khugepaged must not
// gather those pages up again into huge pages the runtime believes it has
// returned.
func (h *HeapAhead) withdrawHuge() {
	for _, m := range h.advised {
		madvise(m.start, m.end-m.start, unix.MADV_NOHUGEPAGE)
	}
	h.advised, h.hugeOn = h.advised[:0], false
}

func alignUp(p, align uintptr) uintptr { return (p + align - 1) &^ (align - 1) }

// gcHoldQuiet is how long the heap must grow slowly (or without new state)
// before GOGC comes back after a burst: a collection, or a gap between two
// packets, pauses the growth for a round or two within one burst.
const gcHoldQuiet = 10 * time.Millisecond

// holdGC raises GOGC to BurstGCPercent for the rest of the burst, unless
// it is already that high or the collector is off.
func (h *HeapAhead) holdGC() {
	if h.gcHeld || h.opts.BurstGCPercent < 0 {
		return
	}
	if was := gcPercent(); was < 0 || was >= h.opts.BurstGCPercent {
		return
	}
	h.gcHeld, h.gcPercent = true, debug.SetGCPercent(h.opts.BurstGCPercent)
	h.gcHolds.Add(1)
}

// releaseGC gives GOGC its value from before the burst back, after a
// collection run here. Set back at once, GOGC would leave the heap far over
// the collector's goal, and a cycle that starts there charges every
// allocation a large assist: the event loop's next Hello would wait tens of
// milliseconds on marking the whole burst's state. Collected first, while
// the held GOGC's goal is still above the heap, the marking runs on this
// goroutine and the collector's own workers, and the goal from the old GOGC
// is then above the heap too. (Collecting with GOGC raised out of reach
// instead left 2-4 MB more resident after some 10k intakes.)
func (h *HeapAhead) releaseGC() {
	if !h.gcHeld {
		return
	}
	runtime.GC()
	debug.SetGCPercent(h.gcPercent)
	h.gcHeld = false
}

func (h *HeapAhead) stateSize() int64 {
	if h.opts.StateSize == nil {
		return 0
	}
	return h.opts.StateSize()
}

// dropHeadroom gives GOGC its value from before HeapAhead back.
func (h *HeapAhead) dropHeadroom() {
	if h.opts.MinHeadroom > 0 && h.gcBase > 0 && gcPercent() >= 0 {
		debug.SetGCPercent(h.gcBase)
	}
}

// gcPercent reads GOGC (-1: off).
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return -1
	}
	v := s[0].Value.Uint64()
	if v > math.MaxInt32 {
		return -1
	}
	return int(v)
}

// populateAhead faults in the first pages (up to window of them) of the heap
// mappings, from the cursor up, that are not resident, and returns how many
// of the window it did not find. Below top (the end of the highest resident
// page) it fills at most holes pages: a hole there is either memory the heap
// gave back to the OS, which it reuses first when it grows, or the unwritten
// end of an allocation, which it never touches; the caller sizes holes by
// what the heap says it gave back.
func (h *HeapAhead) populateAhead(window int, top uintptr, holes int) (left int) {
	left = window
	first := true
	for _, m := range h.maps {
		start := max(m.start, h.cursor)
		for addr := start; addr < m.end && left > 0; {
			n := min(len(h.vec), int((m.end-addr)/pageSize))
			if err := mincore(addr, n, h.vec); err != nil {
				return 0 // the mapping changed under us; the next round rereads it
			}
			for i := 0; i < n && left > 0; {
				if h.vec[i]&1 != 0 {
					i++
					continue
				}
				j := i
				for j < n && j-i < left && h.vec[j]&1 == 0 {
					j++
				}
				run := addr + uintptr(i)*pageSize
				count := j - i
				if run < top {
					// A hole: never across the top, and within the budget.
					count = min(count, int((top-run)/pageSize), holes)
					holes -= count
					if count == 0 {
						i = min(j, i+int((top-run)/pageSize))
						continue
					}
				}
				if first {
					h.cursor, first = run, false
				}
				if populate(run, count*pageSize) != nil {
					// Not populatable memory (nothing of Go's heap should be):
					// skip it, and never read it.
					i += count
					continue
				}
				readPagesYielding(run, count)
				h.populated.Add(uint64(count))
				left -= count
				i += count
			}
			addr += uintptr(n) * pageSize
		}
	}
	return left
}

// residentTop is the end of the highest resident page of the heap mappings
// (0 if none is known), and how many bytes of the mappings lie above it.
func (h *HeapAhead) residentTop() (top, above uintptr) {
	for k := len(h.maps) - 1; k >= 0; k-- {
		m := h.maps[k]
		for end := m.end; end > m.start; {
			n := min(len(h.vec), int((end-m.start)/pageSize))
			addr := end - uintptr(n)*pageSize
			if mincore(addr, n, h.vec) != nil {
				return 0, 0
			}
			for i := n - 1; i >= 0; i-- {
				if h.vec[i]&1 != 0 {
					top = addr + uintptr(i+1)*pageSize
					for _, m := range h.maps {
						if m.end > top {
							above += m.end - max(m.start, top)
						}
					}
					return top, above
				}
			}
			end = addr
		}
	}
	return 0, 0
}

// readMaps finds the Go heap's anonymous read-write mappings.
func (h *HeapAhead) readMaps() error {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("heap prefault: %w", err)
	}
	h.maps = h.maps[:0]
	arena := uintptr(unsafe.Pointer(heapProbe)) &^ (arenaBytes - 1)
	low, high := arena-min(arena, heapSpan), arena+heapSpan
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		f := bytes.Fields(sc.Bytes())
		if len(f) != 5 || !bytes.HasPrefix(f[1], []byte("rw")) || string(f[4]) != "0" {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || uintptr(start) < low || uintptr(end) > high {
			continue
		}
		h.maps = append(h.maps, mapping{uintptr(start), uintptr(end)})
	}
	h.mapsAt = time.Now()
	return nil
}

// readChunk is how many pages readPages touches between two chances for the
// scheduler to run something else (~16 x 5 µs here): an assembly loop cannot
// be preempted, and the event loop must not wait behind it for a P.
const readChunk = 16

func readPagesYielding(addr uintptr, pages int) {
	for pages > 0 {
		n := min(pages, readChunk)
		readPages(addr, n, pageSize)
		addr += uintptr(n) * pageSize
		pages -= n
		if pages > 0 {
			runtime.Gosched()
		}
	}
}

func populate(addr uintptr, n int) error {
	return madvise(addr, uintptr(n), unix.MADV_POPULATE_WRITE)
}

func madvise(addr, n uintptr, advice int) error {
	_, _, e := unix.Syscall(unix.SYS_MADVISE, addr, n, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}

func mincore(addr uintptr, pages int, vec []byte) error {
	_, _, e := unix.Syscall(unix.SYS_MINCORE, addr, uintptr(pages)*pageSize, uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return e
	}
	return nil
}

package prefault

import "time"

// HeapOptions tunes a HeapAhead; the zero value gives the defaults.
type HeapOptions struct {
	// MinWindow and MaxWindow bound how far ahead of the heap, in bytes, pages
	// are faulted in: four rounds' worth of the heap's latest growth, within
	// these bounds (defaults 128 KiB and 1 MiB). What is ahead when the heap
	// stops growing stays resident until the heap grows into it.
	MinWindow, MaxWindow int
	// Busy is the period of the rounds while the heap grows (default 1 ms);
	// Idle while it does not (default 20 ms).
	Busy, Idle time.Duration
	// MinRate is the growth, in bytes per second, below which the heap is
	// left to fault its own pages (default 32 MiB/s: 8,000 faults a second,
	// about 10% of a thread on the VMs measured).
	MinRate int
	// MinBurst is how much the heap must have grown, in bytes, since it last
	// rested (a second without fast growth) before pages are populated
	// (default 16 MiB): a small intake is over before the gain pays for the
	// RSS that populating ahead costs.
	MinBurst int
	// TrimAfter: once a burst of at least TrimBurst bytes has been followed
	// by this long without fast growth, the heap's free memory goes back to
	// the OS (debug.FreeOSMemory): the collector's headroom, which a burst
	// leaves mapped for minutes otherwise (defaults 250 ms and 4 MiB;
	// TrimAfter negative: never).
	TrimAfter time.Duration
	TrimBurst int
	// BurstGCPercent is the collector's GOGC while a burst of at least
	// TrimBurst grows the heap (default 400; negative: leave the collector
	// alone). What such a burst allocates is nearly all new long-lived state
	// (an intake of joins), which every collection during it marks again for
	// little garbage: at pim6d's GOGC of 50, ~15% of its CPU per (S,G). The
	// old GOGC comes back in the first round without fast growth, and the
	// trim after the burst collects and returns what the burst left.
	BurstGCPercent int
	// HugeBurst is how much the heap must have grown in a burst before the
	// address space it grows into is advised for transparent huge pages
	// (MADV_HUGEPAGE), for the rest of the burst (default 2 MiB; negative:
	// never). A huge page costs one fault where 512 small ones cost 512: on
	// the VMs pim6d is measured on, ~0.3 µs per 4 KiB instead of ~14 µs.
	// Only used when the system gives huge pages on advice alone
	// (/sys/kernel/mm/transparent_hugepage/enabled is "madvise"); the advice
	// is withdrawn when the burst ends, so that khugepaged never collapses
	// the heap's sparse memory into huge pages behind the scavenger's back.
	HugeBurst int
	// HugeReserve is how much of the heap's address space to keep mapped,
	// free and not resident, above its top between bursts (default 64 MiB,
	// or the last burst's growth if larger): the runtime maps its arenas a
	// few MiB at a time as the heap needs them, and the heap writes the
	// first pages of each before any advice could reach the new mapping.
	// Mapped ahead, it costs address space, not memory.
	HugeReserve int
	// MinHeadroom keeps the collector's goal at least this many bytes above
	// the live heap (0: no floor): GOGC is raised for as long as the heap is
	// small enough for GOGC's own headroom to be less. Go's smallest goal is
	// 4 MiB x GOGC/100, 2 MiB at pim6d's GOGC of 50: an intake that starts
	// on a heap of ~1.5 MiB went through five collections in its first
	// 40 ms, each with the loop assisting. The cost is at most MinHeadroom of
	// garbage resident between collections, none at quiet after a trim.
	MinHeadroom int
	// StateSize, if set, counts the long-lived entries the heap holds (for
	// pim6d, its protocol state). The collector is then held back only in
	// rounds in which that count grew too: a heap that grows without it
	// (a snapshot answer being built) grows with what will be garbage.
	StateSize func() int64
}

// HeapStats counts what a HeapAhead did.
type HeapStats struct {
	Rounds     uint64 // rounds in which pages were populated
	Populated  uint64 // pages faulted in ahead of the heap
	Trims      uint64 // times the heap's free memory was returned after a burst
	GCHolds    uint64 // bursts during which the collector ran at BurstGCPercent
	HugeBursts uint64 // bursts during which the heap's growth was advised for huge pages
}

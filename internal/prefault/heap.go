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
	// StateSize, if set, counts the long-lived entries the heap holds (for
	// pim6d, its protocol state). The collector is then held back only in
	// rounds in which that count grew too: a heap that grows without it
	// (a snapshot answer being built) grows with what will be garbage.
	StateSize func() int64
}

// HeapStats counts what a HeapAhead did.
type HeapStats struct {
	Rounds    uint64 // rounds in which pages were populated
	Populated uint64 // pages faulted in ahead of the heap
	Trims     uint64 // times the heap's free memory was returned after a burst
	GCHolds   uint64 // bursts during which the collector ran at BurstGCPercent
}

// Package timerq is a timer queue for sans-I/O protocol cores: a min-heap of
// deadlines keyed by an id the core chooses (a neighbor address, an (S,G), a
// (link, group) pair), with entries that can be moved or cancelled by key.
//
// It has no goroutines and never reads a clock. A core keeps one Queue, sets
// and cancels deadlines as its state machines say, reports q.NextDeadline() to
// the event loop, and on each Tick(now) handles the keys q.PopExpired(now)
// returns:
//
//	func (c *Core) Tick(now time.Time) {
//		for _, k := range c.timers.PopExpired(now) {
//			c.expire(now, k)
//		}
//	}
//	func (c *Core) NextDeadline() time.Time { return c.timers.NextDeadline() }
//
// Expiries come out in deadline order; equal deadlines come out in the order
// they were set, so a core driven by the same inputs expires the same way on
// every run.
//
// Heap is the allocation-free variant for cores with very many timers (MLD
// source timers, PIM per-(S,G) timers): the timer lives inside the state it
// belongs to and keeps its own heap position (Elem), so arming one allocates
// nothing and a flood of refreshes never grows the heap.
package timerq

package pim

import (
	"time"

	"github.com/pim6d/pim6d/timerq"
)

// timerKind names what a timer does when it fires.
type timerKind uint8

const (
	timerHello           timerKind = iota + 1 // interface Hello Timer (§4.3.1)
	timerNeighbor                             // Neighbor Liveness Timer (§4.3.2)
	timerExpiry                               // downstream Expiry Timer (§4.5.2)
	timerPrunePending                         // downstream PrunePending Timer (§4.5.2)
	timerJoin                                 // upstream Join Timer (§4.5.7)
	timerAssert                               // Assert Timer (§4.6.1)
	timerKeepalive                            // (S,G) Keepalive Timer (§4.1.2)
	timerPacer                                // periodic Join/Prune pacer slot
	timerRptExpiry                            // downstream (S,G,rpt) Expiry Timer (§4.5.3)
	timerRptPrunePending                      // downstream (S,G,rpt) Prune-Pending Timer (§4.5.3)
	timerOverride                             // upstream (S,G,rpt) Override Timer (§4.5.9)
)

// expirer is what owns a timer and reacts to its expiry.
type expirer interface {
	expire(r *Router, t *timer)
}

// timer is one protocol timer. Timers live inside the state they belong to
// (no allocation per arm); the Router keeps the running ones in a min-heap.
type timer struct {
	when  int64 // unix nanoseconds
	index int32 // 1-based heap position; 0 = not running
	kind  timerKind
	owner expirer
}

// running reports whether t runs; a timer not allocated yet (nil) does not.
func (t *timer) running() bool { return t != nil && t.index != 0 }

// remaining returns the time left at now (0 when stopped or overdue).
func (t *timer) remaining(now int64) time.Duration {
	if !t.running() || t.when <= now {
		return 0
	}
	return time.Duration(t.when - now)
}

// HeapPos and Before make a timer an element of the Router's heap.
func (t *timer) HeapPos() *int32          { return &t.index }
func (t *timer) Before(other *timer) bool { return t.when < other.when }

// timerHeap holds the running timers ordered by when (timerq.Heap).
type timerHeap timerq.Heap[*timer]

// set (re)arms t to fire at when.
func (h *timerHeap) set(t *timer, when int64) {
	t.when = when
	(*timerq.Heap[*timer])(h).Fix(t)
}

// stop disarms t.
func (h *timerHeap) stop(t *timer) {
	if t != nil {
		(*timerq.Heap[*timer])(h).Remove(t)
	}
}

// popDue removes and returns the earliest timer due at now, or nil.
func (h *timerHeap) popDue(now int64) *timer {
	t, ok := timerq.Heap[*timer](*h).Peek()
	if !ok || t.when > now {
		return nil
	}
	h.stop(t)
	return t
}

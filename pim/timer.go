package pim

import "time"

// timerKind names what a timer does when it fires.
type timerKind uint8

const (
	timerHello        timerKind = iota + 1 // interface Hello Timer (§4.3.1)
	timerNeighbor                          // Neighbor Liveness Timer (§4.3.2)
	timerExpiry                            // downstream Expiry Timer (§4.5.2)
	timerPrunePending                      // downstream PrunePending Timer (§4.5.2)
	timerJoin                              // upstream Join Timer (§4.5.7)
	timerAssert                            // Assert Timer (§4.6.1)
	timerKeepalive                         // (S,G) Keepalive Timer (§4.1.2)
	timerPacer                             // periodic Join/Prune pacer slot
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

func (t *timer) running() bool { return t.index != 0 }

// remaining returns the time left at now (0 when stopped or overdue).
func (t *timer) remaining(now int64) time.Duration {
	if !t.running() || t.when <= now {
		return 0
	}
	return time.Duration(t.when - now)
}

// timerHeap is a binary min-heap of running timers ordered by when.
type timerHeap []*timer

func (h timerHeap) less(i, j int) bool { return h[i].when < h[j].when }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = int32(i + 1)
	h[j].index = int32(j + 1)
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// set (re)arms t to fire at when.
func (h *timerHeap) set(t *timer, when int64) {
	if t.running() {
		i := int(t.index - 1)
		old := t.when
		t.when = when
		if when < old {
			h.up(i)
		} else {
			h.down(i)
		}
		return
	}
	t.when = when
	*h = append(*h, t)
	t.index = int32(len(*h))
	h.up(len(*h) - 1)
}

// stop disarms t.
func (h *timerHeap) stop(t *timer) {
	if !t.running() {
		return
	}
	i := int(t.index - 1)
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	t.index = 0
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// popDue removes and returns the earliest timer due at now, or nil.
func (h *timerHeap) popDue(now int64) *timer {
	if len(*h) == 0 || (*h)[0].when > now {
		return nil
	}
	t := (*h)[0]
	h.stop(t)
	return t
}

package mld

import (
	"time"

	"github.com/pim6d/pim6d/timerq"
)

// timerKind says what a timer drives.
type timerKind uint8

const (
	timerGeneralQuery timerKind = iota + 1 // next General Query (querier only)
	timerOtherQuerier                      // Other Querier Present timer (§7.6.2)
	timerGroup                             // Multicast Address (filter) timer (§7.2.3)
	timerCompat                            // Older Version Host Present timer (§8.3.2)
	timerRexmit                            // next specific-query retransmission (§7.6.3)
	timerSource                            // source timer (§7.2.3)
)

// timer is one deadline in the querier's heap. It is embedded in the record
// it belongs to, so arming it allocates nothing. The zero value is stopped.
type timer struct {
	at   time.Duration // since Querier.epoch
	pos  int32         // 1 + index in the heap; 0 when stopped
	kind timerKind
	g    *group
	s    *source
}

func (t *timer) running() bool { return t.pos != 0 }

// remaining returns how long until t fires, 0 when stopped.
func (t *timer) remaining(now time.Duration) time.Duration {
	if !t.running() || t.at < now {
		return 0
	}
	return t.at - now
}

// HeapPos and Before make a timer an element of the querier's heap.
func (t *timer) HeapPos() *int32          { return &t.pos }
func (t *timer) Before(other *timer) bool { return t.at < other.at }

// timerHeap holds the armed timers, ordered by deadline (timerq.Heap): the
// heap never holds more entries than there are records, so a flood of
// refreshes does not grow it.
type timerHeap timerq.Heap[*timer]

func (h *timerHeap) set(t *timer, at time.Duration) {
	t.at = at
	(*timerq.Heap[*timer])(h).Fix(t)
}

func (h *timerHeap) stop(t *timer) { (*timerq.Heap[*timer])(h).Remove(t) }

// peek returns the earliest timer, or nil.
func (h timerHeap) peek() *timer {
	t, _ := timerq.Heap[*timer](h).Peek()
	return t
}

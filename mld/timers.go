package mld

import "time"

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

// timerHeap is a binary min-heap of armed timers, ordered by deadline. Each
// timer knows its position, so re-arming is an O(log n) fix-up in place and
// the heap never holds more entries than there are records: a flood of
// refreshes does not grow it.
type timerHeap []*timer

func (h *timerHeap) set(t *timer, at time.Duration) {
	if t.running() {
		old := t.at
		t.at = at
		i := int(t.pos - 1)
		if at < old {
			h.up(i)
		} else {
			h.down(i)
		}
		return
	}
	t.at = at
	*h = append(*h, t)
	t.pos = int32(len(*h))
	h.up(len(*h) - 1)
}

func (h *timerHeap) stop(t *timer) {
	if !t.running() {
		return
	}
	i := int(t.pos - 1)
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	t.pos = 0
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// peek returns the earliest timer, or nil.
func (h timerHeap) peek() *timer {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h timerHeap) less(i, j int) bool { return h[i].at < h[j].at }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos = int32(i + 1)
	h[j].pos = int32(j + 1)
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

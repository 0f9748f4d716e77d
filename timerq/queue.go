package timerq

import (
	"container/heap"
	"time"
)

// Queue holds at most one deadline per key. The zero value is an empty queue
// ready to use. A Queue is not safe for concurrent use: it belongs to the one
// goroutine that owns the protocol state.
type Queue[K comparable] struct {
	h     entryHeap[K]
	byKey map[K]*entry[K]
	seq   uint64
}

type entry[K comparable] struct {
	key   K
	at    time.Time
	seq   uint64 // order of Set, to break ties
	index int
}

// Set schedules key to expire at at, replacing any deadline it had. A
// replaced deadline counts as newly set for ordering among equal deadlines.
func (q *Queue[K]) Set(key K, at time.Time) {
	if q.byKey == nil {
		q.byKey = make(map[K]*entry[K])
	}
	q.seq++
	if e, ok := q.byKey[key]; ok {
		e.at, e.seq = at, q.seq
		heap.Fix(&q.h, e.index)
		return
	}
	e := &entry[K]{key: key, at: at, seq: q.seq}
	q.byKey[key] = e
	heap.Push(&q.h, e)
}

// Cancel removes key's deadline and reports whether it had one.
func (q *Queue[K]) Cancel(key K) bool {
	e, ok := q.byKey[key]
	if !ok {
		return false
	}
	heap.Remove(&q.h, e.index)
	delete(q.byKey, key)
	return true
}

// Deadline returns key's deadline, if it has one.
func (q *Queue[K]) Deadline(key K) (time.Time, bool) {
	e, ok := q.byKey[key]
	if !ok {
		return time.Time{}, false
	}
	return e.at, true
}

// Len returns the number of pending deadlines.
func (q *Queue[K]) Len() int { return len(q.h) }

// NextDeadline returns the earliest deadline, or the zero time when the queue
// is empty (the event loop's "no deadline").
func (q *Queue[K]) NextDeadline() time.Time {
	if len(q.h) == 0 {
		return time.Time{}
	}
	return q.h[0].at
}

// PopExpired removes and returns, in deadline order (ties in the order they
// were set), every key whose deadline is not after now. It returns nil when
// none has expired.
func (q *Queue[K]) PopExpired(now time.Time) []K {
	var keys []K
	for {
		k, ok := q.PopNext(now)
		if !ok {
			return keys
		}
		keys = append(keys, k)
	}
}

// PopNext removes and returns the earliest key if its deadline is not after
// now. Handling expiries one at a time lets a handler set new deadlines that
// are already due and have them come out in the same pass.
func (q *Queue[K]) PopNext(now time.Time) (K, bool) {
	if len(q.h) == 0 || q.h[0].at.After(now) {
		var zero K
		return zero, false
	}
	e := heap.Pop(&q.h).(*entry[K])
	delete(q.byKey, e.key)
	return e.key, true
}

type entryHeap[K comparable] []*entry[K]

func (h entryHeap[K]) Len() int { return len(h) }
func (h entryHeap[K]) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h entryHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *entryHeap[K]) Push(x any) {
	e := x.(*entry[K])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap[K]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

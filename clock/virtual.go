package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Virtual is a clock that moves only when told to. Its timers sit in a heap
// ordered by deadline, ties broken by the order they were scheduled in, and
// fire as the clock is advanced over them, with Now set to each deadline as it
// fires. Two runs that schedule the same timers fire them in the same order.
//
// Timers come in two flavours:
//   - channel timers (NewTimer) send the deadline on their channel, so a select
//     loop in another goroutine can wait on them as on a time.Timer;
//   - func timers (Schedule, AfterFunc) call a function in the goroutine that
//     advances the clock, for synchronous, single-goroutine simulations.
//
// A Virtual clock is safe for concurrent use, but it should be advanced from
// one goroutine at a time; callbacks may schedule, stop and reset timers
// (including themselves) but must not advance the clock.
type Virtual struct {
	mu    sync.Mutex
	now   time.Time
	seq   uint64
	q     timerHeap
	fired uint64
}

// NewVirtual returns a virtual clock that reads start until it is advanced.
func NewVirtual(start time.Time) *Virtual {
	return &Virtual{now: start}
}

// Now returns the clock's current time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// NewTimer returns a channel timer that fires d after Now. A timer with d <= 0
// fires at once: its channel holds the current time before NewTimer returns,
// as a time.Timer's would almost immediately.
func (v *Virtual) NewTimer(d time.Duration) Timer {
	t := &VirtualTimer{v: v, index: -1, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc schedules f to run d after Now; see Schedule.
func (v *Virtual) AfterFunc(d time.Duration, f func()) *VirtualTimer {
	return v.Schedule(v.Now().Add(d), f)
}

// Schedule arranges for f to be called at time at, in the goroutine that
// advances the clock over at. A time not after Now is due at once: f runs on
// the next Step or Advance (even Advance(0)), never inside Schedule itself.
func (v *Virtual) Schedule(at time.Time, f func()) *VirtualTimer {
	t := &VirtualTimer{v: v, index: -1, f: f}
	t.ResetAt(at)
	return t
}

// Pending returns the number of timers waiting to fire.
func (v *Virtual) Pending() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.q)
}

// Fired returns how many timers have fired since the clock was made.
func (v *Virtual) Fired() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fired
}

// NextDeadline returns the deadline of the next timer to fire, if any.
func (v *Virtual) NextDeadline() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.q) == 0 {
		return time.Time{}, false
	}
	return v.q[0].when, true
}

// Step fires the next timer if its deadline is not after limit, moving Now
// forward to that deadline first (never backward). It reports whether a timer
// fired.
func (v *Virtual) Step(limit time.Time) bool {
	v.mu.Lock()
	if len(v.q) == 0 || v.q[0].when.After(limit) {
		v.mu.Unlock()
		return false
	}
	t := heap.Pop(&v.q).(*VirtualTimer)
	if t.when.After(v.now) {
		v.now = t.when
	}
	now := v.now
	v.fired++
	v.mu.Unlock()
	// Outside the lock: a callback may schedule, stop or reset timers.
	if t.ch != nil {
		select {
		case t.ch <- now:
		default: // unreachable: every re-arm drains the channel first
		}
	} else {
		t.f()
	}
	return true
}

// AdvanceTo fires, in order, every timer due up to and including t, including
// timers those timers' callbacks schedule within the range, then sets Now to t
// (if t is later). It returns the number of timers fired.
func (v *Virtual) AdvanceTo(t time.Time) int {
	n := 0
	for v.Step(t) {
		n++
	}
	v.mu.Lock()
	if t.After(v.now) {
		v.now = t
	}
	v.mu.Unlock()
	return n
}

// Advance moves the clock forward by d; see AdvanceTo.
func (v *Virtual) Advance(d time.Duration) int {
	return v.AdvanceTo(v.Now().Add(d))
}

// RunFor runs the clock for d: the same as Advance, named for simulations.
func (v *Virtual) RunFor(d time.Duration) int {
	return v.Advance(d)
}

// RunUntilIdle fires timers in order until none is pending or the next one is
// more than limit after the time RunUntilIdle was called (periodic timers never
// go idle). Now is left at the last deadline fired. It returns the number of
// timers fired and whether the clock went idle.
func (v *Virtual) RunUntilIdle(limit time.Duration) (fired int, idle bool) {
	end := v.Now().Add(limit)
	for v.Step(end) {
		fired++
	}
	return fired, v.Pending() == 0
}

// VirtualTimer is a timer on a Virtual clock. Channel timers (from NewTimer)
// implement Timer; func timers (from Schedule and AfterFunc) have a nil channel
// and are cancelled with Stop or moved with Reset and ResetAt.
type VirtualTimer struct {
	v     *Virtual
	when  time.Time
	seq   uint64
	index int // position in the heap; -1 when not pending
	ch    chan time.Time
	f     func()
}

// C returns the channel a channel timer fires on (nil for a func timer).
func (t *VirtualTimer) C() <-chan time.Time { return t.ch }

// When returns the deadline the timer was last armed for.
func (t *VirtualTimer) When() time.Time {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	return t.when
}

// Stop prevents the timer from firing and reports whether it was pending. As
// with Go 1.23 timers, no stale time is received from C after Stop returns.
func (t *VirtualTimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	return t.stopLocked()
}

func (t *VirtualTimer) stopLocked() bool {
	if t.ch != nil {
		select {
		case <-t.ch:
		default:
		}
	}
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.v.q, t.index)
	return true
}

// Reset re-arms the timer to fire d after Now and reports whether it was
// pending. A channel timer with d <= 0 fires at once.
func (t *VirtualTimer) Reset(d time.Duration) bool {
	return t.ResetAt(t.v.Now().Add(d))
}

// ResetAt re-arms the timer to fire at at and reports whether it was pending.
// It counts as a new scheduling: among timers with the same deadline it fires
// after those scheduled before it.
func (t *VirtualTimer) ResetAt(at time.Time) bool {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	active := t.stopLocked()
	if t.ch != nil && !at.After(v.now) {
		t.when = v.now
		v.fired++
		t.ch <- v.now // buffered and just drained: never blocks
		return active
	}
	v.seq++
	t.when, t.seq = at, v.seq
	heap.Push(&v.q, t)
	return active
}

// timerHeap orders timers by deadline, then by scheduling order.
type timerHeap []*VirtualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*VirtualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

package router

import (
	"context"
	"errors"
	"time"

	"github.com/pim6d/pim6d/clock"
)

// Handler is the protocol state a Loop drives. Its methods are only ever called
// from the loop's goroutine, so it needs no locks.
type Handler interface {
	// HandleEvent handles one event from the stack (stack.LinkEvent,
	// stack.PacketEvent, ...) at now.
	HandleEvent(now time.Time, ev any)
	// Tick runs the timers due at now. After it returns, NextDeadline must be
	// after now (or zero), or Tick is called again at once.
	Tick(now time.Time)
	// NextDeadline is when the handler next wants Tick; the zero time means
	// never (until an event changes its mind).
	NextDeadline() time.Time
}

// ErrStopped is returned by Do when the loop has stopped.
var ErrStopped = errors.New("router: event loop stopped")

// ErrEventsClosed is returned by Run when the stack closed its events channel.
var ErrEventsClosed = errors.New("router: stack events channel closed")

// Loop is the one goroutine that owns a router's protocol state. Run selects
// on the stack's events, on a clock timer armed to the handler's next deadline,
// and on closures handed in by Do; everything the handler does happens inside
// it, one thing at a time.
type Loop struct {
	clk    clock.Clock
	events <-chan any
	h      Handler

	ops     chan op
	stopped chan struct{} // closed when Run returns
}

// op is a closure to run inside the loop (GoBGP's mgmtOperation).
type op struct {
	f    func()
	done chan struct{}
}

// NewLoop returns a loop that feeds events (a stack's Events channel) and
// timer expiries from clk into h. It does nothing until Run.
func NewLoop(clk clock.Clock, events <-chan any, h Handler) *Loop {
	return &Loop{
		clk:     clk,
		events:  events,
		h:       h,
		ops:     make(chan op),
		stopped: make(chan struct{}),
	}
}

// Run runs the loop until ctx is done (it then returns ctx.Err()) or the events
// channel is closed (ErrEventsClosed). Run may be called once.
//
// Whatever wakes the loop, the handler's deadline is checked against the clock
// first: a due deadline is ticked before the event or closure is handled, and
// a closure runs only after the events already queued. So on a virtual clock a
// test that advances the clock (delivering packets, passing deadlines) and then
// calls Do sees all of it handled first, deterministically.
func (l *Loop) Run(ctx context.Context) error {
	defer close(l.stopped)
	timer := l.clk.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		l.tickIfDue()
		// Re-arm to the (possibly new) deadline. A deadline still due after
		// Tick arms a zero timer, so the loop comes round again without
		// starving events, Do calls or cancellation.
		if dl := l.h.NextDeadline(); dl.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(dl.Sub(l.clk.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-l.events:
			if !ok {
				return ErrEventsClosed
			}
			l.tickIfDue()
			l.h.HandleEvent(l.clk.Now(), ev)
		case <-timer.C():
			// The deadline check at the top of the loop ticks.
		case o := <-l.ops:
			if err := l.catchUp(); err != nil {
				return err
			}
			o.f()
			close(o.done)
		}
	}
}

// catchUp handles what was already waiting when a closure arrived: a passed
// deadline, then the events queued on the channel at that moment (a bounded
// number, so a busy stack cannot starve Do). A snapshot taken by Do therefore
// reflects every event the stack had delivered before Do was called.
func (l *Loop) catchUp() error {
	l.tickIfDue()
	for range len(l.events) {
		ev, ok := <-l.events
		if !ok {
			return ErrEventsClosed
		}
		l.h.HandleEvent(l.clk.Now(), ev)
		l.tickIfDue()
	}
	return nil
}

// tickIfDue ticks the handler if its deadline has passed. It runs before every
// event and closure, so whatever select picked, a deadline that passed before
// the loop woke is handled first, as time order says it should be.
func (l *Loop) tickIfDue() {
	now := l.clk.Now()
	if dl := l.h.NextDeadline(); !dl.IsZero() && !dl.After(now) {
		l.h.Tick(now)
	}
}

// Do runs f inside the loop and waits for it to return: the way to read or
// change protocol state from another goroutine (snapshots for the control
// socket, config reloads). It returns ctx.Err() if ctx ends before f starts
// running, and ErrStopped if the loop is not running any more. Do must not be
// called from inside the loop (from f or a Handler method): it would deadlock.
func (l *Loop) Do(ctx context.Context, f func()) error {
	o := op{f: f, done: make(chan struct{})}
	select {
	case l.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.stopped:
		return ErrStopped
	}
	// Once accepted, f runs to completion: wait for it even if ctx ends, so
	// the caller never races with f.
	<-o.done
	return nil
}

// Stopped is closed when Run has returned.
func (l *Loop) Stopped() <-chan struct{} { return l.stopped }

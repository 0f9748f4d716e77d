// Package clock is the injected time source for pim6d. Protocol cores never call
// time.Now: they are handed the current time by the event loop, which gets it, and
// its timers, from a Clock. Real runs use Real; tests and simulations use a
// Virtual clock that only moves when told to.
package clock

import "time"

// Clock is a source of the current time and of timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d has
	// passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer whose channel a select loop can wait on.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was active.
	Stop() bool
	// Reset re-arms the timer to fire d from now; it reports whether it was active.
	Reset(d time.Duration) bool
}

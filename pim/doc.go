// Package pim is the PIM-SM/SSM protocol core of pim6d (RFC 7761, RFC 4607,
// RFC 4604): Hello and neighbours, DR election, the Join/Prune state machines,
// Assert, and the forwarding state (the olist macros of RFC 7761 §4.1.6) that
// mfib turns into routes.
//
// # Sans-I/O
//
// A Router is a plain value owned by one goroutine (the daemon's event loop).
// It never reads the clock, never starts goroutines and takes no locks. Every
// input carries the current time:
//
//   - AddInterface / UpdateInterface / RemoveInterface / Shutdown: link set-up
//   - Receive: one decoded PIM message (pim/wire structs) from a link
//   - SetLocalMembership: local listeners from MLD (RFC 7761 §4.1.6)
//   - RouteChanged: the unicast table changed, RPF must be re-evaluated
//   - DataSignal: a signal from the forwarder (keepalive, wrong iif)
//   - Tick: timers; NextDeadline says when the next one is due
//
// After each call, Outbox returns the messages to send (with their link,
// source and destination) and the forwarding-state changes for mfib.
// Randomness (Generation IDs, hello and override delays) comes from the
// injected *rand.Rand, so a test with a fixed seed is deterministic.
//
// # Scope
//
// Implemented: Hello with all RFC 7761 options plus the Address List option 24
// (§4.3), DR election (§4.3.2), LAN Prune Delay (§4.3.3), the (S,G) downstream
// and upstream Join/Prune state machines with join suppression and prune
// override (§4.5.2, §4.5.7), the (S,G) Assert state machine (§4.6.1), the SSM
// rules of RFC 4607 (only (S,G) state in the SSM range; (*,G) and (S,G,rpt)
// requests there are counted and dropped), and periodic Join/Prune packed per
// upstream neighbour and paced so that refreshes spread over the period.
// For ASM groups the (*,G) downstream and upstream machines toward RP(G)
// (§4.5.1, §4.5.6) run on the same code as (S,G) (a route with source ::).
//
// Not yet implemented: (S,G,rpt) (counted as "asm-unsupported"), the (*,G)
// Assert, (S,G) state inheriting the (*,G) olist, SPT switchover, Register
// and the RP side.
//
// Deviation: for SSM groups the SPT bit is taken as set (RFC 7761 §4.2.2's
// Update_SPTbit would set it with the first data packet; in SSM there is no
// other tree to be on), so CouldAssert does not wait for data.
package pim

// Package router is pim6d's daemon core: the event loop that owns all protocol
// state of one router, and a driver that runs many routers on virtual time.
//
// # The event loop
//
// A Loop runs one Handler (the router's protocol state: MLD queriers, PIM, the
// FIB writer) in a single goroutine. It selects on three things: the stack's
// Events channel, a clock timer armed to the handler's NextDeadline after every
// event and tick, and closures handed in with Do. Nothing else touches the
// handler, so protocol code takes no locks. Snapshots for the control socket
// and the UI are Do calls that copy state out (GoBGP's mgmtOperation).
//
// # Simulation
//
// Sim drives many handlers on one clock.Virtual in the calling goroutine, with
// no goroutines at all: it fires the clock's timers one at a time (packet
// deliveries of a stack.MemNetwork, the handlers' deadlines), and after each
// one drains every node's events into its handler, node by node in the order
// they were added, and ticks the handlers whose deadlines have come. The same
// inputs give the same run, so a network of hundreds of routers can be
// simulated for hours in seconds and its trace compared between runs.
package router

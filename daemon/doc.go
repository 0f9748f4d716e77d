// Package daemon is pim6d's process core: it opens the stack, loads the
// configuration, serves the control socket, and runs the event loop that
// hands stack events to the protocol core, reloads the configuration on
// request, and shuts everything down cleanly. cmd/pim6d only parses flags,
// sets up logging and signals, and calls Run, so everything here is testable
// with a fake stack.
//
// # Seam for the protocol router
//
// Options.NewCore builds the protocol core (MLD, PIM, mfib) once the stack is
// open and the configuration loaded. The daemon calls its Event method for
// every stack event and Reconfigure after a successful reload, all on the
// event-loop goroutine, and Close at shutdown. Without a core the daemon only
// logs what it sees: links, addresses, unicast routes and their changes.
package daemon

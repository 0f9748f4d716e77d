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
// override (§4.5.2, §4.5.7), the (S,G) and (*,G) Assert state machines
// (§4.6.1, §4.6.2; an Assert with the RPT bit set naming S goes to the (S,G)
// machine first, an (S,G) Assert overrides the (*,G) one for S, and the
// (*,G) winner on RPF_interface(RP(G)) is RPF'(*,G)), the SSM
// rules of RFC 4607 (only (S,G) state in the SSM range; (*,G) and (S,G,rpt)
// requests there are counted and dropped), and periodic Join/Prune packed per
// upstream neighbour and paced so that refreshes spread over the period.
// For ASM groups the (*,G) downstream and upstream machines toward RP(G)
// (§4.5.1, §4.5.6) run on the same code as (S,G) (a route with source ::),
// and (S,G) entries inherit the (*,G) olist through the §4.1.6 macros
// (inherited_olist(S,G,rpt), inherited_olist(S,G); JoinDesired(S,G) with the
// Keepalive Timer clause). (S,G,rpt) is implemented: the downstream
// per-interface machine with its Prune-Pending and Expiry Timers and the
// temporary states of a Join/Prune that carries a Join(*,G) (RFC 7761
// §4.5.3, "End of Message"), and the upstream machine (RPTNotJoined /
// Pruned / NotPruned with the Override Timer and the LAN "See" events,
// RFC 4601 §4.5.9 = RFC 7761 §4.5.7), whose Prune(S,G,rpt) entries ride in
// the same message as every triggered or periodic Join(*,G) (RFC 4601
// §4.5.8, §4.5.10). An (S,G) entry that only holds (S,G,rpt) state is given
// to mfib with FlagRPT: its iif is toward RP(G) and its oifs are
// inherited_olist(S,G,rpt). The (S,G,rpt) state lives in a lazily allocated
// structure, so SSM entries do not pay for it.
//
// Section numbers: the receive side follows RFC 7761 (§4.5.1 (*,G), §4.5.2
// (S,G), §4.5.3 (S,G,rpt)); the send side keeps the RFC 4601 numbers the
// code was first written against (§4.5.6 (*,G), §4.5.7 (S,G), §4.5.8 and
// §4.5.9 (S,G,rpt)), which are RFC 7761 §4.5.4 to §4.5.7.
//
// Not yet implemented: SPT switchover (the SPT bit is set only by data on
// an already joined (S,G)), Register and the RP side.
//
// Deviation: for SSM groups the SPT bit is taken as set (RFC 7761 §4.2.2's
// Update_SPTbit would set it with the first data packet; in SSM there is no
// other tree to be on), so CouldAssert does not wait for data.
package pim

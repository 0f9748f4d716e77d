// Package mld is the router side of Multicast Listener Discovery: MLDv2
// (RFC 3810) with MLDv1 compatibility (RFC 2710) and the SSM rules of
// RFC 4604, as a sans-I/O core.
//
// # Messages
//
// Parse decodes an ICMPv6 MLD message (Query v1/v2, MLDv1 Report and Done,
// MLDv2 Report) from a byte slice; every count is checked against the bytes
// present before anything is allocated. Marshal encodes one with its ICMPv6
// checksum over the IPv6 pseudo-header.
//
// # Querier
//
// A Querier holds the MLD state of one interface. The event loop feeds it
// received packets (HandlePacket) and the passage of time (Tick, at or after
// NextDeadline); it appends what to do to an Output: queries to send, as
// stack.OutPacket, and listener changes for PIM. It never reads the clock,
// starts goroutines or does I/O, so tests run it on virtual time.
//
// Each Listener describes the forwarding state of one (interface, group) in
// the terms of RFC 3810 §6.3 and RFC 7761 §4.1.6: INCLUDE {S...} means
// forward those sources only (local_receiver_include(S,G,I)); EXCLUDE {S...}
// means any source except those (local_receiver_include(*,G,I) and
// local_receiver_exclude(S,G,I)); INCLUDE {} means no listener is left.
//
// # Validation
//
// A packet that fails the checks of RFC 3810 §5.1.14, §5.2.13 and §7.1 (hop
// limit 1, Router Alert, link-local source, checksum, consistent lengths) is
// dropped before it touches any state and counted by DropReason.
package mld

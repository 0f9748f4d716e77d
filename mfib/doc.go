// Package mfib installs the multicast forwarding state decided by the control
// plane as routes in the router's one routing table (stack.Table), following
// DESIGN.md's table layout:
//
//	(S,G)        dst G/128, src S/128   iif toward S, oif set
//	(*,G)        dst G/128, src ::/0    iif toward the RP, oif set
//	no state     dst ff00::/8, src ::/0 signal the control plane, drop
//	SSM range    dst ff3x::/32, src ::/0 drop unless an (S,G) matches
//
// Entries exist because the control plane says so, before any data arrives;
// nothing here is created by data.
//
// With WithWriter (pim6d's default), the table writes run on a goroutine of
// the MFIB's own, in the order the event loop asked for them, so that a burst
// of joins does not wait on the table (writer.go).
package mfib

// Package rp maps multicast groups to rendezvous points (RFC 7761 §4.7):
// static group-to-RP entries, Embedded-RP (RFC 3956) for ff7x::/12 groups,
// and an RP-set learnt from the BSR, choosing among candidates by longest
// group-prefix match, then priority, then the hash function of RFC 7761
// §4.7.2, then the highest address.
//
// The package is sans-I/O and lock-free: the event loop owns a Table and
// replaces the BSR part of it when a Bootstrap message changes the RP-set.
package rp

// Package keyed is a hash table of pointers to records that carry their own
// key: one pointer and a 32-bit hash per slot, where a Go map[K]*V stores the
// key again beside the pointer. For the protocol cores' per-(S,G) indexes
// (PIM's routes, MLD's groups) that is 28 bytes of slot per entry less for
// PIM and 12 for MLD, ~40 and ~17 bytes per (S,G) at the load a table runs at.
// The stored hash lets growing the table skip the records (a cache miss
// each): with a one-byte tag instead, the joins of a 50,000-(S,G) intake
// spent ~13% of their time rehashing (docs/bench/scale.md).
//
// A lookup reads the record to compare keys, so it costs a little more than
// a map's when the records are not in cache; the cores look up a few records
// per packet, and the memory (and the page faults and collector work it
// costs) matters more there.
package keyed

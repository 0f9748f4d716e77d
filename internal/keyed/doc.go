// Package keyed is a hash table of pointers to records that carry their own
// key: one pointer and one tag byte per slot, where a Go map[K]*V stores the
// key again beside the pointer. For the protocol cores' per-(S,G) indexes
// (PIM's routes, MLD's groups) that is 31 bytes of slot per entry less for
// PIM and 15 for MLD, ~45 and ~20 bytes per (S,G) at the load a table runs at.
//
// A lookup reads the record to compare keys, so it costs a little more than
// a map's when the records are not in cache; the cores look up a few records
// per packet, and the memory (and the page faults and collector work it
// costs) matters more there.
package keyed

package rp

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Origin says where a group-to-RP mapping came from.
type Origin uint8

const (
	OriginStatic   Origin = iota + 1 // configured (RFC 7761 §4.7: "A PIM router MUST support the static configuration")
	OriginBSR                        // the RP-set of the elected BSR (RFC 5059)
	OriginEmbedded                   // derived from the group address (RFC 3956)
)

func (o Origin) String() string {
	switch o {
	case OriginStatic:
		return "static"
	case OriginBSR:
		return "bsr"
	case OriginEmbedded:
		return "embedded"
	}
	return fmt.Sprintf("origin-%d", uint8(o))
}

// Entry is one group-range-to-RP mapping. Priority follows the BSR
// convention, RFC 5059 §4.2: "Lower values correspond to higher priority."
type Entry struct {
	Group    netip.Prefix // a multicast range, e.g. ff0e::/16
	RP       netip.Addr
	Priority uint8
	Origin   Origin
}

// Table holds the static and BSR mappings and answers which RP serves a
// group. The zero Table has no entries, Embedded-RP off and hash mask
// length 0; use NewTable for the IPv6 defaults. Not safe for concurrent use:
// the event loop owns it.
type Table struct {
	entries []Entry
	// HashMaskLen is the mask length of the hash function (RFC 7761
	// §4.7.2): the BSR's, from its Bootstrap messages, or
	// DefaultHashMaskLen.
	HashMaskLen int
	// Embedded enables Embedded-RP for ff70::/12 groups (RFC 3956).
	Embedded bool
}

// NewTable returns a table with Embedded-RP on and the IPv6 default hash
// mask length.
func NewTable() *Table {
	return &Table{HashMaskLen: DefaultHashMaskLen, Embedded: true}
}

// Add adds or updates (same group, RP and origin) one mapping. The group must
// be a multicast prefix and the RP a unicast address.
func (t *Table) Add(e Entry) error {
	e.Group = e.Group.Masked()
	e.RP = e.RP.WithZone("")
	if !e.Group.IsValid() || !e.Group.Addr().Is6() || !e.Group.Addr().IsMulticast() || e.Group.Bits() < 8 {
		return fmt.Errorf("rp: group range %v is not an IPv6 multicast prefix", e.Group)
	}
	if !e.RP.Is6() || e.RP.IsMulticast() || e.RP.IsUnspecified() || e.RP.IsLinkLocalUnicast() {
		return fmt.Errorf("rp: RP %v is not a routable unicast address", e.RP)
	}
	if e.Origin == 0 {
		e.Origin = OriginStatic
	}
	for i := range t.entries {
		if same(t.entries[i], e) {
			t.entries[i] = e
			return nil
		}
	}
	t.entries = append(t.entries, e)
	return nil
}

func same(a, b Entry) bool { return a.Group == b.Group && a.RP == b.RP && a.Origin == b.Origin }

// Remove deletes the mapping of group to rp from origin; it reports whether
// there was one.
func (t *Table) Remove(group netip.Prefix, rp netip.Addr, origin Origin) bool {
	key := Entry{Group: group.Masked(), RP: rp.WithZone(""), Origin: origin}
	n := len(t.entries)
	t.entries = slices.DeleteFunc(t.entries, func(e Entry) bool { return same(e, key) })
	return len(t.entries) != n
}

// ReplaceOrigin replaces every mapping of one origin, e.g. the whole RP-set
// when a Bootstrap message from the elected BSR changes it (RFC 5059). An
// invalid entry leaves the table unchanged.
func (t *Table) ReplaceOrigin(origin Origin, es []Entry) error {
	keep := slices.DeleteFunc(slices.Clone(t.entries), func(e Entry) bool { return e.Origin == origin })
	nt := Table{entries: keep}
	for _, e := range es {
		e.Origin = origin
		if err := nt.Add(e); err != nil {
			return err
		}
	}
	t.entries = nt.entries
	return nil
}

// Entries returns a copy of the mappings, sorted by group then RP.
func (t *Table) Entries() []Entry {
	out := slices.Clone(t.entries)
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.Group.Addr().Compare(b.Group.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Group.Bits(), b.Group.Bits()); c != 0 {
			return c
		}
		if c := a.RP.Compare(b.RP); c != 0 {
			return c
		}
		return cmp.Compare(a.Origin, b.Origin)
	})
	return out
}

// Lookup returns the RP for group g and the mapping that chose it.
//
// Embedded-RP first: RFC 3956 makes the Embedded-RP mapping of an ff70::/12
// group the longest possible match, above every other mechanism (paraphrased;
// the section number was not verified here). Otherwise RFC 7761 §4.7.1:
//
//  1. Perform longest match on group-range to obtain a list of RPs.
//  2. From this list of matching RPs, find the one with highest priority
//     (lowest value). Eliminate any RPs from the list that have lower
//     priorities.
//  3. If only one RP remains in the list, use that RP.
//  4. If multiple RPs are in the list, use the PIM hash function (§4.7.2)
//     to choose one: the highest hash value, and "in the event of a tie,
//     the candidate RP with the highest IP address".
//
// ok is false when no mapping covers g (and g has no valid embedded RP).
func (t *Table) Lookup(g netip.Addr) (e Entry, ok bool) {
	g = g.WithZone("")
	if t.Embedded && EmbeddedRange.Contains(g) {
		if rp, err := EmbeddedRP(g); err == nil {
			return Entry{Group: netip.PrefixFrom(g, 128), RP: rp, Origin: OriginEmbedded}, true
		}
	}
	best := -1 // longest matching prefix length
	for i := range t.entries {
		if t.entries[i].Group.Contains(g) && t.entries[i].Group.Bits() > best {
			best = t.entries[i].Group.Bits()
		}
	}
	if best < 0 {
		return Entry{}, false
	}
	var bestHash uint32
	for _, c := range t.entries {
		if c.Group.Bits() != best || !c.Group.Contains(g) {
			continue // step 1: longest match only
		}
		if !ok {
			e, ok, bestHash = c, true, Hash(g, t.HashMaskLen, c.RP)
			continue
		}
		switch {
		case c.Priority < e.Priority: // step 2: lower value is higher priority
		case c.Priority > e.Priority:
			continue
		default: // step 4: same priority, hash then highest address
			h := Hash(g, t.HashMaskLen, c.RP)
			if h < bestHash || (h == bestHash && c.RP.Compare(e.RP) <= 0) {
				continue
			}
		}
		e, bestHash = c, Hash(g, t.HashMaskLen, c.RP)
	}
	return e, ok
}

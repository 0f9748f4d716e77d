package rp

import (
	"errors"
	"fmt"
	"net/netip"
)

// Embedded-RP group address format (RFC 3956 §3):
//
//	|   8    |  4 |  4 |  4 |  4 |    8   |       64       |    32    |
//	+--------+----+----+----+----+--------+----------------+----------+
//	|11111111|flgs|scop|rsvd|RIID|  plen  | network prefix | group ID |
//	+--------+----+----+----+----+--------+----------------+----------+
//
// flgs is 0RPT. "R = 1 indicates a multicast address that embeds the address
// on the RP. Then P MUST be set to 1, and consequently T MUST be set to 1
// ... In effect, this implies the prefix FF70::/12." FFF0::/12 "SHOULD NOT"
// be treated as Embedded-RP, so only ff70::/12 is.

// EmbeddedRange is ff70::/12, the Embedded-RP groups (RFC 3956 §3).
var EmbeddedRange = netip.MustParsePrefix("ff70::/12")

// Errors of EmbeddedRP; each wraps ErrNotEmbeddedRP, so a caller that only
// wants "no embedded RP here" tests that one.
var (
	ErrNotEmbeddedRP = errors.New("not an Embedded-RP group")
	ErrPlen          = fmt.Errorf("%w: plen is 0 or greater than 64", ErrNotEmbeddedRP)
	ErrRIID          = fmt.Errorf("%w: RIID is 0", ErrNotEmbeddedRP)
	ErrRPAddress     = fmt.Errorf("%w: derived RP is not a global unicast address", ErrNotEmbeddedRP)
)

// EmbeddedRP derives the RP address of an Embedded-RP group (RFC 3956 §4).
// The group must be in ff70::/12 with 0 < plen <= 64 ("plen MUST NOT be 0
// (i.e., not SSM)" and "MUST NOT be greater than 64"); the RP is "the first
// plen bits of the network prefix" in a zeroed address whose last 4 bits are
// replaced by RIID. rsvd is ignored on receipt.
//
// Two further checks guard the derived address (pim6d's choice, not RFC
// text): RIID 0 is refused, since the RP would be the prefix's Subnet-Router
// anycast address (RFC 4291 §2.6.1), and so is an RP that is not a global
// unicast address (a link-local, loopback or multicast RP cannot serve a domain, and
// a forged group must not point the router at one).
func EmbeddedRP(g netip.Addr) (netip.Addr, error) {
	g = g.WithZone("")
	if !g.Is6() || !EmbeddedRange.Contains(g) {
		return netip.Addr{}, ErrNotEmbeddedRP
	}
	b := g.As16()
	riid := b[2] & 0x0f
	plen := int(b[3])
	if plen == 0 || plen > 64 {
		return netip.Addr{}, ErrPlen
	}
	if riid == 0 {
		return netip.Addr{}, ErrRIID
	}
	var rp [16]byte
	copy(rp[:8], b[4:12])
	p, _ := netip.AddrFrom16(rp).Prefix(plen) // plen <= 64: no error
	rp = p.Addr().As16()
	rp[15] = riid
	a := netip.AddrFrom16(rp)
	if !a.IsGlobalUnicast() || a.Is4In6() {
		return netip.Addr{}, ErrRPAddress
	}
	return a, nil
}

// EmbeddedGroup builds the Embedded-RP group for an RP: the inverse of
// EmbeddedRP, for configuration checks and tests. rpPrefix is the RP's
// network prefix (length 1 to 64), riid the RP's last 4 bits, scope the
// group's scope nibble and groupID its last 32 bits.
func EmbeddedGroup(rpPrefix netip.Prefix, riid uint8, scope uint8, groupID uint32) (netip.Addr, error) {
	if rpPrefix.Bits() < 1 || rpPrefix.Bits() > 64 || !rpPrefix.Addr().Is6() {
		return netip.Addr{}, ErrPlen
	}
	if riid == 0 || riid > 15 {
		return netip.Addr{}, ErrRIID
	}
	var b [16]byte
	b[0] = 0xff
	b[1] = 0x70 | scope&0x0f
	b[2] = riid
	b[3] = uint8(rpPrefix.Bits())
	pa := rpPrefix.Masked().Addr().As16()
	copy(b[4:12], pa[:8])
	b[12], b[13], b[14], b[15] = byte(groupID>>24), byte(groupID>>16), byte(groupID>>8), byte(groupID)
	return netip.AddrFrom16(b), nil
}

package wire

import (
	"net/netip"

	"github.com/pim6d/pim6d/internal/checksum"
)

// protoPIM is the IPv6 next-header value of PIM.
const protoPIM = 103

// Checksum returns the PIM checksum (RFC 7761 §4.9): the 16-bit one's
// complement of the one's complement sum of the IPv6 pseudo-header (RFC 8200
// §8.1: source, destination, upper-layer length, next header 103) and of msg.
// length is the upper-layer length put in the pseudo-header; it is len(msg)
// except for a Register, where only the 8-byte PIM header is covered. The
// checksum field inside msg must be zero (or the sum then verifies to zero).
// Zones are ignored.
func Checksum(src, dst netip.Addr, length int, msg []byte) uint16 {
	return checksum.IPv6(src, dst, length, protoPIM, msg)
}

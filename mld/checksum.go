package mld

import (
	"encoding/binary"
	"net/netip"

	"github.com/pim6d/pim6d/internal/checksum"
)

// protoICMPv6 is the IPv6 Next Header value of ICMPv6.
const protoICMPv6 = 58

// Checksum returns the ICMPv6 checksum of msg sent from src to dst: the ones'
// complement of the ones'-complement sum over the IPv6 pseudo-header (RFC 8200
// §8.1) and msg. The checksum field of msg must be zero, or the result is the
// value that makes the sum verify (0 for a correct message).
func Checksum(src, dst netip.Addr, msg []byte) uint16 {
	return checksum.IPv6(src, dst, len(msg), protoICMPv6, msg)
}

// VerifyChecksum reports whether msg (checksum field included) is intact.
func VerifyChecksum(src, dst netip.Addr, msg []byte) bool {
	return Checksum(src, dst, msg) == 0
}

// setChecksum writes the checksum of msg (field zeroed first) at offset 2.
func setChecksum(src, dst netip.Addr, msg []byte) {
	msg[2], msg[3] = 0, 0
	binary.BigEndian.PutUint16(msg[2:], Checksum(src, dst, msg))
}

// Package checksum computes the Internet checksum of an upper-layer message
// over the IPv6 pseudo-header (RFC 8200 §8.1), shared by the MLD (ICMPv6) and
// PIM codecs and by the forwarder (UDP, TCP).
package checksum

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 returns the 16-bit one's complement of the one's complement sum of the
// pseudo-header (src, dst, upper-layer length, next header proto) and msg.
// length is normally len(msg); PIM Register covers less (RFC 7761 §4.9). The
// checksum field inside msg must be zero, or the result is 0 for a message
// that verifies. Zones are ignored.
func IPv6(src, dst netip.Addr, length int, proto uint8, msg []byte) uint16 {
	var sum uint64
	s, d := src.As16(), dst.As16()
	for i := 0; i < 16; i += 2 {
		sum += uint64(s[i])<<8 | uint64(s[i+1])
		sum += uint64(d[i])<<8 | uint64(d[i+1])
	}
	sum += uint64(uint32(length)>>16) + uint64(uint32(length)&0xffff)
	sum += uint64(proto)
	// Summing 32-bit words into 64 bits and folding at the end gives the same
	// one's complement sum as 16-bit words (RFC 1071 §2(B)) in half the steps;
	// a message under 4 GiB cannot overflow the accumulator.
	for len(msg) >= 8 {
		sum += uint64(binary.BigEndian.Uint32(msg)) + uint64(binary.BigEndian.Uint32(msg[4:]))
		msg = msg[8:]
	}
	for len(msg) >= 2 {
		sum += uint64(msg[0])<<8 | uint64(msg[1])
		msg = msg[2:]
	}
	if len(msg) == 1 {
		sum += uint64(msg[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

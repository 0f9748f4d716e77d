package wire

import (
	"encoding/binary"
	"net/netip"
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
	var sum uint64
	s := src.As16()
	d := dst.As16()
	for i := 0; i < 16; i += 2 {
		sum += uint64(s[i])<<8 | uint64(s[i+1])
		sum += uint64(d[i])<<8 | uint64(d[i+1])
	}
	sum += uint64(uint32(length)>>16) + uint64(uint32(length)&0xffff)
	sum += protoPIM
	// Summing 32-bit words into 64 bits and folding at the end gives the
	// same one's complement sum as 16-bit words (RFC 1071 §2(B)), in half
	// the steps; a message under 4 GiB cannot overflow the accumulator.
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

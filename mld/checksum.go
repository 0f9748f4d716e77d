package mld

import (
	"encoding/binary"
	"net/netip"
)

// protoICMPv6 is the IPv6 Next Header value of ICMPv6.
const protoICMPv6 = 58

// Checksum returns the ICMPv6 checksum of msg sent from src to dst: the ones'
// complement of the ones'-complement sum over the IPv6 pseudo-header (RFC 8200
// §8.1) and msg. The checksum field of msg must be zero, or the result is the
// value that makes the sum verify (0 for a correct message).
func Checksum(src, dst netip.Addr, msg []byte) uint16 {
	var sum uint32
	s, d := src.As16(), dst.As16()
	sum = sumBytes(sum, s[:])
	sum = sumBytes(sum, d[:])
	sum += uint32(len(msg) >> 16)
	sum += uint32(len(msg) & 0xffff)
	sum += protoICMPv6
	sum = sumBytes(sum, msg)
	for sum > 0xffff {
		sum = (sum >> 16) + (sum & 0xffff)
	}
	return ^uint16(sum)
}

// VerifyChecksum reports whether msg (checksum field included) is intact.
func VerifyChecksum(src, dst netip.Addr, msg []byte) bool {
	return Checksum(src, dst, msg) == 0
}

func sumBytes(sum uint32, b []byte) uint32 {
	for len(b) >= 8 {
		sum += uint32(binary.BigEndian.Uint16(b)) + uint32(binary.BigEndian.Uint16(b[2:])) +
			uint32(binary.BigEndian.Uint16(b[4:])) + uint32(binary.BigEndian.Uint16(b[6:]))
		b = b[8:]
		for sum > 0xffff {
			sum = (sum >> 16) + (sum & 0xffff)
		}
	}
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// setChecksum writes the checksum of msg (field zeroed first) at offset 2.
func setChecksum(src, dst netip.Addr, msg []byte) {
	msg[2], msg[3] = 0, 0
	binary.BigEndian.PutUint16(msg[2:], Checksum(src, dst, msg))
}

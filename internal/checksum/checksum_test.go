package checksum

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// reference is RFC 1071's 16-bit-word sum, written as plainly as possible.
func reference(src, dst netip.Addr, length int, proto uint8, msg []byte) uint16 {
	var b []byte
	s, d := src.As16(), dst.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = append(b, byte(length>>24), byte(length>>16), byte(length>>8), byte(length), 0, 0, 0, proto)
	b = append(b, msg...)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func TestIPv6MatchesRFC1071Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src, dst := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::16")
	for n := range 300 {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		if got, want := IPv6(src, dst, n, 58, msg), reference(src, dst, n, 58, msg); got != want {
			t.Fatalf("IPv6(len %d) = %#04x, want %#04x", n, got, want)
		}
	}
}

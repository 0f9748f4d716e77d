package rp

import "net/netip"

// DefaultHashMaskLen is the hash mask length for IPv6: the Hash Mask Len of
// a Bootstrap message is recommended to be 126 for IPv6 (30 for IPv4), RFC
// 5059 §4.1, so that four consecutive groups map to the same RP.
const DefaultHashMaskLen = 126

// Digest is the 32-bit digest of an IPv6 address used by the hash function,
// RFC 7761 §4.7.2: "For IPv6 addresses, we recommend using the equivalent
// IPv4 address for an IPv4-compatible address, and the exclusive-or of each
// 32-bit segment of the address for all other IPv6 addresses." For an
// IPv4-compatible address (::a.b.c.d) the exclusive-or is a.b.c.d itself, so
// one rule covers both.
func Digest(a netip.Addr) uint32 {
	b := a.As16()
	var d uint32
	for i := 0; i < 16; i += 4 {
		d ^= uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
	}
	return d
}

// Hash is the value of candidate RP c for group g with hash mask length
// maskLen, RFC 7761 §4.7.2:
//
//	Value(G,M,C(i)) =
//	    (1103515245 * ((1103515245 * (G&M) + 12345) XOR C(i)) + 12345) mod 2^31
//
// where G&M is the group masked to maskLen bits (then digested) and C(i) the
// digest of the RP address. The arithmetic runs modulo 2^32: 2^31 divides
// 2^32 and XOR is bitwise, so the result mod 2^31 is exact.
func Hash(g netip.Addr, maskLen int, c netip.Addr) uint32 {
	gm := g.WithZone("")
	if p, err := gm.Prefix(clampMask(maskLen)); err == nil {
		gm = p.Addr()
	}
	v := 1103515245*Digest(gm) + 12345
	v = 1103515245*(v^Digest(c)) + 12345
	return v & 0x7fffffff
}

func clampMask(n int) int {
	if n < 0 {
		return 0
	}
	if n > 128 {
		return 128
	}
	return n
}

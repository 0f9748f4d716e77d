package rp

import (
	"net/netip"
	"testing"
)

var a = netip.MustParseAddr

// Expected values come from an independent Python implementation of the RFC
// 7761 §4.7.2 formula with unbounded integers and a final mod 2^31.
func TestHash(t *testing.T) {
	tests := []struct {
		name string
		g    string
		mask int
		rp   string
		want uint32
	}{
		{"group with mask 126", "ff1e::1234", 126, "2001:db8:ff::1", 221964877},
		{"same group, other RP", "ff1e::1234", 126, "2001:db8:ff::2", 1385026964},
		{"group in the same /126 hashes the same", "ff1e::1235", 126, "2001:db8:ff::1", 221964877},
		{"group in the next /126 hashes differently", "ff1e::1238", 126, "2001:db8:ff::1", 720177857},
		{"mask 0: every group alike", "ff0e::1", 0, "2001:db8::1", 306470841},
		{"IPv4-compatible RP digests to its IPv4 address", "ff0e::1", 128, "::10.1.2.3", 1564903546},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hash(a(tt.g), tt.mask, a(tt.rp)); got != tt.want {
				t.Errorf("Hash(%s, %d, %s) = %d, want %d", tt.g, tt.mask, tt.rp, got, tt.want)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	// RFC 7761 §4.7.2: "the equivalent IPv4 address for an IPv4-compatible
	// address, and the exclusive-or of each 32-bit segment ... for all
	// other IPv6 addresses".
	if got, want := Digest(a("::10.1.2.3")), uint32(0x0a010203); got != want {
		t.Errorf("Digest(::10.1.2.3) = %#x, want %#x", got, want)
	}
	if got, want := Digest(a("2001:db8:ff::1")), uint32(0x20010db8^0x00ff0000^0^1); got != want {
		t.Errorf("Digest(2001:db8:ff::1) = %#x, want %#x", got, want)
	}
}

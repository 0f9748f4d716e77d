package rp

import (
	"net/netip"
	"testing"
)

// FuzzEmbeddedRP: EmbeddedRP never panics, an accepted group yields a global
// unicast RP, and EmbeddedGroup rebuilds the group from that RP (rsvd bits
// aside, which are ignored on receipt).
func FuzzEmbeddedRP(f *testing.F) {
	for _, g := range []string{
		"ff7e:740:2001:db8:beef:feed::1234", "ff7e:320:2001:db8:dead:beef:0:1",
		"ff7e:700:2001:db8::1", "ff7e:741:2001:db8::1", "ff7e:40:2001:db8::1",
		"ff7e:140:fe80::1", "fffe:740:2001:db8::1", "ff3e::1",
	} {
		b := netip.MustParseAddr(g).As16()
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 {
			return
		}
		g := netip.AddrFrom16([16]byte(b))
		rp, err := EmbeddedRP(g)
		if err != nil {
			return
		}
		if !rp.IsGlobalUnicast() {
			t.Fatalf("EmbeddedRP(%v) = %v, not global unicast", g, rp)
		}
		plen := int(b[3])
		pfx, _ := rp.Prefix(plen)
		g2, err := EmbeddedGroup(pfx, b[2]&0x0f, b[1]&0x0f, uint32(b[12])<<24|uint32(b[13])<<16|uint32(b[14])<<8|uint32(b[15]))
		if err != nil {
			t.Fatalf("EmbeddedGroup from %v: %v", g, err)
		}
		want := [16]byte(b)
		want[2] &= 0x0f // rsvd
		for i := 4 + plen/8; i < 12; i++ {
			if i == 4+plen/8 && plen%8 != 0 {
				want[i] &= ^byte(0xff >> (plen % 8))
				continue
			}
			want[i] = 0 // prefix bits past plen are not part of the RP
		}
		if g2 != netip.AddrFrom16(want) {
			t.Fatalf("EmbeddedGroup(EmbeddedRP(%v)) = %v, want %v", g, g2, netip.AddrFrom16(want))
		}
	})
}

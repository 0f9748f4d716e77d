package rp

import (
	"errors"
	"net/netip"
	"testing"
)

func TestEmbeddedRP(t *testing.T) {
	tests := []struct {
		name    string
		group   string
		want    string
		wantErr error
	}{
		// RFC 3956 §3: RP = first plen bits of the network prefix, zero
		// filled, last 4 bits = RIID.
		{"plen 64, RIID 7", "ff7e:740:2001:db8:beef:feed::1234", "2001:db8:beef:feed::7", nil},
		{"plen 32 zeroes the prefix bits past plen", "ff7e:320:2001:db8:dead:beef:0:1", "2001:db8::3", nil},
		{"plen 48", "ff75:130:2001:db8:12::42", "2001:db8:12::1", nil},
		{"rsvd bits are ignored on receipt", "ff7e:f740:2001:db8:beef:feed::1234", "2001:db8:beef:feed::7", nil},
		{"site scope", "ff75:f40:2001:db8:1:2::99", "2001:db8:1:2::f", nil},
		{"plen 0 is SSM-like, not Embedded-RP", "ff7e:700:2001:db8::1", "", ErrPlen},
		{"plen 65 is too long", "ff7e:741:2001:db8:beef:feed::1", "", ErrPlen},
		{"RIID 0 would be the Subnet-Router anycast address", "ff7e:40:2001:db8:beef:feed::1", "", ErrRIID},
		{"derived RP is link-local", "ff7e:140:fe80::1", "", ErrRPAddress},
		{"derived RP is multicast", "ff7e:140:ff02::1", "", ErrRPAddress},
		{"ff3e:: (P and T, no R) is not Embedded-RP", "ff3e:40:2001:db8:beef:feed::1", "", ErrNotEmbeddedRP},
		{"fff0::/12 SHOULD NOT be treated as Embedded-RP", "fffe:740:2001:db8:beef:feed::1", "", ErrNotEmbeddedRP},
		{"unicast address", "2001:db8::1", "", ErrNotEmbeddedRP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EmbeddedRP(netip.MustParseAddr(tt.group))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrNotEmbeddedRP) {
					t.Fatalf("EmbeddedRP(%s) = %v, %v; want error %v", tt.group, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(tt.want) {
				t.Errorf("EmbeddedRP(%s) = %v, %v; want %s", tt.group, got, err, tt.want)
			}
		})
	}
}

func TestEmbeddedGroupRoundTrip(t *testing.T) {
	for _, p := range []string{"2001:db8:beef:feed::/64", "2001:db8::/32", "2001:db8:12::/48", "2000::/3"} {
		pfx := netip.MustParsePrefix(p)
		for riid := uint8(1); riid <= 15; riid++ {
			g, err := EmbeddedGroup(pfx, riid, 0xe, 0x1234)
			if err != nil {
				t.Fatalf("EmbeddedGroup(%v, %d): %v", pfx, riid, err)
			}
			rp, err := EmbeddedRP(g)
			want := pfx.Addr().As16()
			want[15] = riid
			if err != nil || rp != netip.AddrFrom16(want) {
				t.Errorf("EmbeddedRP(EmbeddedGroup(%v, %d) = %v) = %v, %v; want %v", pfx, riid, g, rp, err, netip.AddrFrom16(want))
			}
		}
	}
	if _, err := EmbeddedGroup(netip.MustParsePrefix("2001:db8::/96"), 1, 0xe, 1); !errors.Is(err, ErrPlen) {
		t.Errorf("EmbeddedGroup(/96) = %v, want ErrPlen", err)
	}
}

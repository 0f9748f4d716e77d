package stack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testExt is one extension header for buildIPv6Packet: its type and its body
// after the Next Header byte (the builder fills Next Header, and the length
// byte for all but the fragment header).
type testExt struct {
	typ  uint8
	body []byte
}

// routerAlertHBH is a hop-by-hop body with a Router Alert option of value v
// and a 0-byte PadN, as the kernel's MLD sends it.
func routerAlertHBH(v uint16) testExt {
	return testExt{nhHopByHop, []byte{0, optRouterAl, 2, byte(v >> 8), byte(v), 1, 0}}
}

// buildIPv6Packet assembles an IPv6 packet for tests.
func buildIPv6Packet(src, dst netip.Addr, hop uint8, exts []testExt, proto uint8, payload []byte) []byte {
	var ext []byte
	for i, e := range exts {
		next := proto
		if i+1 < len(exts) {
			next = exts[i+1].typ
		}
		start := len(ext)
		ext = append(ext, next)
		ext = append(ext, e.body...)
		if e.typ != nhFragment && e.typ != nhAH {
			ext[start+1] = byte((len(ext)-start)/8 - 1)
		}
	}
	b := make([]byte, ipv6FixedLen, ipv6FixedLen+len(ext)+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(ext)+len(payload)))
	b[6] = proto
	if len(exts) > 0 {
		b[6] = exts[0].typ
	}
	b[7] = hop
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	b = append(b, ext...)
	return append(b, payload...)
}

var (
	testLL    = netip.MustParseAddr("fe80::1")
	testMLDv2 = netip.MustParseAddr("ff02::16")
)

func TestParseIPv6(t *testing.T) {
	report := []byte{143, 0, 0, 0, 0, 0, 0, 0}
	tests := []struct {
		name    string
		pkt     []byte
		want    IPv6Header
		payload []byte
	}{
		{
			name: "MLDv2 report with router alert",
			pkt:  buildIPv6Packet(testLL, testMLDv2, 1, []testExt{routerAlertHBH(0)}, 58, report),
			want: IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 58, PayloadOffset: 48, Length: 56,
				RouterAlert: true},
			payload: report,
		},
		{
			name:    "no extension headers",
			pkt:     buildIPv6Packet(testLL, testMLDv2, 255, nil, 103, []byte{0x20, 0, 1, 2}),
			want:    IPv6Header{HopLimit: 255, Src: testLL, Dst: testMLDv2, Proto: 103, PayloadOffset: 40, Length: 44},
			payload: []byte{0x20, 0, 1, 2},
		},
		{
			name:    "link-layer padding after the packet is ignored",
			pkt:     append(buildIPv6Packet(testLL, testMLDv2, 1, nil, 58, report), 0, 0, 0, 0),
			want:    IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 58, PayloadOffset: 40, Length: 48},
			payload: report,
		},
		{
			name: "router alert after Pad1 options, value 2",
			pkt: buildIPv6Packet(testLL, testMLDv2, 1, []testExt{{nhHopByHop, []byte{0, 0, 0, optRouterAl, 2, 0, 2}}},
				58, report),
			want: IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 58, PayloadOffset: 48, Length: 56,
				RouterAlert: true, RouterAlertValue: 2},
			payload: report,
		},
		{
			name: "hop-by-hop, destination options, routing, then ICMPv6",
			pkt: buildIPv6Packet(testLL, testMLDv2, 1, []testExt{
				routerAlertHBH(0),
				{nhDestOpts, []byte{0, 1, 4, 0, 0, 0, 0}},
				{nhRouting, []byte{0, 0, 0, 0, 0, 0, 0}},
			}, 58, report),
			want: IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 58, PayloadOffset: 64, Length: 72,
				RouterAlert: true},
			payload: report,
		},
		{
			name: "atomic fragment is whole",
			pkt:  buildIPv6Packet(testLL, testMLDv2, 1, []testExt{{nhFragment, []byte{0, 0, 0, 0, 0, 0, 1}}}, 17, report),
			want: IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 17, PayloadOffset: 48, Length: 56,
				Fragment: true},
			payload: report,
		},
		{
			name: "second fragment stops the walk",
			pkt: buildIPv6Packet(testLL, testMLDv2, 1, []testExt{{nhFragment, []byte{0, 0, 0x10, 0, 0, 0, 1}}},
				nhDestOpts, report),
			want: IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: nhDestOpts, PayloadOffset: 48, Length: 56,
				Fragment: true, FragmentOffset: 2},
			payload: report,
		},
		{
			name:    "authentication header length in 4-byte units",
			pkt:     buildIPv6Packet(testLL, testMLDv2, 1, []testExt{{nhAH, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}, 103, report),
			want:    IPv6Header{HopLimit: 1, Src: testLL, Dst: testMLDv2, Proto: 103, PayloadOffset: 52, Length: 60},
			payload: report,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIPv6(tc.pkt)
			if err != nil {
				t.Fatalf("ParseIPv6() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ParseIPv6() mismatch (-want +got):\n%s", diff)
			}
			if p := got.Payload(tc.pkt); !bytes.Equal(p, tc.payload) {
				t.Errorf("Payload() = %x, want %x", p, tc.payload)
			}
		})
	}
}

func TestParseIPv6Errors(t *testing.T) {
	good := buildIPv6Packet(testLL, testMLDv2, 1, []testExt{routerAlertHBH(0)}, 58, []byte{143, 0, 0, 0})
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"short header", good[:39]},
		{"version 4", mutate(func(b []byte) []byte { b[0] = 0x45; return b })},
		{"payload length beyond data", mutate(func(b []byte) []byte { b[5] += 1; return b })},
		{"payload length cuts the hop-by-hop header", mutate(func(b []byte) []byte { b[4], b[5] = 0, 4; return b })},
		{"hop-by-hop length beyond packet", mutate(func(b []byte) []byte { b[41] = 3; return b })},
		{"router alert with length 3", mutate(func(b []byte) []byte { b[43] = 3; return b })},
		{"option overruns header", mutate(func(b []byte) []byte { b[47] = 9; return b })},
		{"hop-by-hop not first", buildIPv6Packet(testLL, testMLDv2, 1,
			[]testExt{{nhDestOpts, make([]byte, 7)}, routerAlertHBH(0)}, 58, nil)},
		{"too many extension headers", buildIPv6Packet(testLL, testMLDv2, 1, func() []testExt {
			var e []testExt
			for range maxExtHeaders + 1 {
				e = append(e, testExt{nhDestOpts, make([]byte, 7)})
			}
			return e
		}(), 58, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseIPv6(tc.pkt); !errors.Is(err, ErrMalformedIPv6) {
				t.Errorf("ParseIPv6(%x) error = %v, want ErrMalformedIPv6", tc.pkt, err)
			}
		})
	}
}

func FuzzParseIPv6(f *testing.F) {
	f.Add(buildIPv6Packet(testLL, testMLDv2, 1, []testExt{routerAlertHBH(0)}, 58, []byte{143, 0, 0, 0}))
	f.Add(buildIPv6Packet(testLL, testMLDv2, 1, nil, 103, []byte{0x20, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseIPv6(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedIPv6) {
				t.Fatalf("ParseIPv6() error %v does not wrap ErrMalformedIPv6", err)
			}
			return
		}
		if h.PayloadOffset < ipv6FixedLen || h.PayloadOffset > h.Length || h.Length > len(b) {
			t.Fatalf("ParseIPv6() offsets: payload %d, length %d, input %d bytes", h.PayloadOffset, h.Length, len(b))
		}
		// The packet without link-layer padding parses the same.
		again, err := ParseIPv6(b[:h.Length])
		if err != nil || again != h {
			t.Fatalf("ParseIPv6(trimmed) = %+v, %v, want %+v", again, err, h)
		}
		// Rebuilt from its parts (a hop-by-hop header with only the router
		// alert), a packet keeps its addresses, router alert and payload.
		var exts []testExt
		if h.RouterAlert {
			exts = append(exts, routerAlertHBH(h.RouterAlertValue))
		}
		payload := h.Payload(b)
		rebuilt := buildIPv6Packet(h.Src, h.Dst, uint8(h.HopLimit), exts, h.Proto, payload)
		r, err := ParseIPv6(rebuilt)
		if isExtHeader(h.Proto) {
			return // a non-first fragment: the rebuilt packet would be walked further
		}
		if err != nil {
			t.Fatalf("ParseIPv6(rebuilt) error = %v", err)
		}
		if r.Src != h.Src || r.Dst != h.Dst || r.RouterAlert != h.RouterAlert || r.RouterAlertValue != h.RouterAlertValue ||
			r.Proto != h.Proto || !bytes.Equal(r.Payload(rebuilt), payload) {
			t.Fatalf("ParseIPv6(rebuilt) = %+v, want fields of %+v", r, h)
		}
	})
}

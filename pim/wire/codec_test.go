package wire

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// unhex decodes hex written with spaces, newlines and // comments.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func sampleByName(t testing.TB, name string) sample {
	t.Helper()
	for _, s := range samples(innerUDP(t)) {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no sample %q", name)
	return sample{}
}

// TestGolden checks Marshal and Parse against packets built by hand from the
// wire diagrams of RFC 7761 §4.9 and RFC 5059 §4. Each checksum was verified
// by tshark ("[correct]"), see TestTsharkDecodesEveryMessage.
func TestGolden(t *testing.T) {
	tests := []struct {
		sample string
		wire   string
	}{
		{"hello-shutdown", `
			20 00 e1d2            // ver 2, type 0 Hello, reserved, checksum
			0001 0002 0000        // option 1 Holdtime, length 2, 0 = time out now
			0014 0004 00000007    // option 20 Generation ID, length 4`},
		{"null-register", `
			21 00 421c            // ver 2, type 1 Register
			40000000              // B=0 N=1
			60000000 0000 3b 01   // dummy IPv6 header: payload length 0, next header 59
			20010db8000100000000000000000100  // S
			ff1e0000000000000000000000001234  // G`},
		{"register-stop", `
			22 00 3c6d
			02 00 00 80 ff1e0000000000000000000000001234 // Encoded-Group: family 2, native, flags 0, mask 128
			02 00 20010db8000100000000000000000100       // Encoded-Unicast source`},
		{"join-prune", `
			23 00 a3e5
			02 00 fe800000000000000000000000000002       // upstream neighbor fe80::2
			00 02 00d2                                   // reserved, 2 groups, holdtime 210
			02 00 00 80 ff3e0000000000000000000080000001 // group 1
			0001 0000                                    // 1 joined, 0 pruned
			02 00 04 80 20010db8000100000000000000000100 // S bit: (S,G) join
			02 00 00 80 ff1e0000000000000000000000001234 // group 2
			0001 0001                                    // 1 joined, 1 pruned
			02 00 07 80 20010db800ff00000000000000000001 // S,W,R bits: (*,G) join toward the RP
			02 00 05 80 20010db8000100000000000000000100 // S,R bits: (S,G,rpt) prune`},
		{"assert", `
			25 00 97c5
			02 00 00 80 ff1e0000000000000000000000001234
			02 00 20010db8000100000000000000000100
			0000006e   // R=0, metric preference 110
			00000014   // metric 20`},
		{"bootstrap-no-forward", `
			24 80 2f3f            // type 4 Bootstrap, No-Forward bit set
			0001 7e 01            // fragment tag 1, hash mask len 126, BSR priority 1
			02 00 20010db800fe00000000000000000001`},
		{"c-rp-adv-all", `
			28 00 48be            // type 8 Candidate-RP-Advertisement
			00 00 0096            // prefix count 0 (all groups), priority 0, holdtime 150
			02 00 20010db800ff00000000000000000001`},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			s := sampleByName(t, tt.sample)
			want := unhex(t, tt.wire)
			got, err := Marshal(s.src, s.dst, s.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if diff := cmp.Diff(hex.EncodeToString(want), hex.EncodeToString(got)); diff != "" {
				t.Errorf("Marshal(%s) (-want +got):\n%s", tt.sample, diff)
			}
			m, err := Parse(s.src, s.dst, want)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(s.msg, m, cmpAddr); diff != "" {
				t.Errorf("Parse(%s) (-want +got):\n%s", tt.sample, diff)
			}
			if n := Len(s.msg); n != len(want) {
				t.Errorf("Len(%s) = %d, want %d", tt.sample, n, len(want))
			}
		})
	}
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestRoundTrip marshals every sample and parses it back.
func TestRoundTrip(t *testing.T) {
	for _, s := range samples(innerUDP(t)) {
		t.Run(s.name, func(t *testing.T) {
			b, err := Marshal(s.src, s.dst, s.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			m, err := Parse(s.src, s.dst, b)
			if err != nil {
				t.Fatalf("Parse(Marshal(%s)): %v", s.name, err)
			}
			if diff := cmp.Diff(s.msg, m, cmpAddr); diff != "" {
				t.Errorf("Parse(Marshal(%s)) (-want +got):\n%s", s.name, diff)
			}
			if m.Type() != s.msg.Type() {
				t.Errorf("Type() = %v, want %v", m.Type(), s.msg.Type())
			}
		})
	}
}

// refChecksum is an independent reference: it builds the RFC 8200 §8.1
// pseudo-header as bytes and sums 16-bit words with encoding/binary.
func refChecksum(src, dst netip.Addr, length int, msg []byte) uint16 {
	var buf []byte
	buf = append(buf, src.AsSlice()...)
	buf = append(buf, dst.AsSlice()...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(length))
	buf = append(buf, 0, 0, 0, 103)
	buf = append(buf, msg...)
	if len(buf)%2 == 1 {
		buf = append(buf, 0)
	}
	var sum uint32
	for i := 0; i < len(buf); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(buf[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func TestChecksum(t *testing.T) {
	t.Run("matches reference on odd and even lengths", func(t *testing.T) {
		msg := []byte{0x20, 0, 0, 0, 0, 1, 0, 2, 0, 0x69, 0xff}
		for n := 0; n <= len(msg); n++ {
			got := Checksum(llA, AllPIMRouters, n, msg[:n])
			want := refChecksum(llA, AllPIMRouters, n, msg[:n])
			if got != want {
				t.Errorf("Checksum(len %d) = %#04x, want %#04x", n, got, want)
			}
		}
	})
	t.Run("matches reference on random messages", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for range 200 {
			msg := make([]byte, r.IntN(1500))
			for i := range msg {
				msg[i] = byte(r.Uint32())
			}
			src, dst := netip.AddrFrom16([16]byte{byte(r.Uint32()), 15: byte(r.Uint32())}), AllPIMRouters
			if got, want := Checksum(src, dst, len(msg), msg), refChecksum(src, dst, len(msg), msg); got != want {
				t.Fatalf("Checksum(len %d) = %#04x, want %#04x", len(msg), got, want)
			}
		}
	})
	t.Run("pseudo-header covers source and destination", func(t *testing.T) {
		s := sampleByName(t, "hello")
		b, err := Marshal(s.src, s.dst, s.msg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(llB, s.dst, b); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("Parse from another source: err = %v, want ErrBadChecksum", err)
		}
		if _, err := Parse(s.src, netip.MustParseAddr("ff02::1"), b); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("Parse to another destination: err = %v, want ErrBadChecksum", err)
		}
		if _, err := Parse(s.src.WithZone("eth0"), s.dst, b); err != nil {
			t.Errorf("Parse with a zoned source: %v, want the zone ignored", err)
		}
	})
	t.Run("every flipped bit is caught", func(t *testing.T) {
		s := sampleByName(t, "join-prune")
		b, _ := Marshal(s.src, s.dst, s.msg)
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0x10
			_, err := Parse(s.src, s.dst, c)
			if err == nil {
				t.Errorf("byte %d flipped: Parse succeeded", i)
			}
		}
	})
	t.Run("register covers only the PIM header", func(t *testing.T) {
		s := sampleByName(t, "register")
		b, _ := Marshal(s.src, s.dst, s.msg)
		if got, want := binary.BigEndian.Uint16(b[2:]), refHeaderOnly(s, b); got != want {
			t.Errorf("register checksum = %#04x, want %#04x (8 bytes, pseudo-header length 8)", got, want)
		}
		c := append([]byte(nil), b...)
		c[len(c)-1] ^= 0xff // the data packet is not covered
		if _, err := Parse(s.src, s.dst, c); err != nil {
			t.Errorf("Parse(register with changed data) = %v, want nil", err)
		}
		c[5] ^= 0x01 // the flags word is
		if _, err := Parse(s.src, s.dst, c); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("Parse(register with changed flags) = %v, want ErrBadChecksum", err)
		}
	})
	t.Run("register with a whole-message checksum is accepted", func(t *testing.T) {
		// RFC 7761 §4.9.3: "For interoperability reasons, a message carrying
		// a checksum calculated over the entire PIM Register message should
		// also be accepted."
		s := sampleByName(t, "register")
		b, _ := Marshal(s.src, s.dst, s.msg)
		b[2], b[3] = 0, 0
		binary.BigEndian.PutUint16(b[2:], refChecksum(s.src, s.dst, len(b), b))
		if _, err := Parse(s.src, s.dst, b); err != nil {
			t.Errorf("Parse(register, whole-message checksum) = %v, want nil", err)
		}
	})
}

func refHeaderOnly(s sample, b []byte) uint16 {
	h := append([]byte(nil), b[:8]...)
	h[2], h[3] = 0, 0
	return refChecksum(s.src, s.dst, 8, h)
}

// withChecksum sets a valid checksum on a hand-built message from llA to
// ff02::d, so the tests below reach the body.
func withChecksum(b []byte) []byte {
	b = append([]byte(nil), b...)
	if len(b) >= 4 {
		b[2], b[3] = 0, 0
		binary.BigEndian.PutUint16(b[2:], refChecksum(llA, AllPIMRouters, len(b), b))
	}
	return b
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		wire      string
		noCsum    bool
		want      error
		wantField string
		wantOff   int
	}{
		{name: "empty", wire: ``, noCsum: true, want: ErrTruncated, wantField: "header"},
		{name: "short header", wire: `20 00 00`, noCsum: true, want: ErrTruncated, wantField: "header"},
		{name: "version 1", wire: `10 00 0000`, want: ErrBadVersion, wantField: "version"},
		{name: "graft is unknown (PIM-DM)", wire: `26 00 0000`, want: ErrUnknownType, wantField: "type"},
		{name: "graft-ack is unknown", wire: `27 00 0000`, want: ErrUnknownType},
		{name: "type 15 is unknown", wire: `2f 00 0000`, want: ErrUnknownType},
		{name: "bad checksum", wire: `20 00 1234 0001 0002 0069`, noCsum: true, want: ErrBadChecksum, wantField: "checksum", wantOff: 2},
		{name: "hello option header cut", wire: `20 00 0000 0001 00`, want: ErrTruncated, wantField: "option header", wantOff: 4},
		{name: "hello option value runs past the end", wire: `20 00 0000 0001 0002 00`, want: ErrTruncated, wantField: "holdtime option", wantOff: 8},
		{name: "hello holdtime of length 1", wire: `20 00 0000 0001 0001 69 00`, want: ErrBadOption, wantField: "holdtime option length", wantOff: 6},
		{name: "hello dr priority of length 2", wire: `20 00 0000 0013 0002 0001`, want: ErrBadOption, wantOff: 6},
		{name: "hello address list not a multiple of 18", wire: `20 00 0000 0018 0011 0200 20010db80000000000000000000001`, want: ErrBadOption},
		{name: "hello address list of IPv4", wire: `20 00 0000 0018 0012 0100 c0000201 0000000000000000000000000000`, want: ErrBadAddressFamily, wantField: "address list entry.family", wantOff: 8},
		{name: "register without flags", wire: `21 00 0000 4000`, noCsum: true, want: ErrTruncated, wantField: "flags", wantOff: 4},
		{name: "register-stop group of family 1", wire: `22 00 0000 01 00 00 20 e0000001000000000000000000000000 02 00 20010db8000100000000000000000100`, want: ErrBadAddressFamily, wantField: "group.family", wantOff: 4},
		{name: "register-stop source cut", wire: `22 00 0000 02 00 00 80 ff1e0000000000000000000000001234 02 00 2001`, want: ErrTruncated, wantField: "source", wantOff: 24},
		{name: "join/prune upstream with encoding 1", wire: `23 00 0000 02 01 fe800000000000000000000000000002 0000 00d2`, want: ErrBadEncoding, wantField: "upstream neighbor.encoding", wantOff: 5},
		{name: "join/prune counts 2 groups, holds 1", wire: `23 00 0000 02 00 fe800000000000000000000000000002 00 02 00d2
			02 00 00 80 ff3e0000000000000000000080000001 0000 0000`, want: ErrTruncated, wantField: "group 1", wantOff: 50},
		{name: "join/prune counts 65535 joins, holds 1", wire: `23 00 0000 02 00 fe800000000000000000000000000002 00 01 00d2
			02 00 00 80 ff3e0000000000000000000080000001 ffff 0000
			02 00 04 80 20010db8000100000000000000000100`, want: ErrTruncated, wantField: "group 0 sources", wantOff: 46},
		{name: "join/prune source mask 129", wire: `23 00 0000 02 00 fe800000000000000000000000000002 00 01 00d2
			02 00 00 80 ff3e0000000000000000000080000001 0001 0000
			02 00 04 81 20010db8000100000000000000000100`, want: ErrBadMaskLen, wantField: "joined source.masklen", wantOff: 53},
		{name: "assert cut before metric", wire: `25 00 0000 02 00 00 80 ff1e0000000000000000000000001234 02 00 20010db8000100000000000000000100 0000006e`, want: ErrTruncated, wantField: "metric", wantOff: 46},
		{name: "bootstrap hash mask len 129", wire: `24 00 0000 0001 81 01 02 00 20010db800fe00000000000000000001`, want: ErrBadMaskLen, wantField: "hash mask len", wantOff: 6},
		{name: "bootstrap frag rp count past the end", wire: `24 00 0000 0001 7e 01 02 00 20010db800fe00000000000000000001
			02 00 00 08 ff000000000000000000000000000000 02 ff 0000`, want: ErrTruncated, wantField: "group block 0 rps", wantOff: 47},
		{name: "bootstrap partial group block", wire: `24 00 0000 0001 7e 01 02 00 20010db800fe00000000000000000001 02 00`, want: ErrTruncated, wantField: "group block 0", wantOff: 26},
		{name: "c-rp-adv prefix count past the end", wire: `28 00 0000 03 00 0096 02 00 20010db800ff00000000000000000001
			02 00 00 10 ff0e0000000000000000000000000000`, want: ErrTruncated, wantField: "group addresses", wantOff: 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.wire)
			if !tt.noCsum {
				b = withChecksum(b)
			}
			m, err := Parse(llA, AllPIMRouters, b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%x) = %v, %v; want error %v", b, m, err, tt.want)
			}
			if m != nil {
				t.Errorf("Parse returned a message with an error: %#v", m)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if tt.wantField != "" && pe.Field != tt.wantField {
				t.Errorf("Field = %q, want %q (%v)", pe.Field, tt.wantField, err)
			}
			if tt.wantOff != 0 && pe.Offset != tt.wantOff {
				t.Errorf("Offset = %d, want %d (%v)", pe.Offset, tt.wantOff, err)
			}
		})
	}
}

func TestHelloOptions(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want *Hello
	}{
		{"unknown options are skipped", `20 00 0000
			0015 0004 00000000   // 21 State-Refresh (PIM-DM)
			0016 0000            // 22 Bidirectional Capable, empty
			fff0 0003 aabbcc     // unassigned, odd length
			0001 0002 0069`,
			&Hello{Holdtime: 105, HasHoldtime: true}},
		{"no options", `20 00 0000`, &Hello{}},
		{"repeated holdtime: the first counts", `20 00 0000 0001 0002 0069 0001 0002 ffff`,
			&Hello{Holdtime: 105, HasHoldtime: true}},
		{"repeated dr priority and genid: the first counts", `20 00 0000 0013 0004 00000005 0014 0004 00000001 0013 0004 00000009 0014 0004 00000002`,
			&Hello{DRPriority: 5, HasDRPriority: true, GenerationID: 1, HasGenID: true}},
		{"repeated address lists are joined", `20 00 0000
			0018 0012 0200 20010db8000100000000000000000001
			0018 0012 0200 20010db8000200000000000000000001`,
			&Hello{AddressList: []netip.Addr{netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1")}}},
		{"empty address list", `20 00 0000 0018 0000`, &Hello{}},
		{"lan prune delay without T bit", `20 00 0000 0002 0004 01f4 09c4`,
			&Hello{LANPruneDelay: &LANPruneDelay{PropagationDelay: 500, OverrideInterval: 2500}}},
		{"lan prune delay with T bit", `20 00 0000 0002 0004 81f4 09c4`,
			&Hello{LANPruneDelay: &LANPruneDelay{TrackingSupport: true, PropagationDelay: 500, OverrideInterval: 2500}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(llA, AllPIMRouters, withChecksum(unhex(t, tt.wire)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(Message(tt.want), m, cmpAddr); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHugeCountsAllocateNothing checks that counts a message cannot hold are
// refused before any slice is made for them.
func TestHugeCountsAllocateNothing(t *testing.T) {
	jp := withChecksum(unhex(t, `23 00 0000 02 00 fe800000000000000000000000000002 00 ff 00d2
		02 00 00 80 ff3e0000000000000000000080000001 ffff ffff`))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(llA, AllPIMRouters, jp); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Parse = %v, want ErrTruncated", err)
		}
	})
	// The only allocations are the upstream address's message struct and the
	// error; never anything proportional to 255 groups or 131070 sources.
	if allocs > 4 {
		t.Errorf("Parse of a J/P claiming 255 groups x 131070 sources: %v allocs, want <= 4", allocs)
	}
}

func TestMarshalErrors(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"nil", nil, ErrNilMessage},
		{"typed nil", (*Hello)(nil), ErrNilMessage},
		{"ipv4 in address list", &Hello{AddressList: []netip.Addr{v4}}, ErrBadAddressFamily},
		{"propagation delay over 15 bits", &Hello{LANPruneDelay: &LANPruneDelay{PropagationDelay: 0x8000}}, ErrBadValue},
		{"invalid upstream neighbor", &JoinPrune{}, ErrBadAddressFamily},
		{"256 groups", &JoinPrune{UpstreamNeighbor: llB, Groups: make([]JoinPruneGroup, 256)}, ErrTooMany},
		{"group mask 129", &RegisterStop{Group: EncodedGroup{Addr: grp, MaskLen: 129}}, ErrBadMaskLen},
		{"metric preference over 31 bits", &Assert{Group: GroupOf(grp), MetricPreference: 0x80000000}, ErrBadValue},
		{"256 rps in one group block", &Bootstrap{BSRAddress: bsr, Groups: []BootstrapGroup{{Group: GroupOf(grp), RPs: make([]BootstrapRP, 256)}}}, ErrTooMany},
		{"256 c-rp-adv groups", &CandidateRPAdv{RP: rpAddr, Groups: make([]EncodedGroup, 256)}, ErrTooMany},
		{"register over 64 KiB", &Register{Packet: make([]byte, 0x10000)}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte{1, 2, 3}
			got, err := Append(prefix, llA, AllPIMRouters, tt.msg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Append = %v, want %v", err, tt.want)
			}
			if len(got) != len(prefix) {
				t.Errorf("Append on error returned %d bytes, want the %d it was given", len(got), len(prefix))
			}
		})
	}
}

func TestAppendAfterPrefix(t *testing.T) {
	s := sampleByName(t, "hello")
	want, _ := Marshal(s.src, s.dst, s.msg)
	got, err := Append([]byte("xyz"), s.src, s.dst, s.msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:3]) != "xyz" || string(got[3:]) != string(want) {
		t.Errorf("Append(prefix) = %x, want prefix + %x", got, want)
	}
}

func TestDropReason(t *testing.T) {
	_, err := Parse(llA, AllPIMRouters, []byte{0x26, 0, 0, 0})
	if got := DropReason(err); got != "unknown-type" {
		t.Errorf("DropReason(%v) = %q, want unknown-type", err, got)
	}
	if got := DropReason(errors.New("x")); got != "other" {
		t.Errorf("DropReason(foreign) = %q, want other", got)
	}
}

package mld

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestMaxRespCode: RFC 3810 §5.1.3 encodings, exact values and rounding.
func TestMaxRespCode(t *testing.T) {
	tests := []struct {
		delay time.Duration
		code  uint16
	}{
		{0, 0},
		{10 * time.Second, 10000},
		{32767 * time.Millisecond, 32767},
		{32768 * time.Millisecond, 0x8000},                     // (0|0x1000)<<3
		{(0x1fff << 10) * time.Millisecond, 0xffff},            // the largest
		{time.Hour * 10, 0xffff},                               // clamped
		{((0x1234 | 0x1000) << 5) * time.Millisecond, 0xa234},  // exp 2
		{((0x1234|0x1000)<<5 + 31) * time.Millisecond, 0xa234}, // rounded down
	}
	for _, tc := range tests {
		if got := EncodeMaxRespCode(tc.delay); got != tc.code {
			t.Errorf("EncodeMaxRespCode(%v) = %#x, want %#x", tc.delay, got, tc.code)
		}
	}
	// every code decodes to a delay that encodes back to it
	for c := 0; c <= 0xffff; c++ {
		if got := EncodeMaxRespCode(DecodeMaxRespCode(uint16(c))); got != uint16(c) {
			t.Fatalf("EncodeMaxRespCode(DecodeMaxRespCode(%#x)) = %#x", c, got)
		}
	}
}

// TestQQIC: RFC 3810 §5.1.9 encodings.
func TestQQIC(t *testing.T) {
	tests := []struct {
		qi   time.Duration
		code uint8
	}{
		{0, 0},
		{125 * time.Second, 125},
		{127 * time.Second, 127},
		{128 * time.Second, 0x80},
		{31744 * time.Second, 0xff},
		{1e6 * time.Second, 0xff},
		{((0x5 | 0x10) << 4) * time.Second, 0x95},
	}
	for _, tc := range tests {
		if got := EncodeQQIC(tc.qi); got != tc.code {
			t.Errorf("EncodeQQIC(%v) = %#x, want %#x", tc.qi, got, tc.code)
		}
	}
	for c := 0; c <= 0xff; c++ {
		if got := EncodeQQIC(DecodeQQIC(uint8(c))); got != uint8(c) {
			t.Fatalf("EncodeQQIC(DecodeQQIC(%#x)) = %#x", c, got)
		}
	}
}

// TestQueryBytes pins the wire layout of a v2 query (RFC 3810 §5.1).
func TestQueryBytes(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	q := &Query{MaxRespCode: 1000, Group: grp, SuppressRouterSide: true, QRV: 2, QQIC: 125, Sources: []netip.Addr{s1}}
	got := hex.EncodeToString(Marshal(q, src, grp))
	want := "8200" + "xxxx" + "03e8" + "0000" + "ff0e0000000000000000000000001234" + "0a" + "7d" + "0001" + "20010db8000000000000000000000001"
	if got[:4] != want[:4] || got[8:] != want[8:] {
		t.Errorf("Marshal(query) =\n%s, want\n%s", got, want)
	}
}

// TestRoundTrip: Parse(Marshal(m)) == m for every message kind.
func TestRoundTrip(t *testing.T) {
	msgs := []Message{
		&Query{V1: true, MaxRespCode: 10000, Group: netip.IPv6Unspecified()},
		&Query{V1: true, MaxRespCode: 1000, Group: grp},
		&Query{MaxRespCode: EncodeMaxRespCode(10 * time.Second), Group: netip.IPv6Unspecified(), QRV: 2, QQIC: 125},
		&Query{MaxRespCode: 0xffff, Group: grp, SuppressRouterSide: true, QRV: 7, QQIC: 0xff, Sources: []netip.Addr{s1, s2}},
		&V1Report{Group: grp},
		&V1Done{Group: grp},
		&Report{Records: []Record{
			rec(ModeIsInclude, grp, s1), rec(ModeIsExclude, grp), rec(ChangeToInclude, grp, s1, s2),
			rec(ChangeToExclude, grp, s3), rec(AllowNewSources, ssmGrp, s4), rec(BlockOldSources, ssmGrp, s5),
			{Type: ModeIsInclude, Group: grp, Sources: []netip.Addr{s1}, AuxData: []byte{1, 2, 3, 4}},
		}},
		&Report{},
	}
	for _, m := range msgs {
		b := Marshal(m, hostAddr, allMLDv2Routers)
		if !VerifyChecksum(hostAddr, allMLDv2Routers, b) {
			t.Errorf("%T: checksum does not verify", m)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(%T)) = %v", m, err)
		}
		if diff := cmp.Diff(m, got, addrCmp, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// TestGopacketAgrees decodes our messages with gopacket's MLD layers, an
// independent implementation of the same formats.
func TestGopacketAgrees(t *testing.T) {
	rep := &Report{Records: []Record{rec(ModeIsInclude, grp, s1, s2), rec(ChangeToExclude, ssmGrp)}}
	pkt := gopacket.NewPacket(Marshal(rep, hostAddr, allMLDv2Routers), layers.LayerTypeICMPv6, gopacket.Default)
	l, ok := pkt.Layer(layers.LayerTypeMLDv2MulticastListenerReport).(*layers.MLDv2MulticastListenerReportMessage)
	if !ok {
		t.Fatalf("gopacket did not decode our report: %v", pkt.ErrorLayer())
	}
	if len(l.MulticastAddressRecords) != 2 || l.MulticastAddressRecords[0].N != 2 ||
		!l.MulticastAddressRecords[0].MulticastAddress.Equal(grp.AsSlice()) ||
		l.MulticastAddressRecords[1].RecordType != layers.MLDv2MulticastAddressRecordType(ChangeToExclude) {
		t.Errorf("gopacket sees %+v", l.MulticastAddressRecords)
	}
	q := &Query{MaxRespCode: EncodeMaxRespCode(100 * time.Second), Group: grp, SuppressRouterSide: true, QRV: 2, QQIC: EncodeQQIC(300 * time.Second), Sources: []netip.Addr{s1}}
	pkt = gopacket.NewPacket(Marshal(q, hostAddr, grp), layers.LayerTypeICMPv6, gopacket.Default)
	gq, ok := pkt.Layer(layers.LayerTypeMLDv2MulticastListenerQuery).(*layers.MLDv2MulticastListenerQueryMessage)
	if !ok {
		t.Fatalf("gopacket did not decode our query: %v", pkt.ErrorLayer())
	}
	// Compare raw codes: gopacket v1.1.19's MaximumResponseDelay and QQI
	// helpers decode the floating-point forms wrongly (operator precedence in
	// mant|0x1000<<(exp+3), and nanoseconds below 32768), one reason the
	// codec is our own.
	if gq.MaximumResponseCode != q.MaxRespCode || !gq.SuppressRoutersideProcessing || gq.QueriersRobustnessVariable != 2 ||
		gq.QueriersQueryIntervalCode != q.QQIC || len(gq.SourceAddresses) != 1 || !gq.MulticastAddress.Equal(grp.AsSlice()) {
		t.Errorf("gopacket sees code %#x S %v QRV %d QQIC %#x sources %d", gq.MaximumResponseCode, gq.SuppressRoutersideProcessing,
			gq.QueriersRobustnessVariable, gq.QueriersQueryIntervalCode, len(gq.SourceAddresses))
	}
}

// TestParseErrors: truncations and impossible counts are errors naming the
// field, wrapping ErrMalformed.
func TestParseErrors(t *testing.T) {
	rep := Marshal(&Report{Records: []Record{rec(ModeIsInclude, grp, s1)}}, hostAddr, allMLDv2Routers)
	tests := []struct {
		name  string
		b     []byte
		field string
	}{
		{"empty", nil, "type"},
		{"unknown type", []byte{1, 0, 0, 0}, "type"},
		{"short v1", Marshal(&V1Done{Group: grp}, hostAddr, grp)[:23], "length"},
		{"query of 27 bytes", append(Marshal(&Query{V1: true}, hostAddr, grp), 0, 0, 0), "length"},
		{"report header", rep[:6], "length"},
		{"record header", rep[:20], "record"},
		{"record sources", rep[:len(rep)-1], "record number of sources"},
		{"65535 records", append(append([]byte{}, rep[:6]...), 0xff, 0xff), "record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || pe.Field != tc.field {
				t.Errorf("Parse() error = %v, want a ParseError on %q", err, tc.field)
			}
		})
	}
}

// TestChecksumKnownValue checks the pseudo-header sum against gopacket.
func TestChecksumKnownValue(t *testing.T) {
	b := Marshal(&V1Report{Group: grp}, hostAddr, grp)
	ip := &layers.IPv6{SrcIP: hostAddr.AsSlice(), DstIP: grp.AsSlice(), NextHeader: layers.IPProtocolICMPv6, HopLimit: 1, Version: 6}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(131, 0)}
	if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, icmp, gopacket.Payload(b[4:])); err != nil {
		t.Fatal(err)
	}
	if got, want := b[2:4], buf.Bytes()[2:4]; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("checksum = %x, gopacket computes %x", got, want)
	}
}

package mld

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/pim6d/pim6d/stack"
)

// frame wraps an OutPacket the way the stack sends it: Ethernet, IPv6, a
// hop-by-hop header with the Router Alert option (RFC 2711, value 0 = MLD),
// then the ICMPv6 message.
func frame(t *testing.T, p stack.OutPacket) []byte {
	t.Helper()
	ip := make([]byte, 40+8)
	binary.BigEndian.PutUint32(ip, 6<<28)
	binary.BigEndian.PutUint16(ip[4:], uint16(8+len(p.Payload)))
	ip[6] = 0 // hop-by-hop options follow
	ip[7] = byte(p.HopLimit)
	src, dst := p.Src.As16(), p.Dst.As16()
	copy(ip[8:], src[:])
	copy(ip[24:], dst[:])
	copy(ip[40:], []byte{58, 0, 5, 2, 0, 0, 1, 0}) // next ICMPv6; Router Alert (MLD); PadN
	d := dst
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 0x10},
		DstMAC:       net.HardwareAddr{0x33, 0x33, d[12], d[13], d[14], d[15]},
		EthernetType: layers.EthernetTypeIPv6,
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, gopacket.Payload(append(ip, p.Payload...))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var frameStart = regexp.MustCompile(`(?m)^Frame \d+: `)

// everyQueryKind drives queriers into sending each kind of query pim6d sends.
func everyQueryKind(t *testing.T) (pkts []stack.OutPacket, kinds []string) {
	add := func(kind string, out Output) {
		for _, p := range out.Packets {
			pkts = append(pkts, p)
			kinds = append(kinds, kind)
		}
	}
	q, _ := NewQuerier(Config{}, testLink, ourAddr, t0)
	var out Output
	q.Tick(t0, &out)
	add("v2 general", out)
	feed(q, t0, rec(ModeIsExclude, grp))
	add("v2 multicast-address-specific", feed(q, at(time.Second), rec(ChangeToInclude, grp)))
	feed(q, t0, rec(ModeIsInclude, ssmGrp, s1, s2))
	add("v2 multicast-address-and-source-specific", feed(q, at(2*time.Second), rec(BlockOldSources, ssmGrp, s1, s2)))
	feed(q, at(2500*time.Millisecond), rec(AllowNewSources, ssmGrp, s2))
	out = Output{}
	q.Tick(at(3*time.Second), &out)
	add("v2 retransmissions, S flag set and clear", out)

	v1, _ := NewQuerier(Config{Version: Version1}, testLink, ourAddr, t0)
	out = Output{}
	v1.Tick(t0, &out)
	add("v1 general", out)
	v1.HandlePacket(t0, packetFrom(hostAddr, grp, &V1Report{Group: grp}), &out)
	out = Output{}
	v1.HandlePacket(at(time.Second), packetFrom(hostAddr, allRoutersLL, &V1Done{Group: grp}), &out)
	add("v1 multicast-address-specific", out)
	return pkts, kinds
}

// TestTsharkDecodesQueries writes every kind of query we send to a pcap and
// has tshark decode it: no malformed packet, every ICMPv6 checksum good.
func TestTsharkDecodesQueries(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (Debian package tshark)")
	}
	pkts, kinds := everyQueryKind(t)
	if len(pkts) < 7 {
		t.Fatalf("collected %d queries (%v), want at least 7", len(pkts), kinds)
	}
	path := filepath.Join(t.TempDir(), "queries.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		b := frame(t, p)
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	out, err := exec.Command(tshark, "-r", path, "-V", "-o", "ip.check_checksum:TRUE").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	text := string(out)
	frames := frameStart.Split(text, -1)[1:] // text before "Frame 1:" is tshark's chatter
	if len(frames) != len(pkts) {
		t.Fatalf("tshark printed %d frames, want %d", len(frames), len(pkts))
	}
	for i, fr := range frames {
		lower := strings.ToLower(fr)
		switch {
		case strings.Contains(lower, "malformed"):
			t.Errorf("frame %d (%s) is malformed:\n%s", i+1, kinds[i], fr)
		case !strings.Contains(fr, "[Checksum Status: Good]"):
			t.Errorf("frame %d (%s): checksum not good:\n%s", i+1, kinds[i], fr)
		case !strings.Contains(fr, "Multicast Listener Query"):
			t.Errorf("frame %d (%s): not decoded as a Multicast Listener Query:\n%s", i+1, kinds[i], fr)
		case !strings.Contains(fr, "Router Alert"):
			t.Errorf("frame %d (%s): no Router Alert option decoded:\n%s", i+1, kinds[i], fr)
		case strings.Contains(lower, "expert info (warning") || strings.Contains(lower, "expert info (error"):
			t.Errorf("frame %d (%s): tshark warns:\n%s", i+1, kinds[i], fr)
		}
	}
	if testing.Verbose() {
		t.Logf("tshark decoded %d queries: %v", len(pkts), kinds)
	}
}

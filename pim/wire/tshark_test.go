package wire

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// innerUDP returns a real IPv6/UDP packet from srcS to grpASM, the data packet
// a DR encapsulates in a Register.
func innerUDP(t testing.TB) []byte {
	t.Helper()
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64,
		SrcIP: srcS.AsSlice(), DstIP: grpASM.AsSlice()}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 5001}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, udp, gopacket.Payload([]byte("pim6d register test payload"))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// frame wraps a PIM message in Ethernet and IPv6 headers, with hop limit 1
// for messages to a link-scoped group and 64 otherwise.
func frame(t testing.TB, src, dst netip.Addr, pim []byte) []byte {
	t.Helper()
	hop := uint8(64)
	dstMAC := net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	if dst.IsMulticast() {
		hop = 1
		d := dst.As16()
		dstMAC = net.HardwareAddr{0x33, 0x33, d[12], d[13], d[14], d[15]}
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 1}, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocol(protoPIM), HopLimit: hop,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, gopacket.Payload(pim)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTsharkDecodesEveryMessage writes every message type pim6d sends to a
// pcap and checks that tshark decodes each one as the right PIM type, with a
// correct checksum and no malformed mark (issue 5: "tshark decodes every
// message type we send without a malformed mark").
func TestTsharkDecodesEveryMessage(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	inner := innerUDP(t)
	type want struct {
		sample
		fields []string // text tshark must print for this frame
	}
	var cases []want
	for _, s := range samples(inner) {
		w := want{sample: s}
		switch s.msg.(type) {
		case *Hello:
			w.fields = []string{"Type: Hello (0)", "Holdtime", "Generation ID"}
			if len(s.msg.(*Hello).AddressList) > 0 {
				w.fields = append(w.fields, "DR Priority", "Address List", "2001:db8:1::1", "2001:db8:2::1", "LAN Prune Delay")
			}
		case *Register:
			w.fields = []string{"Type: Register (1)"}
			if s.msg.(*Register).Null {
				w.fields = append(w.fields, "Null-Register: Yes", "Src: 2001:db8:1::100, Dst: ff1e::1234")
			} else {
				w.fields = append(w.fields, "User Datagram Protocol", "Dst Port: 5001")
			}
		case *RegisterStop:
			w.fields = []string{"Type: Register-stop (2)", "ff1e::1234", "2001:db8:1::100"}
		case *JoinPrune:
			w.fields = []string{"Type: Join/Prune (3)", "Upstream-neighbor: fe80::2", "ff3e::8000:1", "ff1e::1234", "2001:db8:ff::1"}
		case *Bootstrap:
			w.fields = []string{"Type: Bootstrap (4)", "BSR: 2001:db8:fe::1"}
			if s.msg.(*Bootstrap).NoForward {
				w.fields = append(w.fields, "Reserved byte(s): 80") // the No-Forward bit
			} else {
				w.fields = append(w.fields, "Group 0: ff00::/8", "RP 1: 2001:db8:ff::2", "Admin Scope Zone: Set")
			}
		case *Assert:
			w.fields = []string{"Type: Assert (5)", "ff1e::1234"}
		case *CandidateRPAdv:
			w.fields = []string{"Type: Candidate-RP-Advertisement (8)", "2001:db8:ff::1"}
		}
		cases = append(cases, w)
	}

	path := filepath.Join(t.TempDir(), "pim.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	pw := pcapgo.NewWriter(f)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	// The last frame is a control: a Hello with a broken checksum, which the
	// checks below must flag, or they prove nothing.
	control := cases[0]
	control.name = "control-bad-checksum"
	cases = append(cases, control)
	for i, c := range cases {
		b, err := Marshal(c.src, c.dst, c.msg)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", c.name, err)
		}
		if i == len(cases)-1 {
			b[3] ^= 1
		}
		fr := frame(t, c.src, c.dst, b)
		ci := gopacket.CaptureInfo{CaptureLength: len(fr), Length: len(fr)}
		if err := pw.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// tshark 4.0 has one PIM preference (`tshark -G defaultprefs | grep -i
	// pim`): pim.payload_tree. It always verifies PIM checksums, printing
	// "[correct]" or "incorrect, should be 0x...", for Registers over the
	// 8-byte header with pseudo-header length 8.
	out, err := exec.Command(tshark, "-r", path, "-V", "-o", "pim.payload_tree:TRUE").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	frames := splitFrames(out)
	if len(frames) != len(cases) {
		t.Fatalf("tshark printed %d frames, want %d\n%s", len(frames), len(cases), out)
	}
	bad := regexp.MustCompile(`(?i)malformed|bad checksum|incorrect|Checksum Status: Bad|Expert Info \((Warn|Error)`)
	if !bad.Match(frames[len(frames)-1]) {
		t.Fatalf("tshark output for a corrupted checksum is not flagged:\n%s", frames[len(frames)-1])
	}
	for i, c := range cases[:len(cases)-1] {
		t.Run(c.name, func(t *testing.T) {
			fr := frames[i]
			if m := bad.Find(fr); m != nil {
				t.Errorf("tshark marks %s: %q\n%s", c.name, m, fr)
			}
			if !bytes.Contains(fr, []byte("[correct]")) && !bytes.Contains(fr, []byte("[Checksum Status: Good]")) {
				t.Errorf("tshark does not call the checksum of %s correct\n%s", c.name, fr)
			}
			for _, want := range c.fields {
				if !bytes.Contains(fr, []byte(want)) {
					t.Errorf("tshark output for %s lacks %q\n%s", c.name, want, fr)
				}
			}
		})
	}
}

// splitFrames splits tshark -V output into one chunk per frame.
func splitFrames(out []byte) [][]byte {
	var frames [][]byte
	for _, chunk := range strings.Split(string(out), "\nFrame ") {
		if strings.Contains(chunk, "Protocol Independent Multicast") {
			frames = append(frames, []byte(chunk))
		}
	}
	return frames
}

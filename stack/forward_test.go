package stack

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	testSrc   = netip.MustParseAddr("2001:db8:1::10")
	testGroup = netip.MustParseAddr("ff3e::4321:1234")
)

// udpFrame builds an Ethernet/IPv6/UDP frame from src to group with a correct
// UDP checksum, as a sender's NIC would put on the wire.
func udpFrame(t *testing.T, src, dst netip.Addr, hopLimit uint8, payload int) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x33, 0x33, 0x43, 0x21, 0x12, 0x34},
		EthernetType: layers.EthernetTypeIPv6,
	}
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: hopLimit, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	udp := &layers.UDP{SrcPort: 4321, DstPort: 4321}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, udp, gopacket.Payload(make([]byte, payload))); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

type capture struct {
	frames  map[int][][]byte
	signals []DataSignal
	tooBig  []int
}

func newTestForwarder(t *testing.T, mtus map[int]int) (*forwarder, *capture) {
	t.Helper()
	c := &capture{frames: map[int][][]byte{}}
	now := int64(1e9)
	f := newForwarder(NewTable(), func() int64 { now += 1e6; return now },
		func(s DataSignal) { c.signals = append(c.signals, s) },
		func(pkt []byte, mtu int) { c.tooBig = append(c.tooBig, mtu) })
	links := map[int]*fwdLink{}
	for idx, mtu := range mtus {
		idx := idx
		l := &fwdLink{index: idx, name: "eth", mtu: mtu, mac: [6]byte{2, 0, 0, 0, 1, byte(idx)}}
		l.send = func(b []byte) error { c.frames[idx] = append(c.frames[idx], append([]byte(nil), b...)); return nil }
		links[idx] = l
	}
	f.setLinks(links)
	return f, c
}

func sgRoute(iif int, oifs ...int) Route {
	return Route{Dst: netip.PrefixFrom(testGroup, 128), Src: netip.PrefixFrom(testSrc, 128), Kind: KindMulticast,
		IIF: iif, OIFs: oifs, Flags: FlagNotifyData | FlagNotifyWrongIIF}
}

func TestForwardReplicatesToEveryOIFWithNewSourceMACAndHopLimit(t *testing.T) {
	f, c := newTestForwarder(t, map[int]int{1: 1500, 2: 1500, 3: 1500})
	if err := f.table.Insert(sgRoute(1, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	frame := udpFrame(t, testSrc, testGroup, 64, 100)
	f.forward(1, frame, false)
	for _, oif := range []int{2, 3} {
		if len(c.frames[oif]) != 1 {
			t.Fatalf("oif %d got %d frames, want 1", oif, len(c.frames[oif]))
		}
		out := c.frames[oif][0]
		if got := out[ethHeaderLen+7]; got != 63 {
			t.Errorf("oif %d hop limit = %d, want 63", oif, got)
		}
		if want := []byte{2, 0, 0, 0, 1, byte(oif)}; string(out[6:12]) != string(want) {
			t.Errorf("oif %d source MAC = % x, want % x", oif, out[6:12], want)
		}
		pkt := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
		if pkt.ErrorLayer() != nil {
			t.Errorf("oif %d: frame does not decode: %v", oif, pkt.ErrorLayer().Error())
		}
	}
	if len(c.frames[1]) != 0 {
		t.Errorf("a copy went back out of the iif")
	}
	r, _ := f.table.Get(netip.PrefixFrom(testGroup, 128), netip.PrefixFrom(testSrc, 128), 0)
	if r.Stats.Packets.Load() != 1 || r.Stats.Bytes.Load() != uint64(len(frame)-ethHeaderLen) {
		t.Errorf("route counters = %d packets %d bytes, want 1 and %d", r.Stats.Packets.Load(), r.Stats.Bytes.Load(), len(frame)-ethHeaderLen)
	}
	if len(c.signals) != 1 || c.signals[0].Kind != SignalData {
		t.Errorf("signals = %+v, want one data signal", c.signals)
	}
	// A second packet within the signal interval is forwarded but not signalled.
	f.forward(1, udpFrame(t, testSrc, testGroup, 64, 100), false)
	if len(c.signals) != 1 {
		t.Errorf("data signal not rate-limited: %+v", c.signals)
	}
}

func TestForwardDrops(t *testing.T) {
	cases := []struct {
		name     string
		route    *Route
		in       int
		hopLimit uint8
		dst      netip.Addr
		reason   DropReason
		signal   SignalKind
	}{
		{name: "wrong iif signals for assert", route: ptr(sgRoute(1, 2)), in: 2, hopLimit: 64, dst: testGroup, reason: DropWrongIIF, signal: SignalWrongIIF},
		{name: "hop limit 1 is not forwarded", route: ptr(sgRoute(1, 2)), in: 1, hopLimit: 1, dst: testGroup, reason: DropHopLimit, signal: SignalData},
		{name: "no route", in: 1, hopLimit: 64, dst: testGroup, reason: DropNoRoute},
		{name: "signal route tells the control plane", route: &Route{Dst: netip.MustParsePrefix("ff00::/8"), Src: netip.MustParsePrefix("::/0"), Kind: KindSignal},
			in: 1, hopLimit: 64, dst: testGroup, reason: DropSignal, signal: SignalNoRoute},
		{name: "ssm range drops without state", route: &Route{Dst: netip.MustParsePrefix("ff3e::/16"), Src: netip.MustParsePrefix("::/0"), Kind: KindDrop},
			in: 1, hopLimit: 64, dst: testGroup, reason: DropNoRoute},
		{name: "link-scoped group never forwarded", route: &Route{Dst: netip.MustParsePrefix("ff02::/16"), Src: netip.MustParsePrefix("::/0"), Kind: KindMulticast, IIF: 1, OIFs: []int{2}},
			in: 1, hopLimit: 64, dst: netip.MustParseAddr("ff02::1:3"), reason: DropNotForwardable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newTestForwarder(t, map[int]int{1: 1500, 2: 1500})
			if tc.route != nil {
				if err := f.table.Insert(*tc.route); err != nil {
					t.Fatal(err)
				}
			}
			f.forward(tc.in, udpFrame(t, testSrc, tc.dst, tc.hopLimit, 10), false)
			if n := len(c.frames[1]) + len(c.frames[2]); n != 0 {
				t.Errorf("%d frames sent, want none", n)
			}
			if got := f.drops[tc.reason].Load(); got != 1 {
				t.Errorf("drops[%v] = %d, want 1 (stats %+v)", tc.reason, got, f.stats())
			}
			var kinds []SignalKind
			for _, s := range c.signals {
				kinds = append(kinds, s.Kind)
			}
			if tc.signal == 0 && len(kinds) != 0 || tc.signal != 0 && (len(kinds) != 1 || kinds[0] != tc.signal) {
				t.Errorf("signals = %v, want %v", kinds, tc.signal)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestForwardTooBigSendsPacketTooBigInsteadOfACopy(t *testing.T) {
	f, c := newTestForwarder(t, map[int]int{1: 9000, 2: 1280, 3: 9000})
	f.table.Insert(sgRoute(1, 2, 3))
	f.forward(1, udpFrame(t, testSrc, testGroup, 64, 1400), false)
	if len(c.frames[2]) != 0 || len(c.frames[3]) != 1 {
		t.Errorf("frames: oif2 %d (want 0, MTU 1280), oif3 %d (want 1)", len(c.frames[2]), len(c.frames[3]))
	}
	if len(c.tooBig) != 1 || c.tooBig[0] != 1280 {
		t.Errorf("packet too big calls = %v, want [1280]", c.tooBig)
	}
}

// On veth, a same-machine sender's packets arrive with the UDP checksum left for
// offload (CHECKSUM_PARTIAL): the forwarder must finish it.
func TestForwardFinishesPartialChecksum(t *testing.T) {
	f, c := newTestForwarder(t, map[int]int{1: 1500, 2: 1500})
	f.table.Insert(sgRoute(1, 2))
	good := udpFrame(t, testSrc, testGroup, 64, 33)
	partial := append([]byte(nil), good...)
	csum := ethHeaderLen + ipv6HeaderLen + 6
	partial[csum], partial[csum+1] = 0x12, 0x34 // what the kernel leaves: not the final sum
	f.forward(1, partial, true)
	if len(c.frames[2]) != 1 {
		t.Fatalf("no frame forwarded")
	}
	out := c.frames[2][0]
	if got, want := out[csum:csum+2], good[csum:csum+2]; string(got) != string(want) {
		t.Errorf("UDP checksum = % x, want % x", got, want)
	}
	if f.checksums.Load() != 1 {
		t.Errorf("checksums finished = %d, want 1", f.checksums.Load())
	}
}

func TestUpperLayerWalksExtensionHeadersBounded(t *testing.T) {
	ip := make([]byte, 40+8+8)
	ip[0] = 0x60
	ip[6] = 0 // hop-by-hop
	ip[40] = 17
	ip[41] = 0
	proto, off, ok := upperLayer(ip)
	if !ok || proto != 17 || off != 48 {
		t.Errorf("upperLayer = %d, %d, %v; want 17, 48, true", proto, off, ok)
	}
	// A chain that points past the end is refused, not followed.
	ip[41] = 200
	if _, _, ok := upperLayer(ip); ok {
		t.Errorf("upperLayer accepted a header that runs past the packet")
	}
}

func FuzzForward(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(make([]byte, 60), true)
	f.Fuzz(func(t *testing.T, frame []byte, csum bool) {
		fw, _ := newTestForwarder(t, map[int]int{1: 1500, 2: 1500})
		fw.table.Insert(Route{Dst: netip.MustParsePrefix("ff00::/8"), Src: netip.MustParsePrefix("::/0"), Kind: KindMulticast, IIF: 1, OIFs: []int{2}})
		fw.forward(1, frame, csum)
	})
}

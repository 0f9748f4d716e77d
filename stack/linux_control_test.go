//go:build linux

package stack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func TestMLDFilter(t *testing.T) {
	prog, err := mldFilter(false)
	if err != nil {
		t.Fatal(err)
	}
	insns := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		insns[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mldFilter(true); err != nil {
		t.Fatalf("mldFilter(true) = %v", err)
	}
	icmp := func(typ byte) []byte { return []byte{typ, 0, 0, 0, 0, 0, 0, 0} }
	ra := []testExt{routerAlertHBH(0)}
	bigHBH := []testExt{{nhHopByHop, append([]byte{0, optRouterAl, 2, 0, 0, 1, 8}, make([]byte, 8)...)}}
	tests := []struct {
		name   string
		pkt    []byte
		accept bool
	}{
		{"MLDv2 report after hop-by-hop", buildIPv6Packet(testLL, testMLDv2, 1, ra, 58, icmp(143)), true},
		{"MLD query after a 16-byte hop-by-hop", buildIPv6Packet(testLL, testMLDv2, 1, bigHBH, 58, icmp(130)), true},
		{"MLDv1 report without hop-by-hop", buildIPv6Packet(testLL, testMLDv2, 1, nil, 58, icmp(131)), true},
		{"MLDv1 done", buildIPv6Packet(testLL, testMLDv2, 1, ra, 58, icmp(132)), true},
		{"hop-by-hop then destination options: walked in Go",
			buildIPv6Packet(testLL, testMLDv2, 1, append(ra, testExt{nhDestOpts, make([]byte, 7)}), 58, icmp(143)), true},
		{"echo request", buildIPv6Packet(testLL, testMLDv2, 64, nil, 58, icmp(128)), false},
		{"neighbour solicitation after hop-by-hop", buildIPv6Packet(testLL, testMLDv2, 255, ra, 58, icmp(135)), false},
		{"UDP", buildIPv6Packet(testLL, testMLDv2, 1, nil, 17, icmp(143)), false},
		{"hop-by-hop then UDP", buildIPv6Packet(testLL, testMLDv2, 1, ra, 17, icmp(143)), false},
		{"PIM", buildIPv6Packet(testLL, testMLDv2, 1, nil, 103, icmp(143)), false},
		{"IPv4", append([]byte{0x45}, make([]byte, 59)...), false},
		{"truncated", buildIPv6Packet(testLL, testMLDv2, 1, ra, 58, icmp(143))[:44], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := vm.Run(tc.pkt)
			if err != nil {
				t.Fatalf("filter run: %v", err)
			}
			if got := n > 0; got != tc.accept {
				t.Errorf("filter(%x) accepts = %v, want %v", tc.pkt, got, tc.accept)
			}
		})
	}
}

func TestControlMessagesRoundTrip(t *testing.T) {
	var info [unix.SizeofInet6Pktinfo]byte
	dst := netip.MustParseAddr("ff02::d")
	d := dst.As16()
	copy(info[:], d[:])
	binary.NativeEndian.PutUint32(info[16:], 7)
	hop := binary.NativeEndian.AppendUint32(nil, 1)
	oob := appendCmsg(nil, unix.IPV6_PKTINFO, info[:])
	oob = appendCmsg(oob, unix.IPV6_HOPLIMIT, hop)
	oob = appendCmsg(oob, unix.IPV6_HOPOPTS, routerAlertHopOpts[:])
	var p Packet
	if !parseControlMessages(oob, &p) {
		t.Fatal("parseControlMessages() found no packet info")
	}
	if p.Dst != dst || p.LinkIndex != 7 || p.HopLimit != 1 || !p.RouterAlert {
		t.Errorf("parseControlMessages() = dst %v link %d hop %d RA %v, want ff02::d, 7, 1, true",
			p.Dst, p.LinkIndex, p.HopLimit, p.RouterAlert)
	}
	if parseControlMessages(appendCmsg(nil, unix.IPV6_HOPLIMIT, hop), &Packet{}) {
		t.Error("parseControlMessages(hop limit only) = true, want false")
	}
}

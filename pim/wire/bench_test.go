package wire

import (
	"net/netip"
	"testing"
)

// benchJoinPrune is a Join/Prune with 32 groups of one (S,G) join each, the
// message size the FRR comparison in issue 5 uses.
func benchJoinPrune() *JoinPrune {
	m := &JoinPrune{UpstreamNeighbor: llB, Holdtime: 210, Groups: make([]JoinPruneGroup, 32)}
	for i := range m.Groups {
		g := grp.As16()
		g[15] = byte(i)
		m.Groups[i] = JoinPruneGroup{Group: GroupOf(netip.AddrFrom16(g)), Joins: []EncodedSource{SourceOf(srcS)}}
	}
	return m
}

func benchHello(tb testing.TB) *Hello {
	return sampleByName(tb, "hello").msg.(*Hello)
}

func BenchmarkParseJoinPrune32x1(b *testing.B) {
	pkt, err := Marshal(llA, AllPIMRouters, benchJoinPrune())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(llA, AllPIMRouters, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalJoinPrune32x1(b *testing.B) {
	m := benchJoinPrune()
	buf := make([]byte, 0, Len(m))
	b.SetBytes(int64(Len(m)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], llA, AllPIMRouters, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHello(b *testing.B) {
	pkt, err := Marshal(llA, AllPIMRouters, benchHello(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(llA, AllPIMRouters, pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalHello(b *testing.B) {
	m := benchHello(b)
	buf := make([]byte, 0, Len(m))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], llA, AllPIMRouters, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChecksumJoinPrune32x1 is the reference for the figures above: the
// checksum alone over the same bytes, the least any codec must do.
func BenchmarkChecksumJoinPrune32x1(b *testing.B) {
	pkt, _ := Marshal(llA, AllPIMRouters, benchJoinPrune())
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		Checksum(llA, AllPIMRouters, len(pkt), pkt)
	}
}

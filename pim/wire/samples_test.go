package wire

import "net/netip"

// Addresses of the test network (RFC 3849 documentation prefix).
var (
	llA    = netip.MustParseAddr("fe80::1")
	llB    = netip.MustParseAddr("fe80::2")
	dr     = netip.MustParseAddr("2001:db8:1::1")
	rpAddr = netip.MustParseAddr("2001:db8:ff::1")
	srcS   = netip.MustParseAddr("2001:db8:1::100")
	grp    = netip.MustParseAddr("ff3e::8000:1")
	grpASM = netip.MustParseAddr("ff1e::1234")
	bsr    = netip.MustParseAddr("2001:db8:fe::1")
)

// sample is one message we send, with the addresses it is sent with.
type sample struct {
	name     string
	src, dst netip.Addr
	msg      Message
}

// samples returns one message of every type pim6d sends, addressed as RFC
// 7761 §4.9 says: link-scoped ones from fe80:: to ff02::d, unicast ones
// between global addresses. inner is the IPv6 packet a Register carries.
func samples(inner []byte) []sample {
	return []sample{
		{"hello", llA, AllPIMRouters, &Hello{
			Holdtime: 105, HasHoldtime: true,
			DRPriority: 1, HasDRPriority: true,
			GenerationID: 0x12345678, HasGenID: true,
			LANPruneDelay: &LANPruneDelay{TrackingSupport: true, PropagationDelay: 500, OverrideInterval: 2500},
			AddressList:   []netip.Addr{dr, netip.MustParseAddr("2001:db8:2::1")},
		}},
		{"hello-shutdown", llA, AllPIMRouters, &Hello{Holdtime: 0, HasHoldtime: true, GenerationID: 7, HasGenID: true}},
		{"register", dr, rpAddr, &Register{Packet: inner}},
		{"null-register", dr, rpAddr, NullRegister(srcS, grpASM)},
		{"register-stop", rpAddr, dr, &RegisterStop{Group: GroupOf(grpASM), Source: srcS}},
		{"join-prune", llA, AllPIMRouters, &JoinPrune{
			UpstreamNeighbor: llB,
			Holdtime:         210,
			Groups: []JoinPruneGroup{
				{Group: GroupOf(grp), Joins: []EncodedSource{SourceOf(srcS)}},
				{Group: GroupOf(grpASM), Joins: []EncodedSource{WildcardRP(rpAddr)}, Prunes: []EncodedSource{RPTSource(srcS)}},
			},
		}},
		{"assert", llA, AllPIMRouters, &Assert{Group: GroupOf(grpASM), Source: srcS, MetricPreference: 110, Metric: 20}},
		{"assert-wc", llA, AllPIMRouters, &Assert{Group: GroupOf(grpASM), Source: netip.IPv6Unspecified(), RPT: true, MetricPreference: 110, Metric: 30}},
		{"bootstrap", llA, AllPIMRouters, &Bootstrap{
			FragmentTag: 0xbeef, HashMaskLen: 126, BSRPriority: 64, BSRAddress: bsr,
			Groups: []BootstrapGroup{
				{Group: EncodedGroup{Addr: netip.MustParseAddr("ff00::"), MaskLen: 8}, RPCount: 2, FragRPCount: 2, RPs: []BootstrapRP{
					{Addr: rpAddr, Holdtime: 150, Priority: 192},
					{Addr: netip.MustParseAddr("2001:db8:ff::2"), Holdtime: 150, Priority: 192},
				}},
				{Group: EncodedGroup{Addr: netip.MustParseAddr("ff15::"), MaskLen: 16, AdminScope: true}, RPCount: 1, FragRPCount: 1, RPs: []BootstrapRP{
					{Addr: rpAddr, Holdtime: 150, Priority: 0},
				}},
			},
		}},
		{"bootstrap-no-forward", llA, llB, &Bootstrap{NoForward: true, FragmentTag: 1, HashMaskLen: 126, BSRPriority: 1, BSRAddress: bsr}},
		{"c-rp-adv", rpAddr, bsr, &CandidateRPAdv{Priority: 192, Holdtime: 150, RP: rpAddr, Groups: []EncodedGroup{
			{Addr: netip.MustParseAddr("ff0e::"), MaskLen: 16},
			{Addr: netip.MustParseAddr("ff1e::"), MaskLen: 16},
		}}},
		{"c-rp-adv-all", rpAddr, bsr, &CandidateRPAdv{Priority: 0, Holdtime: 150, RP: rpAddr}},
	}
}

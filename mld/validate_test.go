package mld

import (
	"net/netip"
	"testing"

	"github.com/pim6d/pim6d/stack"
)

// TestValidationDrops: RFC 3810 §5.1.14, §5.2.13, §7.1, RFC 2710 §3: each bad
// packet is dropped, counted under its reason, and changes no state.
func TestValidationDrops(t *testing.T) {
	good := func() stack.Packet { return reportPacket(rec(ModeIsExclude, grp)) }
	tests := []struct {
		name   string
		mutate func(p *stack.Packet)
		want   DropReason
	}{
		{"not ICMPv6", func(p *stack.Packet) { p.Proto = 103 }, DropNotICMPv6},
		{"not MLD (echo request)", func(p *stack.Packet) {
			p.Payload = []byte{128, 0, 0, 0, 0, 0, 0, 0}
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropNotMLD},
		{"hop limit 2", func(p *stack.Packet) { p.HopLimit = 2 }, DropHopLimit},
		{"hop limit 255", func(p *stack.Packet) { p.HopLimit = 255 }, DropHopLimit},
		{"no router alert", func(p *stack.Packet) { p.RouterAlert = false }, DropNoRouterAlert},
		{"global source", func(p *stack.Packet) {
			p.Src = netip.MustParseAddr("2001:db8::99")
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropSource},
		{"v1 report from ::", func(p *stack.Packet) {
			p.Src = netip.IPv6Unspecified()
			p.Payload = Marshal(&V1Report{Group: grp}, p.Src, p.Dst)
		}, DropSource},
		{"query from ::", func(p *stack.Packet) {
			p.Src = netip.IPv6Unspecified()
			p.Payload = Marshal(generalQuery(2, 0), p.Src, p.Dst)
		}, DropSource},
		{"bad checksum", func(p *stack.Packet) { p.Payload[2] ^= 0xff }, DropChecksum},
		{"checksum for another destination", func(p *stack.Packet) { p.Dst = allNodes }, DropChecksum},
		{"record count beyond the packet", func(p *stack.Packet) {
			p.Payload[7] = 2
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"source count beyond the packet", func(p *stack.Packet) {
			p.Payload[8+3] = 1
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"truncated report", func(p *stack.Packet) {
			p.Payload = p.Payload[:20]
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"query of 26 bytes", func(p *stack.Packet) {
			p.Payload = append(Marshal(&Query{V1: true}, p.Src, p.Dst), 0, 0)
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"query source count beyond the packet", func(p *stack.Packet) {
			p.Payload = Marshal(generalQuery(2, 0), p.Src, p.Dst)
			p.Payload[27] = 3
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"v1 report of 20 bytes", func(p *stack.Packet) {
			p.Payload = Marshal(&V1Report{Group: grp}, p.Src, p.Dst)[:20]
			setChecksum(p.Src, p.Dst, p.Payload)
		}, DropMalformed},
		{"3-byte payload", func(p *stack.Packet) { p.Payload = []byte{143, 0, 0} }, DropMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			before := q.Snapshot(t0)
			p := good()
			tc.mutate(&p)
			var out Output
			q.HandlePacket(t0, p, &out)
			c := q.Counters()
			if c.Drops(tc.want) != 1 {
				t.Errorf("drops[%v] = %d, want 1 (all: %v)", tc.want, c.Drops(tc.want), c.Dropped)
			}
			after := q.Snapshot(t0)
			if len(after.Groups) != 0 || after.Querier != before.Querier || len(out.Changes) != 0 || len(out.Packets) != 0 {
				t.Errorf("dropped packet changed state: groups %d, changes %d, packets %d", len(after.Groups), len(out.Changes), len(out.Packets))
			}
		})
	}
	t.Run("good packet accepted", func(t *testing.T) {
		q := newTestQuerier(t, Config{})
		var out Output
		q.HandlePacket(t0, good(), &out)
		c := q.Counters()
		for _, r := range DropReasons() {
			if c.Drops(r) != 0 {
				t.Errorf("drops[%v] = %d, want 0", r, c.Drops(r))
			}
		}
		if len(out.Changes) != 1 {
			t.Errorf("changes = %d, want 1", len(out.Changes))
		}
	})
	t.Run("v2 report from :: accepted", func(t *testing.T) {
		q := newTestQuerier(t, Config{})
		var out Output
		q.HandlePacket(t0, packetFrom(netip.IPv6Unspecified(), allMLDv2Routers, &Report{Records: []Record{rec(ModeIsExclude, grp)}}), &out)
		if len(out.Changes) != 1 {
			t.Errorf("changes = %d, want 1 (RFC 3810 §5.2.13 allows ::)", len(out.Changes))
		}
	})
}

// TestRecordIgnores: bad records inside a valid report are skipped and
// counted; the other records still apply.
func TestRecordIgnores(t *testing.T) {
	tests := []struct {
		name string
		bad  Record
		want IgnoreReason
	}{
		{"unknown record type", Record{Type: 9, Group: grp}, IgnoreRecordType},
		{"record type 0", Record{Type: 0, Group: grp}, IgnoreRecordType},
		{"unicast group", rec(ModeIsExclude, s1), IgnoreGroup},
		{"interface-local group", rec(ModeIsExclude, netip.MustParseAddr("ff01::1")), IgnoreGroup},
		{"all-nodes", rec(ModeIsExclude, allNodes), IgnoreGroup},
		{"multicast source", rec(ModeIsInclude, grp, netip.MustParseAddr("ff0e::1")), IgnoreBadSource},
	}
	other := netip.MustParseAddr("ff0e::77")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			feed(q, t0, tc.bad, rec(ModeIsExclude, other))
			c := q.Counters()
			if c.IgnoredFor(tc.want) != 1 {
				t.Errorf("ignored[%v] = %d, want 1", tc.want, c.IgnoredFor(tc.want))
			}
			sn := q.Snapshot(t0)
			if len(sn.Groups) != 1 || sn.Groups[0].Group != other {
				t.Errorf("groups = %+v, want only %v", sn.Groups, other)
			}
		})
	}
}

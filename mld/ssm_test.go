package mld

import (
	"net/netip"
	"testing"
)

// TestSSMRangeIgnoresASMJoins: RFC 4604 §2.2: EXCLUDE-mode records and MLDv1
// reports for SSM groups are ignored and counted; INCLUDE joins work.
func TestSSMRangeIgnoresASMJoins(t *testing.T) {
	tests := []struct {
		name      string
		msg       Message
		wantState bool
	}{
		{"IS_EX ignored", &Report{Records: []Record{rec(ModeIsExclude, ssmGrp)}}, false},
		{"TO_EX ignored", &Report{Records: []Record{rec(ChangeToExclude, ssmGrp, s1)}}, false},
		{"MLDv1 report ignored", v1Report(ssmGrp), false},
		{"IS_IN accepted", &Report{Records: []Record{rec(ModeIsInclude, ssmGrp, s1)}}, true},
		{"ALLOW accepted", &Report{Records: []Record{rec(AllowNewSources, ssmGrp, s1)}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{})
			var out Output
			q.HandlePacket(t0, packetFrom(hostAddr, allMLDv2Routers, tc.msg), &out)
			if got := stateOf(q, t0, ssmGrp) != nil; got != tc.wantState {
				t.Errorf("state present = %v, want %v", got, tc.wantState)
			}
			wantIgnored := uint64(0)
			if !tc.wantState {
				wantIgnored = 1
			}
			if c := q.Counters(); c.IgnoredFor(IgnoreSSMASM) != wantIgnored {
				t.Errorf("ssm-asm ignores = %d, want %d", c.IgnoredFor(IgnoreSSMASM), wantIgnored)
			}
		})
	}
}

// TestSSMRangeConfigurable: the range is a setting; an empty one disables it.
func TestSSMRangeConfigurable(t *testing.T) {
	custom := netip.MustParseAddr("ff0e::5:1")
	tests := []struct {
		name  string
		rng   []netip.Prefix
		group netip.Addr
		want  bool // EXCLUDE join accepted
	}{
		{"default covers ff3e::", nil, ssmGrp, false},
		{"default covers ff35::", nil, netip.MustParseAddr("ff35::1"), false},
		{"default leaves ff3e:1::", nil, netip.MustParseAddr("ff3e:1::1"), true},
		{"custom range", []netip.Prefix{netip.MustParsePrefix("ff0e::5:0/112")}, custom, false},
		{"custom range leaves ff3e::", []netip.Prefix{netip.MustParsePrefix("ff0e::5:0/112")}, ssmGrp, true},
		{"empty range disables SSM", []netip.Prefix{}, ssmGrp, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newTestQuerier(t, Config{SSMRange: tc.rng})
			feed(q, t0, rec(ModeIsExclude, tc.group))
			if got := stateOf(q, t0, tc.group) != nil; got != tc.want {
				t.Errorf("EXCLUDE join for %v accepted = %v, want %v", tc.group, got, tc.want)
			}
		})
	}
}

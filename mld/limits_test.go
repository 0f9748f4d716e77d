package mld

import (
	"net/netip"
	"testing"
)

func groupN(i int) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xff, 0x0e
	b[12], b[13], b[14], b[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}

func sourceN(i int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[12], b[13], b[14], b[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}

// TestGroupLimit: groups beyond MaxGroups are refused, counted, not stored.
func TestGroupLimit(t *testing.T) {
	q := newTestQuerier(t, Config{MaxGroups: 2})
	out := feed(q, t0, rec(ModeIsExclude, groupN(1)), rec(ModeIsExclude, groupN(2)), rec(ModeIsExclude, groupN(3)))
	if n := len(q.Snapshot(t0).Groups); n != 2 {
		t.Errorf("groups = %d, want 2", n)
	}
	if c := q.Counters(); c.IgnoredFor(IgnoreGroupLimit) != 1 {
		t.Errorf("group-limit refusals = %d, want 1", c.IgnoredFor(IgnoreGroupLimit))
	}
	if len(out.Changes) != 2 {
		t.Errorf("changes = %d, want 2 (none for the refused group)", len(out.Changes))
	}
	// existing groups still update
	feed(q, t0, rec(AllowNewSources, groupN(1), s1))
	if st := stateOf(q, t0, groupN(1)); st == nil || len(st.Sources) != 1 {
		t.Errorf("existing group not updated at the limit: %+v", st)
	}
}

// TestSourceLimit: sources beyond MaxSources (per interface) are refused.
func TestSourceLimit(t *testing.T) {
	q := newTestQuerier(t, Config{MaxSources: 3})
	feed(q, t0, rec(ModeIsInclude, groupN(1), s1, s2), rec(ModeIsInclude, groupN(2), s3, s4, s5))
	sn := q.Snapshot(t0)
	if sn.Sources != 3 {
		t.Errorf("sources = %d, want 3", sn.Sources)
	}
	if c := q.Counters(); c.IgnoredFor(IgnoreSourceLimit) != 2 {
		t.Errorf("source-limit refusals = %d, want 2", c.IgnoredFor(IgnoreSourceLimit))
	}
	// a group whose every source was refused is not kept as INCLUDE {}
	feed(q, t0, rec(ModeIsInclude, groupN(3), s5))
	if st := stateOf(q, t0, groupN(3)); st != nil {
		t.Errorf("group with only refused sources kept: %+v", st)
	}
}

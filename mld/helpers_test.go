package mld

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/stack"
)

var (
	t0       = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ourAddr  = netip.MustParseAddr("fe80::10")
	hostAddr = netip.MustParseAddr("fe80::100")
	grp      = netip.MustParseAddr("ff0e::1234")
	ssmGrp   = netip.MustParseAddr("ff3e::8000:1")
	s1       = netip.MustParseAddr("2001:db8::1")
	s2       = netip.MustParseAddr("2001:db8::2")
	s3       = netip.MustParseAddr("2001:db8::3")
	s4       = netip.MustParseAddr("2001:db8::4")
	s5       = netip.MustParseAddr("2001:db8::5")
)

const testLink = 7

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// newTestQuerier returns a querier started at t0 whose startup query has
// already been sent.
func newTestQuerier(t testing.TB, cfg Config) *Querier {
	t.Helper()
	q, err := NewQuerier(cfg, testLink, ourAddr, t0)
	if err != nil {
		t.Fatalf("NewQuerier: %v", err)
	}
	var out Output
	q.Tick(t0, &out)
	return q
}

// rec builds a record.
func rec(t RecordType, g netip.Addr, srcs ...netip.Addr) Record {
	return Record{Type: t, Group: g, Sources: srcs}
}

// reportPacket wraps records in a valid MLDv2 report packet from a host.
func reportPacket(recs ...Record) stack.Packet {
	return packetFrom(hostAddr, allMLDv2Routers, &Report{Records: recs})
}

// packetFrom wraps m in a valid received packet.
func packetFrom(src, dst netip.Addr, m Message) stack.Packet {
	return stack.Packet{
		LinkIndex:   testLink,
		Src:         src,
		Dst:         dst,
		HopLimit:    1,
		RouterAlert: true,
		Proto:       protoICMPv6,
		Payload:     Marshal(m, src, dst),
	}
}

// feed hands records to q at time now and returns the output.
func feed(q *Querier, now time.Time, recs ...Record) Output {
	var out Output
	q.HandlePacket(now, reportPacket(recs...), &out)
	return out
}

// sentQuery is a decoded query from an Output, for comparisons.
type sentQuery struct {
	Dst      netip.Addr
	Group    netip.Addr
	Sources  []netip.Addr
	Suppress bool
	V1       bool
}

// queries decodes the queries in out, checking the packet invariants every
// query must satisfy (RFC 3810 §5: link-local source, hop limit 1, Router
// Alert, correct checksum).
func queries(t testing.TB, q *Querier, out Output) []sentQuery {
	t.Helper()
	var qs []sentQuery
	for _, p := range out.Packets {
		if p.Src != q.addr || p.HopLimit != 1 || !p.RouterAlert || p.Proto != 58 || p.LinkIndex != testLink {
			t.Errorf("query packet header = %+v, want src %v, hop limit 1, router alert, proto 58, link %d", p, q.addr, testLink)
		}
		if !VerifyChecksum(p.Src, p.Dst, p.Payload) {
			t.Errorf("query to %v has a bad checksum", p.Dst)
		}
		m, err := Parse(p.Payload)
		if err != nil {
			t.Fatalf("Parse(sent query) = %v", err)
		}
		qm, ok := m.(*Query)
		if !ok {
			t.Fatalf("sent %T, want *Query", m)
		}
		sq := sentQuery{Dst: p.Dst, Group: qm.Group, Suppress: qm.SuppressRouterSide, V1: qm.V1}
		if len(qm.Sources) > 0 {
			sq.Sources = slices.Clone(qm.Sources)
		}
		qs = append(qs, sq)
	}
	return qs
}

// specificQueries keeps the non-general queries.
func specificQueries(t testing.TB, q *Querier, out Output) []sentQuery {
	var qs []sentQuery
	for _, sq := range queries(t, q, out) {
		if !sq.Group.IsUnspecified() {
			qs = append(qs, sq)
		}
	}
	return qs
}

// groupState is the part of a GroupSnapshot the transition tests compare.
type groupState struct {
	Mode    FilterMode
	Filter  time.Duration                // group timer left
	Sources map[netip.Addr]time.Duration // source -> timer left (0: excluded)
}

func stateOf(q *Querier, now time.Time, g netip.Addr) *groupState {
	for _, gs := range q.Snapshot(now).Groups {
		if gs.Group != g {
			continue
		}
		st := &groupState{Mode: gs.Mode, Filter: gs.FilterTimer, Sources: map[netip.Addr]time.Duration{}}
		for _, s := range gs.Sources {
			st.Sources[s.Source] = s.Timer
		}
		return st
	}
	return nil
}

func srcTimers(kv ...any) map[netip.Addr]time.Duration {
	m := map[netip.Addr]time.Duration{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(netip.Addr)] = kv[i+1].(time.Duration)
	}
	return m
}

// states returns the new listener states of changes.
func states(chs []ListenerChange) []Listener {
	var ls []Listener
	for _, ch := range chs {
		ls = append(ls, ch.Listener)
	}
	return ls
}

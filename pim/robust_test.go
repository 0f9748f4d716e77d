package pim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

func TestHelloBeforeJoinToNewNeighbor(t *testing.T) {
	// RFC 7761 §4.3.1: a Join/Prune to a neighbour we owe a triggered Hello
	// must be preceded by that Hello.
	r := newTestRouter(t, 1, upstreamRPF, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2)})
	runUntil(r, t0, at(6*time.Second)) // initial Hellos gone
	now := at(10 * time.Second)
	r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: srcS, Mode: MembershipInclude})
	r.Receive(now, 1, ll(100), AllPIMRouters, hello(1, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(100)} }))
	out, _ := r.Outbox()
	if len(out) != 2 {
		t.Fatalf("sent %d messages, want Hello then Join/Prune", len(out))
	}
	if _, ok := out[0].Message.(*wire.Hello); !ok || out[0].Interface != 1 {
		t.Errorf("first message %T on %d, want Hello on 1", out[0].Message, out[0].Interface)
	}
	if _, ok := out[1].Message.(*wire.JoinPrune); !ok {
		t.Errorf("second message %T, want Join/Prune", out[1].Message)
	}
}

func TestLinkLocalChangeSaysGoodbye(t *testing.T) {
	// RFC 7761 §4.3.1: when our address changes, a Hello with holdtime 0 goes
	// out from the old address.
	r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
	r.UpdateInterface(at(time.Second), Interface{Index: 1, LinkLocal: ll(9)})
	out, _ := r.Outbox()
	if len(out) == 0 || out[0].Src != ll(1) || sends[*wire.Hello](out)[0].Holdtime != 0 {
		t.Fatalf("sent %+v, want a holdtime-0 Hello from fe80::1 first", out)
	}
}

func TestSecondaryAddressMovesBetweenNeighbors(t *testing.T) {
	// §4.3.4: the latest Hello listing an address owns it.
	r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
	r.Receive(t0, 1, ll(2), AllPIMRouters, hello(1, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(7)} }))
	r.Receive(t0, 1, ll(3), AllPIMRouters, hello(1, func(h *wire.Hello) { h.AddressList = []netip.Addr{glob(7)} }))
	if n := r.ifs[1].neighborByAddr(glob(7)); n == nil || n.addr != ll(3) {
		t.Fatalf("NBR(2001:db8::7) = %v, want fe80::3", n)
	}
	if s := r.Snapshot(t0).Interfaces[0].Neighbors[0].Secondary; len(s) != 0 {
		t.Errorf("fe80::2 still lists %v", s)
	}
}

func TestReceivePacketCountsCodecDrops(t *testing.T) {
	r := newTestRouter(t, 1, nil, nil, Interface{Index: 1, LinkLocal: ll(1)})
	p, err := Send{Interface: 1, Src: ll(2), Dst: AllPIMRouters, Message: hello(1)}.Packet()
	if err != nil {
		t.Fatal(err)
	}
	p.Payload[2] ^= 0xff // break the checksum
	r.ReceivePacket(t0, stack.Packet{LinkIndex: 1, Src: p.Src, Dst: p.Dst, HopLimit: 1, Proto: stack.ProtoPIM, Payload: p.Payload})
	s := r.Snapshot(t0)
	if s.Drops["codec-bad-checksum"] != 1 || len(s.Interfaces[0].Neighbors) != 0 {
		t.Errorf("drops %v neighbours %d, want codec-bad-checksum 1 and none", s.Drops, len(s.Interfaces[0].Neighbors))
	}
}

// FuzzReceivePacket feeds arbitrary PIM payloads from a neighbour and a
// stranger to a router with state: whatever the bytes, no panic.
func FuzzReceivePacket(f *testing.F) {
	for _, m := range []wire.Message{
		hello(1),
		joinMsg(ll(2), 210, grpG, []netip.Addr{srcS}, []netip.Addr{glob(9)}),
		assertMsg(110, 5),
	} {
		p, err := Send{Interface: 2, Src: ll(200), Dst: AllPIMRouters, Message: m}.Packet()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Payload, true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, fromNeighbor bool) {
		r := newAssertRouter(t)
		src := ll(0x999)
		if fromNeighbor {
			src = ll(0x200)
		}
		now := at(10 * time.Second)
		r.ReceivePacket(now, stack.Packet{LinkIndex: 2, Src: src, Dst: AllPIMRouters, HopLimit: 1, Proto: stack.ProtoPIM, Payload: payload})
		r.Outbox()
		runUntil(r, now, now.Add(10*time.Minute))
		r.Snapshot(now)
	})
}

// Recycled Outbox slices are reused for the next changes, and what was
// handed out without a Recycle is not touched by later inputs.
func TestOutboxRecycleReusesTheQueues(t *testing.T) {
	r := newTestRouter(t, 1, upstreamRPF, nil, Interface{Index: 1, LinkLocal: ll(1)}, Interface{Index: 2, LinkLocal: ll(2)})
	runUntil(r, t0, at(6*time.Second))
	r.Outbox()
	now := at(10 * time.Second)
	src := func(i int) netip.Addr { return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 5, 15: byte(i)}) }
	join := func(i int) {
		r.SetLocalMembership(now, LocalMembership{Interface: 2, Group: grpG, Source: src(i), Mode: MembershipInclude})
	}
	join(1)
	_, first := r.Outbox()
	if len(first) != 1 || first[0].Source != src(1) {
		t.Fatalf("changes after one join = %+v, want one for %v", first, src(1))
	}
	join(2)
	if first[0].Source != src(1) {
		t.Fatalf("a later input changed an Outbox slice that was not recycled: %v", first[0].Source)
	}
	_, second := r.Outbox()
	if len(second) != 1 || second[0].Source != src(2) {
		t.Fatalf("changes after the second join = %+v", second)
	}
	r.Recycle(nil, second)
	join(3)
	_, third := r.Outbox()
	if len(third) != 1 || third[0].Source != src(3) {
		t.Fatalf("changes after the third join = %+v", third)
	}
	if &third[0] != &second[0] {
		t.Errorf("the recycled queue was not reused")
	}
}

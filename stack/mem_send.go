package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Errors of MemNode.Send.
var (
	errMemNoLink   = errors.New("no such link")
	errMemLinkDown = errors.New("link down")
	errMemNoRoute  = errors.New("no route to destination")
)

// Send sends a control packet. A multicast packet goes out of p.LinkIndex to
// every other member of the link's segment (hop limit 1 unless set). A unicast
// packet is routed hop by hop through the nodes' tables (hop limit 64 unless
// set): a link-local destination on p.LinkIndex, anything else by the table's
// unicast routes; a node that owns the destination receives it, a forwarding
// node passes it on, any other drops it. Receivers get a PacketEvent with a
// copy of the payload after each segment's latency.
func (n *MemNode) Send(p OutPacket) error {
	if err := checkOut(p); err != nil {
		return fmt.Errorf("send from %s: %w", n.name, err)
	}
	w := n.net
	w.mu.Lock()
	defer w.mu.Unlock()
	if n.closedLocked() {
		return ErrClosed
	}
	pkt := Packet{
		Src:         p.Src.WithZone(""),
		Dst:         p.Dst.WithZone(""),
		HopLimit:    p.HopLimit,
		RouterAlert: p.RouterAlert,
		Proto:       p.Proto,
		Payload:     slices.Clone(p.Payload),
	}
	if !p.Dst.IsMulticast() {
		if pkt.HopLimit == 0 {
			pkt.HopLimit = 64
		}
		return w.routeUnicastLocked(n, nil, p.LinkIndex, pkt)
	}
	out := n.portLocked(p.LinkIndex)
	if out == nil {
		return fmt.Errorf("send %s > %s from %s: link %d: %w", pkt.Src, pkt.Dst, n.name, p.LinkIndex, errMemNoLink)
	}
	if !out.link.Up {
		return fmt.Errorf("send %s > %s from %s: %w", pkt.Src, pkt.Dst, out, errMemLinkDown)
	}
	if pkt.HopLimit == 0 {
		pkt.HopLimit = 1 // IPV6_MULTICAST_HOPS default
	}
	if !pkt.Src.IsValid() {
		pkt.Src = out.ll
	}
	w.tracef("tx %s %s", out, describe(pkt))
	w.clk.AfterFunc(out.seg.latency, func() { w.deliverOnLink(out, pkt) })
	return nil
}

// checkOut rejects packets no link could carry.
func checkOut(p OutPacket) error {
	if !p.Dst.IsValid() || !p.Dst.Is6() || p.Dst.Is4In6() {
		return fmt.Errorf("destination %v is not an IPv6 address", p.Dst)
	}
	if p.Src.IsValid() && (!p.Src.Is6() || p.Src.IsMulticast()) {
		return fmt.Errorf("source %v is not an IPv6 unicast address", p.Src)
	}
	if p.HopLimit < 0 || p.HopLimit > 255 {
		return fmt.Errorf("hop limit %d out of range 0-255", p.HopLimit)
	}
	size := ipv6HeaderLen + len(p.Payload)
	if p.RouterAlert {
		size += 8
	}
	if size > memMTU {
		return fmt.Errorf("packet of %d bytes exceeds the MTU %d", size, memMTU)
	}
	return nil
}

// deliverOnLink hands a link-scoped packet to every other member of the
// sender's segment whose link is up, in attach order.
func (w *MemNetwork) deliverOnLink(from *memPort, pkt Packet) {
	w.mu.Lock()
	var to []*memPort
	for _, m := range from.seg.members {
		if m == from {
			continue
		}
		if !m.usable() {
			w.tracef("drop %s %s: link down", m, describe(pkt))
			m.node.drop("link-down")
			continue
		}
		to = append(to, m)
	}
	w.mu.Unlock()
	for _, m := range to {
		m.receive(pkt)
	}
}

// receive hands a packet to the node as a PacketEvent on port m.
func (m *memPort) receive(pkt Packet) {
	pkt.LinkIndex = m.link.Index
	if pkt.Src.IsLinkLocalUnicast() {
		pkt.Src = pkt.Src.WithZone(m.link.Name)
	}
	pkt.Payload = slices.Clone(pkt.Payload)
	m.node.net.tracef("rx %s %s", m, describe(pkt))
	m.node.emit(PacketEvent{Packet: pkt})
}

// routeUnicastLocked sends pkt one hop on from node n: in is the arrival port
// (nil for a packet n originates) and outIndex the link the sender asked for
// (0 for none). Called with w.mu held.
func (w *MemNetwork) routeUnicastLocked(n *MemNode, in *memPort, outIndex int, pkt Packet) error {
	local := in == nil
	fail := func(reason string, err error) error {
		w.tracef("drop %s %s: %s", n.name, describe(pkt), reason)
		n.drop(reason)
		if local {
			return fmt.Errorf("send %s > %s from %s: %w", pkt.Src, pkt.Dst, n.name, err)
		}
		return nil
	}
	if local && n.ownsLocked(pkt.Dst, nil) {
		// To itself: the loopback, without crossing a segment.
		for _, a := range n.addrs {
			if a.Prefix.Addr() == pkt.Dst {
				p := n.portLocked(a.LinkIndex)
				if !pkt.Src.IsValid() {
					pkt.Src = pkt.Dst
				}
				w.clk.AfterFunc(0, func() { p.receive(pkt) })
				return nil
			}
		}
	}
	var out *memPort
	nextHop := pkt.Dst
	if pkt.Dst.IsLinkLocalUnicast() {
		if !local {
			// RFC 4291 §2.5.6: routers do not forward link-local destinations.
			return fail("not-forwardable", errMemNoRoute)
		}
		out = n.portLocked(outIndex)
		if out == nil {
			return fail("no-route", fmt.Errorf("link-local destination needs a link: %w", errMemNoLink))
		}
	} else {
		src := pkt.Src
		if !src.IsValid() {
			src = netip.IPv6Unspecified() // chosen once the way out is known
		}
		r, ok := n.table.Lookup(pkt.Dst, src, 0)
		if !ok || r.Kind != KindUnicast || len(r.NextHops) == 0 {
			return fail("no-route", errMemNoRoute)
		}
		nh := r.NextHops[0]
		out = n.portLocked(nh.LinkIndex)
		if out == nil {
			return fail("no-route", errMemNoLink)
		}
		if nh.Gateway.IsValid() {
			nextHop = nh.Gateway.WithZone("")
		}
	}
	if !out.usable() {
		return fail("link-down", errMemLinkDown)
	}
	if !pkt.Src.IsValid() {
		pkt.Src = n.sourceForLocked(out, pkt.Dst)
	}
	// Neighbor discovery, reduced to asking each member whether it owns the
	// next hop.
	var to *memPort
	for _, m := range out.seg.members {
		if m != out && m.usable() && m.node.ownsLocked(nextHop, m) {
			to = m
			break
		}
	}
	if to == nil {
		// The kernel would send Neighbor Solicitations and give up silently.
		fail("neighbor-unreachable", nil)
		return nil
	}
	verb := "tx"
	if !local {
		verb = "fwd"
	}
	w.tracef("%s %s %s via %s", verb, out, describe(pkt), to)
	w.clk.AfterFunc(out.seg.latency, func() { w.arriveUnicast(to, pkt) })
	return nil
}

// sourceForLocked picks the source address of a packet n originates out of
// port out: a global address of that link, else any global one, else the
// link-local address.
func (n *MemNode) sourceForLocked(out *memPort, dst netip.Addr) netip.Addr {
	if dst.IsLinkLocalUnicast() {
		return out.ll
	}
	var other netip.Addr
	for _, a := range n.addrs {
		ip := a.Prefix.Addr()
		if ip.IsLinkLocalUnicast() {
			continue
		}
		if a.LinkIndex == out.link.Index {
			return ip
		}
		if !other.IsValid() {
			other = ip
		}
	}
	if other.IsValid() {
		return other
	}
	return out.ll
}

// arriveUnicast handles a unicast packet arriving on port m: deliver it, pass
// it on, or drop it.
func (w *MemNetwork) arriveUnicast(m *memPort, pkt Packet) {
	w.mu.Lock()
	n := m.node
	switch {
	case !m.usable():
		w.tracef("drop %s %s: link down", m, describe(pkt))
		n.drop("link-down")
	case n.ownsLocked(pkt.Dst, m):
		w.mu.Unlock()
		m.receive(pkt)
		return
	case !n.forwarding:
		w.tracef("drop %s %s: not for this host", m, describe(pkt))
		n.drop("not-for-us")
	case pkt.HopLimit <= 1:
		w.tracef("drop %s %s: hop limit", m, describe(pkt))
		n.drop("hop-limit")
	default:
		pkt.HopLimit--
		w.routeUnicastLocked(n, m, 0, pkt)
	}
	w.mu.Unlock()
}

// describe formats a packet for the trace.
func describe(p Packet) string {
	s := fmt.Sprintf("%s > %s %s len %d hl %d", p.Src, p.Dst, protoName(p.Proto), len(p.Payload), p.HopLimit)
	if p.RouterAlert {
		s += " ra"
	}
	return s
}

func protoName(p uint8) string {
	switch p {
	case ProtoICMPv6:
		return "icmp6"
	case ProtoPIM:
		return "pim"
	}
	return fmt.Sprintf("proto-%d", p)
}

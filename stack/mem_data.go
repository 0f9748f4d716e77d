package stack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// The in-memory data plane: hosts inject multicast data packets (real
// Ethernet/IPv6/UDP frames) onto their links, routers run them through the
// same forwarder the Linux stack uses, and every node counts what reaches it.

// dataKey identifies a flow of data packets.
type dataKey struct{ src, group netip.Addr }

// DataCount is what a node received of one (source, group) flow.
type DataCount struct {
	Packets uint64
	Bytes   uint64 // UDP payload bytes, as injected
	// HopLimit and LinkIndex are those of the last packet received.
	HopLimit  int
	LinkIndex int
}

// DataFlow is one flow's counters.
type DataFlow struct {
	Src, Group netip.Addr
	DataCount
}

const (
	udpHeaderLen = 8
	memDataPort  = 5001
)

// InjectData sends a multicast data packet from src to group with size bytes
// of UDP payload and the given hop limit out of the link named ifname, as a
// host's application would: every other member of the segment receives it,
// and routers among them forward it from their tables.
func (n *MemNode) InjectData(ifname string, src, group netip.Addr, size, hopLimit int) error {
	if !group.Is6() || !group.IsMulticast() {
		return fmt.Errorf("inject data from %s: group %v is not an IPv6 multicast address", n.name, group)
	}
	if !src.Is6() || src.IsMulticast() || src.Is4In6() {
		return fmt.Errorf("inject data from %s: source %v is not an IPv6 unicast address", n.name, src)
	}
	if hopLimit < 1 || hopLimit > 255 {
		return fmt.Errorf("inject data from %s: hop limit %d out of range 1-255", n.name, hopLimit)
	}
	if size < 0 || ipv6HeaderLen+udpHeaderLen+size > memMTU {
		return fmt.Errorf("inject data from %s: payload of %d bytes does not fit the MTU %d", n.name, size, memMTU)
	}
	n.net.mu.Lock()
	p := n.portByNameLocked(ifname)
	n.net.mu.Unlock()
	if p == nil {
		return fmt.Errorf("inject data from %s: no link %q", n.name, ifname)
	}
	frame := dataFrame(p.link.HardwareAddr, src.WithZone(""), group.WithZone(""), hopLimit, size)
	return n.net.transmitData(p, frame, "tx")
}

// dataFrame builds an Ethernet/IPv6/UDP frame with a zero payload and a
// correct UDP checksum.
func dataFrame(mac []byte, src, group netip.Addr, hopLimit, size int) []byte {
	f := make([]byte, ethHeaderLen+ipv6HeaderLen+udpHeaderLen+size)
	g := group.As16()
	// RFC 2464 §7: 33:33 followed by the low 32 bits of the group.
	copy(f[0:6], []byte{0x33, 0x33, g[12], g[13], g[14], g[15]})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], etherTypeIPv6)
	ip := f[ethHeaderLen:]
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:6], uint16(udpHeaderLen+size))
	ip[6] = 17 // UDP
	ip[7] = byte(hopLimit)
	s := src.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], g[:])
	udp := ip[ipv6HeaderLen:]
	binary.BigEndian.PutUint16(udp[0:2], memDataPort)
	binary.BigEndian.PutUint16(udp[2:4], memDataPort)
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpHeaderLen+size))
	finishTransportChecksum(ip)
	return f
}

// transmitData puts a copy of frame on the segment of port from. It is the
// send function of the forwarder's links, and how hosts inject data.
func (w *MemNetwork) transmitData(from *memPort, frame []byte, verb string) error {
	w.mu.Lock()
	if !from.usable() {
		w.mu.Unlock()
		return fmt.Errorf("send data on %s: %w", from, errMemLinkDown)
	}
	lat := from.seg.latency
	w.mu.Unlock()
	f := slices.Clone(frame)
	if w.tracing() {
		w.tracef("data %s %s %s", verb, from, describeData(f))
	}
	w.clk.AfterFunc(lat, func() { w.deliverData(from, f) })
	return nil
}

// deliverData hands a data frame to every other usable member of the segment.
func (w *MemNetwork) deliverData(from *memPort, frame []byte) {
	w.mu.Lock()
	var to []*memPort
	var fwd []bool
	for _, m := range from.seg.members {
		if m == from {
			continue
		}
		if !m.usable() {
			m.node.drop("link-down")
			continue
		}
		to = append(to, m)
		fwd = append(fwd, m.node.forwarding)
	}
	w.mu.Unlock()
	for i, m := range to {
		f := frame
		if i < len(to)-1 {
			f = slices.Clone(frame) // the forwarder rewrites frames in place
		}
		m.receiveData(f, fwd[i])
	}
}

// receiveData counts a data frame arriving on port m and, on a router, runs it
// through the forwarder.
func (m *memPort) receiveData(frame []byte, forwarding bool) {
	n := m.node
	if len(frame) >= ethHeaderLen+ipv6HeaderLen+udpHeaderLen {
		ip := frame[ethHeaderLen:]
		k := dataKey{netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))}
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		n.mu.Lock()
		c := n.rx[k]
		if c == nil {
			c = new(DataCount)
			n.rx[k] = c
		}
		c.Packets++
		c.Bytes += uint64(max(plen-udpHeaderLen, 0))
		c.HopLimit = int(ip[7])
		c.LinkIndex = m.link.Index
		n.mu.Unlock()
	}
	if n.net.tracing() {
		n.net.tracef("data rx %s %s", m, describeData(frame))
	}
	if !forwarding {
		return
	}
	if !n.net.tracing() {
		n.fwd.forward(m.link.Index, frame, false)
		return
	}
	// Tracing: name the reason of any drop the forwarder counted.
	desc := describeData(frame)
	before := n.fwd.stats().Drops
	n.fwd.forward(m.link.Index, frame, false)
	after := n.fwd.stats().Drops
	reasons := make([]string, 0, len(after))
	for r, c := range after {
		if c > before[r] {
			reasons = append(reasons, r)
		}
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		n.net.tracef("data drop %s %s: %s", m, desc, r)
	}
}

// Received returns what the node received of the flow from src to group.
func (n *MemNode) Received(src, group netip.Addr) DataCount {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.rx[dataKey{src.WithZone(""), group.WithZone("")}]; c != nil {
		return *c
	}
	return DataCount{}
}

// ReceivedFlows returns every flow the node received, sorted by group, then
// source.
func (n *MemNode) ReceivedFlows() []DataFlow {
	n.mu.Lock()
	flows := make([]DataFlow, 0, len(n.rx))
	for k, c := range n.rx {
		flows = append(flows, DataFlow{Src: k.src, Group: k.group, DataCount: *c})
	}
	n.mu.Unlock()
	slices.SortFunc(flows, func(a, b DataFlow) int {
		if c := a.Group.Compare(b.Group); c != 0 {
			return c
		}
		return a.Src.Compare(b.Src)
	})
	return flows
}

func describeData(frame []byte) string {
	if len(frame) < ethHeaderLen+ipv6HeaderLen {
		return fmt.Sprintf("truncated frame of %d bytes", len(frame))
	}
	ip := frame[ethHeaderLen:]
	return fmt.Sprintf("%s > %s udp len %d hl %d",
		netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40])),
		binary.BigEndian.Uint16(ip[4:6]), ip[7])
}

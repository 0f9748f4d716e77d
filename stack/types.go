package stack

import (
	"net"
	"net/netip"
)

// Link is a network interface as the stack knows it.
type Link struct {
	Index        int
	Name         string
	MTU          int
	HardwareAddr net.HardwareAddr
	Up           bool
	Multicast    bool
	Loopback     bool
}

// Addr is an address configured on a link. Link-local addresses carry the link's
// name as their zone (netip.Addr.Zone), so one table serves all links.
type Addr struct {
	LinkIndex int
	Prefix    netip.Prefix // address and prefix length as configured
}

// Address returns the address with its zone set to zone when it is link-local.
func (a Addr) Address(zone string) netip.Addr {
	ip := a.Prefix.Addr()
	if ip.IsLinkLocalUnicast() && zone != "" {
		ip = ip.WithZone(zone)
	}
	return ip
}

// IP protocol numbers the stack carries to and from the control plane.
const (
	ProtoICMPv6 = 58
	ProtoPIM    = 103
)

// Packet is a control packet received on a link (MLD or PIM), after the IPv6
// header and extension headers have been removed. Payload is the ICMPv6 or PIM
// message, checksum included; verifying the checksum is the codec's job.
type Packet struct {
	LinkIndex   int
	Src, Dst    netip.Addr
	HopLimit    int
	RouterAlert bool // a hop-by-hop Router Alert option was present
	Proto       uint8
	Payload     []byte
}

// OutPacket is a control packet for the stack to send. The payload's checksum is
// already computed by the codec over Src and Dst, so Src must be the address the
// stack will send from (the link-local address of the link for link-scoped
// messages).
type OutPacket struct {
	LinkIndex   int // 0 for unicast routed by the kernel
	Src, Dst    netip.Addr
	HopLimit    int  // 0 means the default for the destination (1 for link-scoped)
	RouterAlert bool // add a hop-by-hop Router Alert option (MLD)
	Proto       uint8
	Payload     []byte
}

// Events the stack delivers on its Events channel.
type (
	// LinkEvent reports a link that appeared, changed or (Deleted) went away.
	LinkEvent struct {
		Link    Link
		Deleted bool
	}
	// AddrEvent reports an address added or (Deleted) removed.
	AddrEvent struct {
		Addr    Addr
		Deleted bool
	}
	// RouteEvent reports that a unicast route was added, replaced or removed in
	// the table; the table has already been updated when it is delivered.
	RouteEvent struct {
		Route   Route
		Deleted bool
	}
	// PacketEvent carries a received control packet.
	PacketEvent struct{ Packet Packet }
	// SignalEvent carries a data signal from the forwarder.
	SignalEvent struct{ Signal DataSignal }
)

// SignalKind says why the forwarder told the control plane about a data packet.
type SignalKind uint8

const (
	// SignalNoRoute: a packet matched a "signal" route (no state): the first
	// packet of a directly connected source, for Register.
	SignalNoRoute SignalKind = iota + 1
	// SignalWrongIIF: a packet matched an (S,G) or (*,G) route but arrived on
	// another interface than the route's iif (Assert, SPT switchover).
	SignalWrongIIF
	// SignalData: a packet was forwarded on an (S,G) route (keepalive refresh).
	SignalData
)

func (k SignalKind) String() string {
	switch k {
	case SignalNoRoute:
		return "no-route"
	case SignalWrongIIF:
		return "wrong-iif"
	case SignalData:
		return "data"
	}
	return "unknown"
}

// DataSignal is a rate-limited notice from the data plane.
type DataSignal struct {
	Kind      SignalKind
	LinkIndex int // arrival link
	Src       netip.Addr
	Group     netip.Addr
}

// Stack is the operating-system boundary: links, addresses, the routing table,
// control packets in and out, and data signals from the forwarder. There are two
// implementations: the Linux one (netlink, raw sockets, AF_PACKET) and an
// in-memory one for tests and simulation.
type Stack interface {
	// Links and Addrs return the current links and addresses.
	Links() []Link
	Addrs() []Addr
	// Table is the routing table: unicast routes mirrored from the system and
	// multicast routes installed by mfib; the forwarder reads it.
	Table() *Table
	// Events delivers LinkEvent, AddrEvent, RouteEvent, PacketEvent and
	// SignalEvent values, in the order they happened.
	Events() <-chan any
	// Send sends a control packet.
	Send(p OutPacket) error
	// Close releases every resource the stack holds.
	Close() error
}

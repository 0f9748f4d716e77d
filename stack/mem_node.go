package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// ErrClosed is returned by a closed in-memory node.
var ErrClosed = errors.New("stack: closed")

// MemNode is one machine of a MemNetwork. It implements Stack.
//
// Its events channel is buffered (SetEventBuffer); when it is full, further
// events are dropped and counted under "events-overflow" in Drops, as a kernel
// drops packets for a socket that is not read. A synchronous simulation drains
// it deterministically by receiving without blocking after every clock step
// until it is empty (router.Sim does this, node by node in a fixed order):
// events are put on the channel only by the clock's callbacks and by calls on
// the node, never by another goroutine, so after a step the channel holds
// exactly what that step produced.
type MemNode struct {
	net  *MemNetwork
	id   int
	name string

	// Under net.mu.
	ports      []*memPort // link index i+1 is ports[i]
	addrs      []Addr
	forwarding bool

	table *Table
	fwd   *forwarder

	mu     sync.Mutex // events, closed, notify, counters
	events chan any
	closed bool
	notify func()
	drops  map[string]uint64
	rx     map[dataKey]*DataCount
}

var _ Stack = (*MemNode)(nil)

// Name returns the node's name.
func (n *MemNode) Name() string { return n.name }

// ID returns the node's number in its network (from 1).
func (n *MemNode) ID() int { return n.id }

// Attach connects the node to seg through a new link named ifname and returns
// it: index = the node's next link number, MTU 1500, a MAC derived from the
// node and link numbers, up, multicast, with the link-local address
// fe80::<node>:<link>/64 and its fe80::/64 route. The node sees a LinkEvent,
// an AddrEvent and a RouteEvent, as from the kernel.
func (n *MemNode) Attach(seg *Segment, ifname string) (Link, error) {
	w := n.net
	w.mu.Lock()
	if seg.net != w {
		w.mu.Unlock()
		return Link{}, fmt.Errorf("attach %s/%s: segment %s belongs to another network", n.name, ifname, seg.name)
	}
	if ifname == "" {
		w.mu.Unlock()
		return Link{}, fmt.Errorf("attach %s: empty link name", n.name)
	}
	if n.portByNameLocked(ifname) != nil {
		w.mu.Unlock()
		return Link{}, fmt.Errorf("attach %s/%s: link name in use", n.name, ifname)
	}
	idx := len(n.ports) + 1
	p := &memPort{
		node: n,
		seg:  seg,
		link: Link{Index: idx, Name: ifname, MTU: memMTU, HardwareAddr: memMAC(n.id, idx), Up: true, Multicast: true},
		ll:   memLinkLocal(n.id, idx),
	}
	n.ports = append(n.ports, p)
	seg.members = append(seg.members, p)
	addr := Addr{LinkIndex: idx, Prefix: netip.PrefixFrom(p.ll, 64)}
	n.addrs = append(n.addrs, addr)
	n.updateForwarderLinksLocked()
	link := p.link
	w.mu.Unlock()

	n.emit(LinkEvent{Link: link})
	n.emit(AddrEvent{Addr: addr})
	// The kernel's connected route for the link-local prefix, zoned to the link.
	n.insertRoute(Route{
		Dst: netip.MustParsePrefix("fe80::/64"), Src: netip.MustParsePrefix("::/0"), Zone: idx,
		Kind: KindUnicast, NextHops: []NextHop{{LinkIndex: idx}}, Protocol: "kernel",
	})
	return link, nil
}

// AddAddr configures prefix (address and prefix length) on the link named
// ifname, with the connected route for the prefix; the node sees an AddrEvent
// and a RouteEvent.
func (n *MemNode) AddAddr(ifname string, prefix netip.Prefix) error {
	if !prefix.IsValid() || !prefix.Addr().Is6() || prefix.Addr().Is4In6() || prefix.Addr().IsMulticast() {
		return fmt.Errorf("add address %v on %s/%s: not an IPv6 unicast prefix", prefix, n.name, ifname)
	}
	prefix = netip.PrefixFrom(prefix.Addr().WithZone(""), prefix.Bits())
	w := n.net
	w.mu.Lock()
	p := n.portByNameLocked(ifname)
	if p == nil {
		w.mu.Unlock()
		return fmt.Errorf("add address %v: %s has no link %q", prefix, n.name, ifname)
	}
	addr := Addr{LinkIndex: p.link.Index, Prefix: prefix}
	if slices.Contains(n.addrs, addr) {
		w.mu.Unlock()
		return fmt.Errorf("add address %v on %s/%s: already configured", prefix, n.name, ifname)
	}
	n.addrs = append(n.addrs, addr)
	w.mu.Unlock()

	n.emit(AddrEvent{Addr: addr})
	if prefix.Bits() < 128 {
		r := Route{
			Dst: prefix.Masked(), Src: netip.MustParsePrefix("::/0"),
			Kind: KindUnicast, NextHops: []NextHop{{LinkIndex: addr.LinkIndex}}, Protocol: "kernel",
		}
		if prefix.Addr().IsLinkLocalUnicast() {
			r.Zone = addr.LinkIndex
		}
		n.insertRoute(r)
	}
	return nil
}

// DelAddr removes prefix from the link named ifname, with its connected route;
// the node sees an AddrEvent and a RouteEvent with Deleted set.
func (n *MemNode) DelAddr(ifname string, prefix netip.Prefix) error {
	prefix = netip.PrefixFrom(prefix.Addr().WithZone(""), prefix.Bits())
	w := n.net
	w.mu.Lock()
	p := n.portByNameLocked(ifname)
	if p == nil {
		w.mu.Unlock()
		return fmt.Errorf("delete address %v: %s has no link %q", prefix, n.name, ifname)
	}
	addr := Addr{LinkIndex: p.link.Index, Prefix: prefix}
	i := slices.Index(n.addrs, addr)
	if i < 0 {
		w.mu.Unlock()
		return fmt.Errorf("delete address %v on %s/%s: not configured", prefix, n.name, ifname)
	}
	n.addrs = slices.Delete(n.addrs, i, i+1)
	w.mu.Unlock()

	n.emit(AddrEvent{Addr: addr, Deleted: true})
	zone := 0
	if prefix.Addr().IsLinkLocalUnicast() {
		zone = addr.LinkIndex
	}
	if r, ok := n.table.Get(prefix.Masked(), netip.MustParsePrefix("::/0"), zone); ok && r.Protocol == "kernel" &&
		len(r.NextHops) == 1 && r.NextHops[0].LinkIndex == addr.LinkIndex {
		n.DelRoute(r.Dst, r.Src, r.Zone)
	}
	return nil
}

// AddRoute inserts r into the node's table, as a route added to the system.
// A unicast route is reported with a RouteEvent (the contract of RouteEvent:
// the control plane mirrors unicast routes for RPF); multicast, signal and
// drop routes, which mfib installs itself, are not.
func (n *MemNode) AddRoute(r Route) error {
	return n.insertRoute(r)
}

func (n *MemNode) insertRoute(r Route) error {
	if err := n.table.Insert(r); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	if r.Kind == KindUnicast {
		if got, ok := n.table.Get(r.Dst, r.Src, r.Zone); ok {
			n.emit(RouteEvent{Route: *got})
		}
	}
	return nil
}

// DelRoute removes the route with the given key and reports whether it
// existed; a unicast route's removal is reported with a RouteEvent.
func (n *MemNode) DelRoute(dst, src netip.Prefix, zone int) bool {
	r, ok := n.table.Get(dst, src, zone)
	if !ok || !n.table.Delete(dst, src, zone) {
		return false
	}
	if r.Kind == KindUnicast {
		n.emit(RouteEvent{Route: *r, Deleted: true})
	}
	return true
}

// SetLinkUp brings the link named ifname up or down. A down link neither
// sends nor receives; packets in flight to it when it goes down are lost. The
// node sees a LinkEvent when the state changes.
func (n *MemNode) SetLinkUp(ifname string, up bool) error {
	w := n.net
	w.mu.Lock()
	p := n.portByNameLocked(ifname)
	if p == nil {
		w.mu.Unlock()
		return fmt.Errorf("set link %s/%s: no such link", n.name, ifname)
	}
	changed := p.link.Up != up
	p.link.Up = up
	link := p.link
	w.mu.Unlock()
	if changed {
		state := "down"
		if up {
			state = "up"
		}
		w.tracef("%s/%s link %s", n.name, ifname, state)
		n.emit(LinkEvent{Link: link})
	}
	return nil
}

// SetForwarding turns multicast data forwarding on (a router) or off (a host).
func (n *MemNode) SetForwarding(on bool) {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	n.forwarding = on
}

// LinkByName returns the link named ifname.
func (n *MemNode) LinkByName(ifname string) (Link, bool) {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	p := n.portByNameLocked(ifname)
	if p == nil {
		return Link{}, false
	}
	return p.link, true
}

// LinkLocal returns the link-local address of link index (zone unset).
func (n *MemNode) LinkLocal(index int) (netip.Addr, bool) {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	p := n.portLocked(index)
	if p == nil {
		return netip.Addr{}, false
	}
	return p.ll, true
}

// Links returns the node's links in index order.
func (n *MemNode) Links() []Link {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	links := make([]Link, len(n.ports))
	for i, p := range n.ports {
		links[i] = p.link
	}
	return links
}

// Addrs returns the node's addresses in the order they were configured.
func (n *MemNode) Addrs() []Addr {
	n.net.mu.Lock()
	defer n.net.mu.Unlock()
	return slices.Clone(n.addrs)
}

// Table returns the node's routing table.
func (n *MemNode) Table() *Table { return n.table }

// Events returns the node's events channel; see MemNode.
func (n *MemNode) Events() <-chan any { return n.events }

// Close detaches the node from the network (nothing more is delivered to it
// or sent by it) and closes its events channel. Calling it again does nothing.
func (n *MemNode) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		close(n.events)
	}
	return nil
}

// Drops returns the node's drop counters by reason: control and unicast
// packets it could not send or deliver, and events lost to a full channel.
// The forwarder's own counters are in ForwarderStats.
func (n *MemNode) Drops() map[string]uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := make(map[string]uint64, len(n.drops))
	for k, v := range n.drops {
		m[k] = v
	}
	return m
}

// ForwarderStats returns the counters of the node's multicast forwarder.
func (n *MemNode) ForwarderStats() ForwarderStats { return n.fwd.stats() }

// SetNotify registers f to be called each time an event is put on the node's
// channel, after it is queued and outside the node's locks. A synchronous
// driver uses it to visit only the nodes that have something to do; f must
// not block. nil removes it.
func (n *MemNode) SetNotify(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notify = f
}

// emit puts an event on the channel, or counts it lost if the channel is full.
func (n *MemNode) emit(ev any) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	var notify func()
	select {
	case n.events <- ev:
		notify = n.notify
	default:
		n.drops["events-overflow"]++
	}
	n.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// signal delivers a data signal from the forwarder.
func (n *MemNode) signal(s DataSignal) {
	n.net.tracef("%s signal %s link %d %s,%s", n.name, s.Kind, s.LinkIndex, s.Src, s.Group)
	n.emit(SignalEvent{Signal: s})
}

func (n *MemNode) drop(reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drops[reason]++
}

func (n *MemNode) closedLocked() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// portLocked returns the port with link index idx. Called with net.mu held.
func (n *MemNode) portLocked(idx int) *memPort {
	if idx < 1 || idx > len(n.ports) {
		return nil
	}
	return n.ports[idx-1]
}

func (n *MemNode) portByNameLocked(name string) *memPort {
	for _, p := range n.ports {
		if p.link.Name == name {
			return p
		}
	}
	return nil
}

// ownsLocked reports whether a is one of the node's addresses as seen from a
// packet arriving on port p: a link-local address only on its own link, a
// global one on any (the weak host model Linux uses).
func (n *MemNode) ownsLocked(a netip.Addr, p *memPort) bool {
	a = a.WithZone("")
	for _, ad := range n.addrs {
		if ad.Prefix.Addr() != a {
			continue
		}
		if !a.IsLinkLocalUnicast() || p == nil || ad.LinkIndex == p.link.Index {
			return true
		}
	}
	return false
}

// updateForwarderLinksLocked gives the forwarder the node's links, each sending
// onto its segment. Called with net.mu held.
func (n *MemNode) updateForwarderLinksLocked() {
	links := make(map[int]*fwdLink, len(n.ports))
	for _, p := range n.ports {
		links[p.link.Index] = &fwdLink{
			index: p.link.Index,
			name:  p.link.Name,
			mtu:   p.link.MTU,
			mac:   [6]byte(p.link.HardwareAddr),
			send: func(frame []byte) error {
				return n.net.transmitData(p, frame, "fwd")
			},
		}
	}
	n.fwd.setLinks(links)
}

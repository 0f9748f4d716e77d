package stack

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pim6d/pim6d/clock"
)

// MemNetwork is an in-memory network of nodes (routers and hosts) joined by
// segments (multi-access links), on a virtual clock. Every packet crosses a
// segment after the segment's latency, as a func timer on the clock, so a
// whole network runs deterministically in the goroutine that advances the
// clock (see router.Sim).
//
// Building a topology:
//
//	clk := clock.NewVirtual(start)
//	net := stack.NewMemNetwork(clk)
//	r1, h1 := net.AddNode("r1"), net.AddNode("h1")
//	lan := net.AddSegment("lan1")
//	r1.Attach(lan, "eth0") // link index 1 of r1, address fe80::1:1
//	h1.Attach(lan, "eth0") // link index 1 of h1, address fe80::2:1
//	r1.SetForwarding(true)
//
// A point-to-point link is a segment with two members.
//
// Setting the environment variable PIM6D_TRACE=1 traces every packet sent,
// received, forwarded and dropped to standard error; SetTrace sends the trace
// elsewhere.
type MemNetwork struct {
	clk   *clock.Virtual
	start time.Time

	mu          sync.Mutex // topology: nodes, segments, ports, addresses, link state
	nodes       []*MemNode
	segs        []*Segment
	latency     time.Duration
	eventBuffer int

	traceMu sync.Mutex
	trace   io.Writer
}

// Defaults for a MemNetwork.
const (
	// DefaultMemLatency is the time a packet takes to cross a segment.
	DefaultMemLatency = time.Millisecond
	// DefaultMemEventBuffer is the capacity of each node's events channel.
	DefaultMemEventBuffer = 1024
	// memMTU is the MTU of every in-memory link.
	memMTU = 1500
)

// NewMemNetwork returns an empty network on clk.
func NewMemNetwork(clk *clock.Virtual) *MemNetwork {
	w := &MemNetwork{
		clk:         clk,
		start:       clk.Now(),
		latency:     DefaultMemLatency,
		eventBuffer: DefaultMemEventBuffer,
	}
	if os.Getenv("PIM6D_TRACE") == "1" {
		w.trace = os.Stderr
	}
	return w
}

// Clock returns the network's clock.
func (w *MemNetwork) Clock() *clock.Virtual { return w.clk }

// SetLatency sets the latency of segments added from now on.
func (w *MemNetwork) SetLatency(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latency = d
}

// SetEventBuffer sets the events channel capacity of nodes added from now on.
func (w *MemNetwork) SetEventBuffer(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.eventBuffer = max(n, 1)
}

// SetTrace sends the packet trace to out (nil turns it off).
func (w *MemNetwork) SetTrace(out io.Writer) {
	w.traceMu.Lock()
	defer w.traceMu.Unlock()
	w.trace = out
}

// tracef writes one trace line, stamped with the virtual time since the
// network was made.
func (w *MemNetwork) tracef(format string, args ...any) {
	w.traceMu.Lock()
	defer w.traceMu.Unlock()
	if w.trace == nil {
		return
	}
	fmt.Fprintf(w.trace, "%12.6f ", w.clk.Now().Sub(w.start).Seconds())
	fmt.Fprintf(w.trace, format, args...)
	io.WriteString(w.trace, "\n")
}

func (w *MemNetwork) tracing() bool {
	w.traceMu.Lock()
	defer w.traceMu.Unlock()
	return w.trace != nil
}

// AddNode adds a node (a host, or a router once SetForwarding(true)). Nodes are
// numbered from 1 in the order they are added; the number is part of their
// link-local addresses and MACs.
func (w *MemNetwork) AddNode(name string) *MemNode {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := &MemNode{
		net:    w,
		id:     len(w.nodes) + 1,
		name:   name,
		table:  NewTable(),
		events: make(chan any, w.eventBuffer),
		drops:  make(map[string]uint64),
		rx:     make(map[dataKey]*DataCount),
	}
	n.fwd = newForwarder(n.table,
		func() int64 { return w.clk.Now().UnixNano() },
		n.signal,
		func(pkt []byte, mtu int) {
			w.tracef("%s icmp6 packet-too-big mtu %d (not sent)", n.name, mtu)
		})
	w.nodes = append(w.nodes, n)
	return n
}

// Nodes returns the nodes in the order they were added.
func (w *MemNetwork) Nodes() []*MemNode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*MemNode(nil), w.nodes...)
}

// AddSegment adds a multi-access link with the network's current latency.
func (w *MemNetwork) AddSegment(name string) *Segment {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &Segment{net: w, name: name, latency: w.latency}
	w.segs = append(w.segs, s)
	return s
}

// Segment is a multi-access link: a packet sent by one member reaches every
// other member whose link is up, after the segment's latency.
type Segment struct {
	net     *MemNetwork
	name    string
	latency time.Duration
	members []*memPort // in attach order, which is delivery order
}

// Name returns the segment's name.
func (s *Segment) Name() string { return s.name }

// SetLatency sets the time a packet takes to cross the segment.
func (s *Segment) SetLatency(d time.Duration) {
	s.net.mu.Lock()
	defer s.net.mu.Unlock()
	s.latency = d
}

// memPort is one node's link on one segment.
type memPort struct {
	node *MemNode
	seg  *Segment
	link Link
	ll   netip.Addr // fe80::<node>:<link>
}

func (p *memPort) String() string { return p.node.name + "/" + p.link.Name }

// usable reports whether the port can send and receive. Called with net.mu held.
func (p *memPort) usable() bool { return p.link.Up && !p.node.closedLocked() }

func memMAC(node, link int) net.HardwareAddr {
	return net.HardwareAddr{0x02, byte(node >> 8), byte(node), 0, byte(link >> 8), byte(link)}
}

func memLinkLocal(node, link int) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[12], b[13] = byte(node>>8), byte(node)
	b[14], b[15] = byte(link>>8), byte(link)
	return netip.AddrFrom16(b)
}

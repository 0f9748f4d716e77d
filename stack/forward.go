package stack

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pim6d/pim6d/internal/checksum"
)

// The forwarding decision, independent of how frames are read and written, so
// the same code runs on AF_PACKET rings and in tests.

const (
	ethHeaderLen  = 14
	ipv6HeaderLen = 40
	etherTypeIPv6 = 0x86dd

	// signalInterval is the shortest gap between two data signals of one kind
	// for one route (or one (S,G) for no-route signals).
	signalInterval = int64(time.Second)
	// maxSignalKeys bounds the no-route rate limiter's memory under a flood of
	// new sources.
	maxSignalKeys = 4096
)

// DropReason says why the forwarder did not forward a frame.
type DropReason int

const (
	DropNotIPv6 DropReason = iota
	DropTruncated
	DropNoRoute  // no route, or a "drop" route (SSM range without (S,G))
	DropSignal   // matched a signal route: told the control plane
	DropWrongIIF // arrived on another link than the route's iif
	DropHopLimit // hop limit <= 1
	DropTooBig   // larger than an oif's MTU (a Packet Too Big was sent)
	DropTxError  // the send to an oif failed
	DropNotForwardable
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	"not-ipv6", "truncated", "no-route", "signal", "wrong-iif", "hop-limit",
	"too-big", "tx-error", "not-forwardable",
}

func (r DropReason) String() string {
	if r < 0 || r >= numDropReasons {
		return "unknown"
	}
	return dropReasonNames[r]
}

// ForwarderStats are the forwarder's counters.
type ForwarderStats struct {
	Received  uint64
	Forwarded uint64 // copies sent
	Checksums uint64 // transport checksums finished for CHECKSUM_PARTIAL packets
	Drops     map[string]uint64
}

// fwdLink is one link the forwarder reads from and writes to.
type fwdLink struct {
	index int
	name  string
	mtu   int
	mac   [6]byte
	// send transmits (or queues for transmission) a whole Ethernet frame on
	// this link; flush, when set, pushes out what send queued.
	send  func(frame []byte) error
	flush func()
}

// forwarder replicates multicast frames according to the table.
type forwarder struct {
	table *Table
	links atomic.Pointer[map[int]*fwdLink] // copy-on-write; readers never lock
	now   func() int64                     // unix nanoseconds

	// signal delivers a data signal to the control plane; it must not block.
	signal func(DataSignal)
	// tooBig is called (rate-limited) for a packet larger than an oif's MTU,
	// with the IPv6 packet (no Ethernet header) and the MTU.
	tooBig func(pkt []byte, mtu int)

	received, forwarded, checksums atomic.Uint64
	drops                          [numDropReasons]atomic.Uint64

	noRouteMu   sync.Mutex
	noRouteSent map[[32]byte]int64 // (S,G) -> last no-route signal
	ptbTokens   tokenBucket
}

func newForwarder(t *Table, now func() int64, signal func(DataSignal), tooBig func([]byte, int)) *forwarder {
	f := &forwarder{
		table:       t,
		now:         now,
		signal:      signal,
		tooBig:      tooBig,
		noRouteSent: make(map[[32]byte]int64),
		// RFC 4443 §2.4(f): ICMPv6 errors are rate-limited.
		ptbTokens: tokenBucket{rate: 10, burst: 10},
	}
	empty := map[int]*fwdLink{}
	f.links.Store(&empty)
	return f
}

// setLinks replaces the set of links (copy-on-write).
func (f *forwarder) setLinks(links map[int]*fwdLink) {
	f.links.Store(&links)
}

func (f *forwarder) link(index int) *fwdLink {
	return (*f.links.Load())[index]
}

func (f *forwarder) drop(r DropReason) { f.drops[r].Add(1) }

// stats returns a copy of the counters.
func (f *forwarder) stats() ForwarderStats {
	s := ForwarderStats{
		Received:  f.received.Load(),
		Forwarded: f.forwarded.Load(),
		Checksums: f.checksums.Load(),
		Drops:     make(map[string]uint64),
	}
	for i := range f.drops {
		if n := f.drops[i].Load(); n > 0 {
			s.Drops[DropReason(i).String()] = n
		}
	}
	return s
}

// forward handles one Ethernet frame that arrived on link in. The frame is
// modified in place (hop limit, Ethernet source, checksum). csumNotReady says
// the kernel left the transport checksum for hardware to finish
// (TP_STATUS_CSUMNOTREADY): it must be completed before the frame leaves.
func (f *forwarder) forward(in int, frame []byte, csumNotReady bool) {
	f.received.Add(1)
	if len(frame) < ethHeaderLen+ipv6HeaderLen {
		f.drop(DropTruncated)
		return
	}
	if binary.BigEndian.Uint16(frame[12:14]) != etherTypeIPv6 {
		f.drop(DropNotIPv6)
		return
	}
	ip := frame[ethHeaderLen:]
	if ip[0]>>4 != 6 {
		f.drop(DropNotIPv6)
		return
	}
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	if plen == 0 || ipv6HeaderLen+plen > len(ip) {
		// Zero is a jumbogram, which no multicast link here carries.
		f.drop(DropTruncated)
		return
	}
	ip = ip[:ipv6HeaderLen+plen]
	frame = frame[:ethHeaderLen+len(ip)]
	src := netip.AddrFrom16([16]byte(ip[8:24]))
	dst := netip.AddrFrom16([16]byte(ip[24:40]))
	if !dst.IsMulticast() || multicastScope(dst) <= 2 || src.IsMulticast() || src.IsLinkLocalUnicast() || src.IsUnspecified() {
		// RFC 4291 §2.7: link- and interface-local multicast never leaves the
		// link; a link-local source cannot be forwarded beyond its link.
		f.drop(DropNotForwardable)
		return
	}

	r, ok := f.table.Lookup(dst, src, 0)
	if !ok {
		f.drop(DropNoRoute)
		return
	}
	now := f.now()
	switch r.Kind {
	case KindMulticast:
	case KindSignal:
		f.drop(DropSignal)
		if f.noRouteDue(src, dst, now) {
			f.signal(DataSignal{Kind: SignalNoRoute, LinkIndex: in, Src: src, Group: dst})
		}
		return
	default:
		f.drop(DropNoRoute)
		return
	}
	if r.IIF != in {
		f.drop(DropWrongIIF)
		if r.Flags&FlagNotifyWrongIIF != 0 && r.Stats.SignalDue(now, signalInterval) {
			f.signal(DataSignal{Kind: SignalWrongIIF, LinkIndex: in, Src: src, Group: dst})
		}
		return
	}
	r.Stats.Count(len(ip), now)
	if r.Flags&FlagNotifyData != 0 && r.Stats.SignalDue(now, signalInterval) {
		f.signal(DataSignal{Kind: SignalData, LinkIndex: in, Src: src, Group: dst})
	}
	if ip[7] <= 1 {
		f.drop(DropHopLimit)
		return
	}
	ip[7]--
	if csumNotReady {
		if finishTransportChecksum(ip) {
			f.checksums.Add(1)
		}
	}
	links := *f.links.Load()
	for _, oif := range r.OIFs {
		if oif == in {
			continue
		}
		out := links[oif]
		if out == nil {
			f.drop(DropTxError)
			continue
		}
		if len(ip) > out.mtu {
			// RFC 8200 §5: routers do not fragment; tell the source.
			f.drop(DropTooBig)
			if f.tooBig != nil && f.ptbTokens.take(now) {
				f.tooBig(ip, out.mtu)
			}
			continue
		}
		copy(frame[6:12], out.mac[:])
		if err := out.send(frame); err != nil {
			f.drop(DropTxError)
			continue
		}
		f.forwarded.Add(1)
	}
}

// flush pushes out every frame the links have queued.
func (f *forwarder) flush() {
	for _, l := range *f.links.Load() {
		if l.flush != nil {
			l.flush()
		}
	}
}

// noRouteDue rate-limits no-route signals per (S,G), with bounded memory.
func (f *forwarder) noRouteDue(src, dst netip.Addr, now int64) bool {
	var k [32]byte
	s, d := src.As16(), dst.As16()
	copy(k[:16], s[:])
	copy(k[16:], d[:])
	f.noRouteMu.Lock()
	defer f.noRouteMu.Unlock()
	if last, ok := f.noRouteSent[k]; ok && now-last < signalInterval {
		return false
	}
	if len(f.noRouteSent) >= maxSignalKeys {
		clear(f.noRouteSent)
	}
	f.noRouteSent[k] = now
	return true
}

func multicastScope(a netip.Addr) byte {
	b := a.As16()
	return b[1] & 0x0f
}

// tokenBucket is a small rate limiter (tokens per second).
type tokenBucket struct {
	mu          sync.Mutex
	rate, burst float64
	tokens      float64
	last        int64
}

func (b *tokenBucket) take(now int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == 0 {
		b.tokens = b.burst
	} else {
		b.tokens += float64(now-b.last) / 1e9 * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// finishTransportChecksum computes the UDP or TCP checksum of an IPv6 packet
// whose checksum the sender's kernel left for offload (CHECKSUM_PARTIAL). It
// reports whether it wrote one.
func finishTransportChecksum(ip []byte) bool {
	proto, off, ok := upperLayer(ip)
	if !ok {
		return false
	}
	var csumOff int
	switch proto {
	case 17: // UDP
		csumOff = 6
		if len(ip)-off < 8 {
			return false
		}
	case 6: // TCP
		csumOff = 16
		if len(ip)-off < 20 {
			return false
		}
	default:
		return false
	}
	seg := ip[off:]
	seg[csumOff], seg[csumOff+1] = 0, 0
	c := checksum.IPv6(netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40])), len(seg), proto, seg)
	if proto == 17 && c == 0 {
		c = 0xffff // RFC 8200 §8.1: a zero UDP checksum is sent as all ones
	}
	binary.BigEndian.PutUint16(seg[csumOff:], c)
	return true
}

// upperLayer walks the IPv6 extension headers and returns the upper-layer
// protocol and its offset. Fragments (other than a whole first fragment) and
// malformed chains report !ok.
func upperLayer(ip []byte) (proto uint8, off int, ok bool) {
	proto = ip[6]
	off = ipv6HeaderLen
	for range 8 { // bounded: no packet needs more extension headers than this
		switch proto {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(ip) < off+2 {
				return 0, 0, false
			}
			proto = ip[off]
			off += (int(ip[off+1]) + 1) * 8
		case 44: // fragment: only an unfragmented "atomic" fragment is whole
			if len(ip) < off+8 || binary.BigEndian.Uint16(ip[off+2:off+4]) != 0 {
				return 0, 0, false
			}
			proto = ip[off]
			off += 8
		default:
			return proto, off, off <= len(ip)
		}
	}
	return 0, 0, false
}

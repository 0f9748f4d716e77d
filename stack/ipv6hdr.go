package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ErrMalformedIPv6 is wrapped by every error ParseIPv6 returns.
var ErrMalformedIPv6 = errors.New("malformed IPv6 packet")

// IPv6 extension header and option numbers (RFC 8200 §4, RFC 2711).
const (
	ipv6FixedLen = 40

	nhHopByHop  = 0
	nhRouting   = 43
	nhFragment  = 44
	nhESP       = 50
	nhAH        = 51
	nhNoNext    = 59
	nhDestOpts  = 60
	nhMobility  = 135
	nhHIP       = 139
	nhShim6     = 140
	optPad1     = 0
	optRouterAl = 5

	// maxExtHeaders bounds the extension-header walk. Every header is at least
	// 8 bytes, so a 64 KiB packet could otherwise hold thousands.
	maxExtHeaders = 16
)

// IPv6Header is what ParseIPv6 finds in an IPv6 packet: the fixed header and
// the result of walking the extension-header chain to the upper-layer protocol.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Source Address (128 bits)                     |
//	|               Destination Address (128 bits)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type IPv6Header struct {
	TrafficClass uint8
	FlowLabel    uint32
	HopLimit     int
	Src, Dst     netip.Addr

	// Proto is the upper-layer protocol: the Next Header value that ended the
	// extension-header walk (for example 58 for ICMPv6, 103 for PIM; 50 for
	// ESP and 59 for "no next header", whose contents are not walked).
	Proto uint8
	// PayloadOffset is where the upper-layer header starts.
	PayloadOffset int
	// Length is the packet's length according to its Payload Length field
	// (40 + payload length); link-layer padding after it is not part of the
	// packet.
	Length int

	// RouterAlert reports a Router Alert option (RFC 2711) in the hop-by-hop
	// header; RouterAlertValue is its value (0 for MLD).
	RouterAlert      bool
	RouterAlertValue uint16

	// Fragment reports a Fragment header. When FragmentOffset is not zero the
	// bytes at PayloadOffset are the middle of the upper-layer message, not its
	// header.
	Fragment       bool
	FragmentOffset uint16 // in 8-byte units
	MoreFragments  bool
}

// Fragmented reports whether the packet is one fragment of a larger one (an
// "atomic" fragment with offset 0 and no more fragments is whole).
func (h *IPv6Header) Fragmented() bool {
	return h.Fragment && (h.FragmentOffset != 0 || h.MoreFragments)
}

// Payload returns the upper-layer part of b, the packet h was parsed from.
func (h *IPv6Header) Payload(b []byte) []byte {
	return b[h.PayloadOffset:h.Length]
}

// ParseIPv6 parses the fixed IPv6 header at the start of b and walks the
// extension headers (RFC 8200 §4) up to the upper-layer protocol, noting a
// hop-by-hop Router Alert option. b may carry link-layer padding after the
// packet. It never panics; errors wrap ErrMalformedIPv6 and name the offset.
func ParseIPv6(b []byte) (IPv6Header, error) {
	var h IPv6Header
	if len(b) < ipv6FixedLen {
		return h, fmt.Errorf("%w: %d bytes, shorter than the 40-byte header", ErrMalformedIPv6, len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return h, fmt.Errorf("%w: version %d at offset 0", ErrMalformedIPv6, v)
	}
	h.TrafficClass = b[0]<<4 | b[1]>>4
	h.FlowLabel = binary.BigEndian.Uint32(b[0:4]) & 0xfffff
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	h.Length = ipv6FixedLen + plen
	if h.Length > len(b) {
		return h, fmt.Errorf("%w: payload length %d at offset 4 exceeds the %d bytes after the header",
			ErrMalformedIPv6, plen, len(b)-ipv6FixedLen)
	}
	b = b[:h.Length]
	h.HopLimit = int(b[7])
	h.Src = netip.AddrFrom16([16]byte(b[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(b[24:40]))

	next := b[6]
	nextOff := 6 // where the current Next Header value was read
	off := ipv6FixedLen
	for n := 0; ; n++ {
		if !isExtHeader(next) || (h.Fragment && h.FragmentOffset != 0) {
			break
		}
		if n == maxExtHeaders {
			return h, fmt.Errorf("%w: more than %d extension headers", ErrMalformedIPv6, maxExtHeaders)
		}
		if next == nhHopByHop && off != ipv6FixedLen {
			// RFC 8200 §4.1: the hop-by-hop header only directly follows the
			// IPv6 header.
			return h, fmt.Errorf("%w: hop-by-hop header at offset %d (next header field at %d), not first",
				ErrMalformedIPv6, off, nextOff)
		}
		if len(b)-off < 8 {
			return h, fmt.Errorf("%w: extension header %d at offset %d truncated (%d bytes left)",
				ErrMalformedIPv6, next, off, len(b)-off)
		}
		var hlen int
		switch next {
		case nhFragment:
			hlen = 8
			fo := binary.BigEndian.Uint16(b[off+2 : off+4])
			h.Fragment = true
			h.FragmentOffset = fo >> 3
			h.MoreFragments = fo&1 != 0
		case nhAH:
			hlen = (int(b[off+1]) + 2) * 4 // RFC 4302 §2.2: in 4-byte units, minus 2
		default:
			hlen = (int(b[off+1]) + 1) * 8
		}
		if hlen > len(b)-off {
			return h, fmt.Errorf("%w: extension header %d at offset %d: length %d exceeds the %d bytes left",
				ErrMalformedIPv6, next, off, hlen, len(b)-off)
		}
		if next == nhHopByHop {
			if err := h.parseHopByHop(b[off:off+hlen], off); err != nil {
				return h, err
			}
		}
		nextOff = off
		next = b[off]
		off += hlen
	}
	h.Proto = next
	h.PayloadOffset = off
	return h, nil
}

// isExtHeader reports whether nh names an extension header whose chain the
// parser can walk (RFC 8200 §4 and the IANA list of RFC 7045). ESP is not
// walked: what follows it is encrypted.
func isExtHeader(nh uint8) bool {
	switch nh {
	case nhHopByHop, nhRouting, nhFragment, nhAH, nhDestOpts, nhMobility, nhHIP, nhShim6:
		return true
	}
	return false
}

// parseHopByHop walks the TLV options of a hop-by-hop header (RFC 8200 §4.2)
// and records a Router Alert option (RFC 2711 §2.1). base is the header's
// offset in the packet, for error messages.
func (h *IPv6Header) parseHopByHop(opts []byte, base int) error {
	for i := 2; i < len(opts); {
		typ := opts[i]
		if typ == optPad1 {
			i++
			continue
		}
		if len(opts)-i < 2 {
			return fmt.Errorf("%w: hop-by-hop option %d at offset %d: no length byte", ErrMalformedIPv6, typ, base+i)
		}
		olen := int(opts[i+1])
		if olen > len(opts)-i-2 {
			return fmt.Errorf("%w: hop-by-hop option %d at offset %d: length %d overruns the header",
				ErrMalformedIPv6, typ, base+i, olen)
		}
		if typ == optRouterAl && !h.RouterAlert {
			if olen != 2 {
				return fmt.Errorf("%w: router alert option at offset %d: length %d, want 2", ErrMalformedIPv6, base+i, olen)
			}
			h.RouterAlert = true
			h.RouterAlertValue = binary.BigEndian.Uint16(opts[i+2 : i+4])
		}
		i += 2 + olen
	}
	return nil
}

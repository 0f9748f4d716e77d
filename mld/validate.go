package mld

import (
	"net/netip"

	"github.com/pim6d/pim6d/stack"
)

// check applies the IP-level and ICMPv6-level checks of RFC 3810 §5.1.14,
// §5.2.13 and §7.1 and RFC 2710 §3 that do not need the parsed message. It
// returns the message type on success.
func check(p *stack.Packet) (Type, DropReason) {
	if p.Proto != protoICMPv6 {
		return 0, DropNotICMPv6
	}
	if len(p.Payload) < 4 {
		return 0, DropMalformed
	}
	t := Type(p.Payload[0])
	switch t {
	case TypeQuery, TypeV1Report, TypeV1Done, TypeV2Report:
	default:
		return t, DropNotMLD
	}
	if p.HopLimit != 1 {
		return t, DropHopLimit
	}
	if !p.RouterAlert {
		return t, DropNoRouterAlert
	}
	if !validSource(t, p.Src) {
		return t, DropSource
	}
	if !VerifyChecksum(p.Src, p.Dst, p.Payload) {
		return t, DropChecksum
	}
	return t, DropNone
}

// validSource: every MLD message comes from a link-local address; an MLDv2
// Report may come from :: while the sender has none yet (RFC 3810 §5.2.13).
func validSource(t Type, src netip.Addr) bool {
	if src.Is4In6() || !src.Is6() {
		return false
	}
	if src.IsLinkLocalUnicast() {
		return true
	}
	return t == TypeV2Report && src.IsUnspecified()
}

// validGroup: records and v1 messages must name a multicast address of at
// least link-local scope; nobody reports ff02::1 (RFC 3810 §6, RFC 2710 §4).
func validGroup(g netip.Addr) bool {
	if !g.Is6() || !g.IsMulticast() || g.Is4In6() {
		return false
	}
	b := g.As16()
	if b[1]&0x0f < 2 { // scope 0 (reserved) or 1 (interface-local)
		return false
	}
	return g != allNodes
}

// validSourceAddr: a source in a record is a unicast address.
func validSourceAddr(s netip.Addr) bool {
	return s.Is6() && !s.IsMulticast() && !s.IsUnspecified() && !s.IsLoopback()
}

var (
	allNodes        = netip.MustParseAddr("ff02::1")
	allMLDv2Routers = netip.MustParseAddr("ff02::16")
)

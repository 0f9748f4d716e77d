package wire

import "github.com/pim6d/pim6d/stack"

// Addressing rules of RFC 7761 §4.9: "PIM messages are either unicast (e.g.,
// Registers and Register-Stop) or multicast with TTL 1 to the
// 'ALL-PIM-ROUTERS' group (e.g., Join/Prune, Asserts, etc.). The source
// address used for unicast messages is a domain-wide reachable address; the
// source address used for multicast messages is the link-local address of
// the interface on which the message is being sent."
//
// These checks run on the stack's packet before Parse; a failure is a drop
// counted by DropReason and changes no state.

// ValidateLinkScoped checks the addressing of a link-scoped PIM message
// (Hello, Join/Prune, Assert, a forwarded Bootstrap): PIM protocol, a
// link-local unicast source, destination ff02::d, hop limit 1.
func ValidateLinkScoped(pkt stack.Packet) error {
	t := pktType(pkt)
	if pkt.Proto != stack.ProtoPIM {
		return perr(t, "ipv6 next header", 0, ErrNotPIM)
	}
	if !pkt.Src.Is6() || !pkt.Src.IsLinkLocalUnicast() {
		return perr(t, "ipv6 source "+pkt.Src.String(), 0, ErrSourceNotLL)
	}
	if pkt.Dst.WithZone("") != AllPIMRouters {
		return perr(t, "ipv6 destination "+pkt.Dst.String(), 0, ErrBadDestination)
	}
	if pkt.HopLimit != 1 {
		return perr(t, "ipv6 hop limit "+itoa(pkt.HopLimit), 0, ErrBadHopLimit)
	}
	return nil
}

// ValidateUnicast checks the addressing of a unicast PIM message (Register,
// Register-Stop, Candidate-RP-Advertisement): PIM protocol, and a
// domain-wide reachable (global unicast) source and destination.
func ValidateUnicast(pkt stack.Packet) error {
	t := pktType(pkt)
	if pkt.Proto != stack.ProtoPIM {
		return perr(t, "ipv6 next header", 0, ErrNotPIM)
	}
	if !pkt.Src.Is6() || !pkt.Src.IsGlobalUnicast() || pkt.Src.Is4In6() {
		return perr(t, "ipv6 source "+pkt.Src.String(), 0, ErrBadSource)
	}
	if !pkt.Dst.Is6() || !pkt.Dst.IsGlobalUnicast() || pkt.Dst.Is4In6() {
		return perr(t, "ipv6 destination "+pkt.Dst.String(), 0, ErrBadDestination)
	}
	return nil
}

// Validate applies the addressing rule of the message's type: link-scoped
// for Hello, Join/Prune and Assert; unicast for Register, Register-Stop and
// Candidate-RP-Advertisement; for Bootstrap, link-scoped when sent to a group
// and otherwise any unicast source and destination (a No-Forward BSM unicast
// to a new neighbour, RFC 5059 §3.2). Other types are ErrUnknownType.
func Validate(pkt stack.Packet) error {
	if len(pkt.Payload) == 0 {
		return perr(0xff, "header", 0, ErrTruncated)
	}
	switch t := pktType(pkt); t {
	case TypeHello, TypeJoinPrune, TypeAssert:
		return ValidateLinkScoped(pkt)
	case TypeRegister, TypeRegisterStop, TypeCandidateRPAdv:
		return ValidateUnicast(pkt)
	case TypeBootstrap:
		if pkt.Dst.IsMulticast() {
			return ValidateLinkScoped(pkt)
		}
		if pkt.Proto != stack.ProtoPIM {
			return perr(t, "ipv6 next header", 0, ErrNotPIM)
		}
		if !pkt.Src.Is6() || pkt.Src.IsMulticast() || pkt.Src.IsUnspecified() {
			return perr(t, "ipv6 source "+pkt.Src.String(), 0, ErrBadSource)
		}
		if !pkt.Dst.Is6() || pkt.Dst.IsUnspecified() {
			return perr(t, "ipv6 destination "+pkt.Dst.String(), 0, ErrBadDestination)
		}
		return nil
	default:
		return perr(t, "type", 0, ErrUnknownType)
	}
}

func pktType(pkt stack.Packet) Type {
	if len(pkt.Payload) == 0 {
		return 0xff
	}
	return Type(pkt.Payload[0] & 0x0f)
}

package wire

import "net/netip"

// PIM header (RFC 7761 §4.9):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// "PIM Ver: PIM version number is 2." The Reserved octet is ignored on
// receipt (RFC 7761 §4.9, RFC 8736) except for the Bootstrap No-Forward bit.

const (
	// Version is the PIM version this codec speaks.
	Version   = 2
	headerLen = 4
	// MaxMessageLen is the largest PIM message an IPv6 packet without a
	// jumbo payload option can carry.
	MaxMessageLen = 0xffff
)

// AllPIMRouters is ff02::d, the ALL-PIM-ROUTERS group (RFC 7761 §4.9).
var AllPIMRouters = netip.AddrFrom16([16]byte{0xff, 0x02, 15: 0x0d})

// Parse decodes one PIM message received from src to dst (the IPv6 source
// and destination, used for the checksum pseudo-header; zones are ignored).
// It checks the version, the type and the checksum (RFC 7761 §4.9; for a
// Register the header-only or the whole-message checksum), then the body.
// Errors are *ParseError values wrapping ErrTruncated, ErrBadVersion,
// ErrUnknownType (Graft, Graft-Ack and any unassigned type: the caller counts
// and drops them), ErrBadChecksum, ErrBadAddressFamily, ErrBadEncoding,
// ErrBadMaskLen or ErrBadOption. Parse never panics and allocates nothing
// for counts the message is too short to hold.
//
// A Register's Packet aliases b; every other message owns its memory.
func Parse(src, dst netip.Addr, b []byte) (Message, error) {
	if len(b) < headerLen {
		t := Type(0xff)
		if len(b) > 0 {
			t = Type(b[0] & 0x0f)
		}
		return nil, perr(t, "header", 0, ErrTruncated)
	}
	t := Type(b[0] & 0x0f)
	if v := b[0] >> 4; v != Version {
		return nil, perr(t, "version", 0, ErrBadVersion)
	}
	switch t {
	case TypeHello, TypeRegister, TypeRegisterStop, TypeJoinPrune,
		TypeBootstrap, TypeAssert, TypeCandidateRPAdv:
	default:
		return nil, perr(t, "type", 0, ErrUnknownType)
	}
	if t == TypeRegister {
		if len(b) < registerHeaderLen {
			return nil, perr(t, "flags", headerLen, ErrTruncated)
		}
		if Checksum(src, dst, registerHeaderLen, b[:registerHeaderLen]) != 0 &&
			Checksum(src, dst, len(b), b) != 0 {
			return nil, perr(t, "checksum", 2, ErrBadChecksum)
		}
	} else if Checksum(src, dst, len(b), b) != 0 {
		return nil, perr(t, "checksum", 2, ErrBadChecksum)
	}
	r := &reader{t: t, b: b[headerLen:], off: headerLen}
	switch t {
	case TypeHello:
		return nilIfErr(parseHello(r))
	case TypeRegister:
		return nilIfErr(parseRegister(r))
	case TypeRegisterStop:
		return nilIfErr(parseRegisterStop(r))
	case TypeJoinPrune:
		return nilIfErr(parseJoinPrune(r))
	case TypeBootstrap:
		return nilIfErr(parseBootstrap(r, b[1]&bsmNoForward != 0))
	case TypeAssert:
		return nilIfErr(parseAssert(r))
	default: // TypeCandidateRPAdv
		return nilIfErr(parseCandidateRPAdv(r))
	}
}

// nilIfErr keeps a typed nil pointer out of the Message interface.
func nilIfErr[M Message](m M, err error) (Message, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Len returns the length Marshal gives m, header included (0 for nil).
func Len(m Message) int {
	body := 0
	switch m := m.(type) {
	case *Hello:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *Register:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *RegisterStop:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *JoinPrune:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *Bootstrap:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *Assert:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	case *CandidateRPAdv:
		if m == nil {
			return 0
		}
		body = m.wireLen()
	default:
		return 0
	}
	return headerLen + body
}

// Marshal encodes m to send from src to dst, checksum included (over the IPv6
// pseudo-header; for a Register over the PIM header only, RFC 7761 §4.9.3).
// src must be the address the packet will leave from.
func Marshal(src, dst netip.Addr, m Message) ([]byte, error) {
	return Append(make([]byte, 0, Len(m)), src, dst, m)
}

// Append appends the encoding of m to b, like Marshal. On error it returns b
// unchanged (same length) and a *ParseError naming the field.
func Append(b []byte, src, dst netip.Addr, m Message) ([]byte, error) {
	if Len(m) == 0 {
		return b, perr(0xff, "message", 0, ErrNilMessage)
	}
	start := len(b)
	t := m.Type()
	w := &writer{t: t, b: b, start: start}
	var reserved byte
	if bs, ok := m.(*Bootstrap); ok && bs.NoForward {
		reserved = bsmNoForward
	}
	w.b = append(w.b, Version<<4|byte(t), reserved, 0, 0)
	switch m := m.(type) {
	case *Hello:
		w.hello(m)
	case *Register:
		w.register(m)
	case *RegisterStop:
		w.registerStop(m)
	case *JoinPrune:
		w.joinPrune(m)
	case *Bootstrap:
		w.bootstrap(m)
	case *Assert:
		w.assert(m)
	case *CandidateRPAdv:
		w.candidateRPAdv(m)
	}
	if w.err != nil {
		return b[:start], w.err
	}
	msg := w.b[start:]
	if len(msg) > MaxMessageLen {
		return b[:start], perr(t, "message", 0, ErrTooLong)
	}
	covered := len(msg)
	if t == TypeRegister {
		covered = registerHeaderLen
	}
	c := Checksum(src, dst, covered, msg[:covered])
	msg[2], msg[3] = byte(c>>8), byte(c)
	return w.b, nil
}

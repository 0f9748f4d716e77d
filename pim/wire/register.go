package wire

import "net/netip"

// Register (RFC 7761 §4.9.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|B|N|                       Reserved2                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                     Multicast data packet                     .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// "The checksum for Registers is done only on the first 8 bytes of the
// packet, including the PIM header and the next 4 bytes, excluding the data
// packet portion. For interoperability reasons, a message carrying a checksum
// calculated over the entire PIM Register message should also be accepted."
// For IPv6 the pseudo-header's upper-layer length is then 8 as well (what
// Linux's pim6_rcv and Wireshark compute).
//
// Register-Stop (RFC 7761 §4.9.4):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             Group Address (Encoded-Group format)              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Source Address (Encoded-Unicast format)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

const (
	registerHeaderLen = headerLen + 4
	registerFlagB     = 0x80000000
	registerFlagN     = 0x40000000
)

// parseRegister reads a Register. Packet aliases the input buffer: copy it to
// keep it past the caller's next read.
func parseRegister(r *reader) (*Register, error) {
	f, err := r.u32("flags")
	if err != nil {
		return nil, err
	}
	m := &Register{Border: f&registerFlagB != 0, Null: f&registerFlagN != 0}
	if len(r.b) > 0 {
		m.Packet = r.b
	}
	return m, nil
}

func (m *Register) wireLen() int { return 4 + len(m.Packet) }

func (w *writer) register(m *Register) {
	var f uint32
	if m.Border {
		f |= registerFlagB
	}
	if m.Null {
		f |= registerFlagN
	}
	w.u32(f)
	w.b = append(w.b, m.Packet...)
}

func parseRegisterStop(r *reader) (*RegisterStop, error) {
	g, err := r.group("group")
	if err != nil {
		return nil, err
	}
	s, err := r.unicast("source")
	if err != nil {
		return nil, err
	}
	return &RegisterStop{Group: g, Source: s}, nil
}

func (m *RegisterStop) wireLen() int { return encGroupLen + encUnicastLen }

// registerStop writes a Register-Stop; a zero Source is written as :: (all
// sources of the group, §4.9.4).
func (w *writer) registerStop(m *RegisterStop) {
	w.group("group", m.Group)
	w.unicast("source", m.Source, true)
}

// NullRegister returns the Null-Register a DR sends to probe the RP while
// registering is suppressed (RFC 7761 §4.4.1, §4.9.3): N bit set and, as the
// data packet, a dummy IPv6 header from source s to group g with no payload
// (payload length 0, next header 59 "No Next Header").
func NullRegister(s, g netip.Addr) *Register {
	h := make([]byte, 40)
	h[0] = 6 << 4
	h[6] = 59 // no next header (RFC 8200 §4.7)
	h[7] = 1
	sa, ga := s.As16(), g.As16()
	copy(h[8:24], sa[:])
	copy(h[24:40], ga[:])
	return &Register{Null: true, Packet: h}
}

package wire

import (
	"net/netip"
	"strconv"
)

// Hello (RFC 7761 §4.9.2):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          OptionType           |         OptionLength          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          OptionValue                          |
//	|                              ...                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               .                               |
//
// Receive rules:
//   - Unknown options are skipped: "Unknown options MUST be ignored and MUST
//     NOT prevent a neighbor relationship from being formed" (§4.9.2).
//   - A known option whose length is not the one §4.9.2 defines (2 for
//     Holdtime, 4 for LAN Prune Delay, DR Priority and Generation ID, a
//     multiple of 18 for an IPv6 Address List) is ErrBadOption: its value
//     cannot be read, and guessing a holdtime or a DR priority from a short
//     field would change neighbour state on bad input.
//   - An option that runs past the end of the message is ErrTruncated.
//   - A single-valued option repeated in one Hello: the first occurrence is
//     used and later ones are ignored; repeated Address List options are
//     concatenated (the RFC says nothing of repeats; this keeps the first
//     value a neighbour states, as the holdtime it computes from is).

const (
	optHeaderLen = 4
	lenHoldtime  = 2
	len4         = 4
)

func parseHello(r *reader) (*Hello, error) {
	h := &Hello{}
	for len(r.b) > 0 {
		if err := r.need(optHeaderLen, "option header"); err != nil {
			return nil, err
		}
		typ := uint16(r.b[0])<<8 | uint16(r.b[1])
		l := int(r.b[2])<<8 | int(r.b[3])
		optOff := r.off
		r.skip(optHeaderLen)
		if len(r.b) < l { // the name is built only on this error path
			return nil, perr(TypeHello, optName(typ), r.off, ErrTruncated)
		}
		v := r.b[:l]
		bad := func() error { return perr(TypeHello, optName(typ)+" length", optOff+2, ErrBadOption) }
		switch typ {
		case OptHoldtime:
			if l != lenHoldtime {
				return nil, bad()
			}
			if !h.HasHoldtime {
				h.Holdtime, h.HasHoldtime = be16(v), true
			}
		case OptLANPruneDelay:
			if l != len4 {
				return nil, bad()
			}
			if h.LANPruneDelay == nil {
				pd := be16(v)
				h.LANPruneDelay = &LANPruneDelay{
					TrackingSupport:  pd&0x8000 != 0,
					PropagationDelay: pd & 0x7fff,
					OverrideInterval: be16(v[2:]),
				}
			}
		case OptDRPriority:
			if l != len4 {
				return nil, bad()
			}
			if !h.HasDRPriority {
				h.DRPriority, h.HasDRPriority = be32(v), true
			}
		case OptGenerationID:
			if l != len4 {
				return nil, bad()
			}
			if !h.HasGenID {
				h.GenerationID, h.HasGenID = be32(v), true
			}
		case OptAddressList:
			if l%encUnicastLen != 0 {
				return nil, bad()
			}
			n := l / encUnicastLen
			if n > 0 && h.AddressList == nil {
				h.AddressList = make([]netip.Addr, 0, n)
			}
			ar := reader{t: TypeHello, b: v, off: r.off}
			for range n {
				a, err := ar.unicast("address list entry")
				if err != nil {
					return nil, err
				}
				h.AddressList = append(h.AddressList, a)
			}
		}
		r.skip(l)
	}
	return h, nil
}

func optName(typ uint16) string {
	switch typ {
	case OptHoldtime:
		return "holdtime option"
	case OptLANPruneDelay:
		return "lan prune delay option"
	case OptDRPriority:
		return "dr priority option"
	case OptGenerationID:
		return "generation id option"
	case OptAddressList:
		return "address list option"
	}
	return "option " + strconv.Itoa(int(typ))
}

// maxAddressList is the most addresses one Address List option can carry
// (its length field is 16 bits).
const maxAddressList = 0xffff / encUnicastLen

func (h *Hello) wireLen() int {
	n := 0
	if h.HasHoldtime {
		n += optHeaderLen + lenHoldtime
	}
	if h.LANPruneDelay != nil {
		n += optHeaderLen + len4
	}
	if h.HasDRPriority {
		n += optHeaderLen + len4
	}
	if h.HasGenID {
		n += optHeaderLen + len4
	}
	if len(h.AddressList) > 0 {
		n += optHeaderLen + len(h.AddressList)*encUnicastLen
	}
	return n
}

// hello writes the options in the order of §4.9.2's list; an Address
// List option is written only when AddressList is not empty.
func (w *writer) hello(h *Hello) {
	if h.HasHoldtime {
		w.u16(OptHoldtime)
		w.u16(lenHoldtime)
		w.u16(h.Holdtime)
	}
	if pd := h.LANPruneDelay; pd != nil {
		if pd.PropagationDelay > 0x7fff {
			w.fail("lan prune delay option propagation delay", ErrBadValue)
		}
		v := pd.PropagationDelay & 0x7fff
		if pd.TrackingSupport {
			v |= 0x8000
		}
		w.u16(OptLANPruneDelay)
		w.u16(len4)
		w.u16(v)
		w.u16(pd.OverrideInterval)
	}
	if h.HasDRPriority {
		w.u16(OptDRPriority)
		w.u16(len4)
		w.u32(h.DRPriority)
	}
	if h.HasGenID {
		w.u16(OptGenerationID)
		w.u16(len4)
		w.u32(h.GenerationID)
	}
	if n := len(h.AddressList); n > 0 {
		if n > maxAddressList {
			w.fail("address list option", ErrTooMany)
			return
		}
		w.u16(OptAddressList)
		w.u16(uint16(n * encUnicastLen))
		for _, a := range h.AddressList {
			w.unicast("address list entry", a, false)
		}
	}
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

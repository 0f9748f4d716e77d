package wire

// Bootstrap (RFC 5059 §4.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |N|  Reserved   |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Fragment Tag          | Hash Mask Len | BSR Priority  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             BSR Address (Encoded-Unicast format)              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Group Address 1 (Encoded-Group format)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| RP Count 1    | Frag RP Cnt 1 |         Reserved              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|             RP Address 1 (Encoded-Unicast format)             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          RP1 Holdtime         | RP1 Priority  |   Reserved    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               .                               |
//
// N is the No-Forward bit (RFC 5059 §3.2, §4.1): such a BSM is never
// forwarded; a router sends it to a new or restarted neighbour so that it
// learns the RP-set at once.
// Group blocks run to the end of the message; each Frag RP Cnt is checked
// against the bytes left before anything is allocated.

const (
	bsmNoForward    = 0x80 // the N bit in the PIM header's Reserved octet
	bsmGroupLen     = encGroupLen + 4
	bsmRPLen        = encUnicastLen + 4
	bsmFixedLen     = 4 + encUnicastLen
	maxHashMaskLen  = 128
	maxBSMRPPerFrag = 255
)

func parseBootstrap(r *reader, noForward bool) (*Bootstrap, error) {
	if err := r.need(4, "fragment tag/hash mask len/priority"); err != nil {
		return nil, err
	}
	m := &Bootstrap{NoForward: noForward, FragmentTag: be16(r.b), HashMaskLen: r.b[2], BSRPriority: r.b[3]}
	if m.HashMaskLen > maxHashMaskLen {
		return nil, perr(TypeBootstrap, "hash mask len", r.off+2, ErrBadMaskLen)
	}
	r.skip(4)
	var err error
	if m.BSRAddress, err = r.unicast("bsr address"); err != nil {
		return nil, err
	}
	if len(r.b) == 0 {
		return m, nil
	}
	// Pass 1: count group blocks and RPs, checking lengths.
	ngroups, nrps := 0, 0
	for rest, off := r.b, r.off; len(rest) > 0; ngroups++ {
		if len(rest) < bsmGroupLen {
			return nil, perr(TypeBootstrap, "group block "+itoa(ngroups), off, ErrTruncated)
		}
		n := int(rest[encGroupLen+1])
		rest, off = rest[bsmGroupLen:], off+bsmGroupLen
		if len(rest) < n*bsmRPLen {
			return nil, perr(TypeBootstrap, "group block "+itoa(ngroups)+" rps", off-3, ErrTruncated)
		}
		rest, off = rest[n*bsmRPLen:], off+n*bsmRPLen
		nrps += n
	}
	m.Groups = make([]BootstrapGroup, ngroups)
	var rps []BootstrapRP
	if nrps > 0 {
		rps = make([]BootstrapRP, nrps)
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.Group, err = r.group("group"); err != nil {
			return nil, err
		}
		g.RPCount, g.FragRPCount = r.b[0], r.b[1]
		r.skip(4)
		n := int(g.FragRPCount)
		if n == 0 {
			continue
		}
		g.RPs, rps = rps[:n:n], rps[n:]
		for j := range g.RPs {
			if g.RPs[j].Addr, err = r.unicast("rp address"); err != nil {
				return nil, err
			}
			g.RPs[j].Holdtime = be16(r.b)
			g.RPs[j].Priority = r.b[2]
			r.skip(4)
		}
	}
	return m, nil
}

func (m *Bootstrap) wireLen() int {
	n := bsmFixedLen
	for i := range m.Groups {
		n += bsmGroupLen + len(m.Groups[i].RPs)*bsmRPLen
	}
	return n
}

// bootstrap writes a BSM; Frag RP Cnt is len(RPs), whatever FragRPCount says.
func (w *writer) bootstrap(m *Bootstrap) {
	if m.HashMaskLen > maxHashMaskLen {
		w.fail("hash mask len", ErrBadMaskLen)
	}
	w.u16(m.FragmentTag)
	w.u8(m.HashMaskLen)
	w.u8(m.BSRPriority)
	w.unicast("bsr address", m.BSRAddress, false)
	for i := range m.Groups {
		g := &m.Groups[i]
		if len(g.RPs) > maxBSMRPPerFrag {
			w.fail("group block "+itoa(i)+" rps", ErrTooMany)
			return
		}
		w.group("group", g.Group)
		w.u8(g.RPCount)
		w.u8(uint8(len(g.RPs)))
		w.u16(0)
		for _, rp := range g.RPs {
			w.unicast("rp address", rp.Addr, false)
			w.u16(rp.Holdtime)
			w.u8(rp.Priority)
			w.u8(0)
		}
	}
}

package wire

// Candidate-RP-Advertisement (RFC 5059 §4.2):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Prefix Count  |   Priority    |             Holdtime          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               RP Address (Encoded-Unicast format)             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Group Address 1 (Encoded-Group format)                |
//	|                               .                               |
//	|         Group Address n (Encoded-Group format)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A Prefix Count of 0 means the RP serves all multicast groups (§4.2).

const crpAdvFixedLen = 4 + encUnicastLen

func parseCandidateRPAdv(r *reader) (*CandidateRPAdv, error) {
	if err := r.need(4, "prefix count/priority/holdtime"); err != nil {
		return nil, err
	}
	n := int(r.b[0])
	m := &CandidateRPAdv{Priority: r.b[1], Holdtime: be16(r.b[2:])}
	r.skip(4)
	var err error
	if m.RP, err = r.unicast("rp address"); err != nil {
		return nil, err
	}
	if n == 0 {
		return m, nil
	}
	if err := r.need(n*encGroupLen, "group addresses"); err != nil {
		return nil, err
	}
	m.Groups = make([]EncodedGroup, n)
	for i := range m.Groups {
		if m.Groups[i], err = r.group("group"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *CandidateRPAdv) wireLen() int { return crpAdvFixedLen + len(m.Groups)*encGroupLen }

func (w *writer) candidateRPAdv(m *CandidateRPAdv) {
	if len(m.Groups) > 255 {
		w.fail("prefix count", ErrTooMany)
		return
	}
	w.u8(uint8(len(m.Groups)))
	w.u8(m.Priority)
	w.u16(m.Holdtime)
	w.unicast("rp address", m.RP, false)
	for _, g := range m.Groups {
		w.group("group", g)
	}
}

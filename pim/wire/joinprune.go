package wire

import "strconv"

// Join/Prune (RFC 7761 §4.9.5):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Upstream Neighbor Address (Encoded-Unicast format)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Reserved     | Num groups    |          Holdtime             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Multicast Group Address 1 (Encoded-Group format)      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Number of Joined Sources    |   Number of Pruned Sources    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|        Joined Source Address 1 (Encoded-Source format)        |
//	|                             .  .  .                           |
//	|        Pruned Source Address 1 (Encoded-Source format)        |
//	|                             .  .  .                           |
//	|         Multicast Group Address m (Encoded-Group format)      |
//	|                             .  .  .                           |
//
// Every count is checked against the bytes left before anything is allocated;
// all sources of one message share one backing array.

// Sizes for packing Join/Prune messages into an MTU (IPv6 encodings).
const (
	// JoinPruneHeaderLen is the PIM header, upstream neighbour, reserved,
	// group count and holdtime.
	JoinPruneHeaderLen = headerLen + encUnicastLen + 4
	// JoinPruneGroupLen is one group block without its sources.
	JoinPruneGroupLen = encGroupLen + 4
	// EncodedSourceLen is one joined or pruned source.
	EncodedSourceLen = encSourceLen
	// MaxJoinPruneGroups is the largest Num groups (8 bits).
	MaxJoinPruneGroups = 255
)

func parseJoinPrune(r *reader) (*JoinPrune, error) {
	up, err := r.unicast("upstream neighbor")
	if err != nil {
		return nil, err
	}
	if err := r.need(4, "num groups/holdtime"); err != nil {
		return nil, err
	}
	ng := int(r.b[1])
	m := &JoinPrune{UpstreamNeighbor: up, Holdtime: be16(r.b[2:])}
	r.skip(4)
	if ng == 0 {
		return m, nil
	}
	// Pass 1: check every count against the remaining length and count the
	// sources, without allocating.
	total := 0
	{
		rest, off := r.b, r.off
		for i := range ng {
			if len(rest) < JoinPruneGroupLen {
				return nil, perr(TypeJoinPrune, "group "+itoa(i), off, ErrTruncated)
			}
			n := int(be16(rest[encGroupLen:])) + int(be16(rest[encGroupLen+2:]))
			rest, off = rest[JoinPruneGroupLen:], off+JoinPruneGroupLen
			if len(rest) < n*encSourceLen {
				return nil, perr(TypeJoinPrune, "group "+itoa(i)+" sources", off-4, ErrTruncated)
			}
			rest, off = rest[n*encSourceLen:], off+n*encSourceLen
			total += n
		}
	}
	// Pass 2: decode into one groups array and one sources array.
	m.Groups = make([]JoinPruneGroup, ng)
	var srcs []EncodedSource
	if total > 0 {
		srcs = make([]EncodedSource, total)
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		if g.Group, err = r.group("group"); err != nil {
			return nil, err
		}
		nj, np := int(be16(r.b)), int(be16(r.b[2:]))
		r.skip(4)
		if nj > 0 {
			g.Joins, srcs = srcs[:nj:nj], srcs[nj:]
			for j := range g.Joins {
				if g.Joins[j], err = r.source("joined source"); err != nil {
					return nil, err
				}
			}
		}
		if np > 0 {
			g.Prunes, srcs = srcs[:np:np], srcs[np:]
			for j := range g.Prunes {
				if g.Prunes[j], err = r.source("pruned source"); err != nil {
					return nil, err
				}
			}
		}
	}
	return m, nil
}

func (m *JoinPrune) wireLen() int {
	n := encUnicastLen + 4
	for i := range m.Groups {
		n += JoinPruneGroupLen + (len(m.Groups[i].Joins)+len(m.Groups[i].Prunes))*encSourceLen
	}
	return n
}

func (w *writer) joinPrune(m *JoinPrune) {
	w.unicast("upstream neighbor", m.UpstreamNeighbor, false)
	if len(m.Groups) > MaxJoinPruneGroups {
		w.fail("num groups", ErrTooMany)
		return
	}
	w.u8(0)
	w.u8(uint8(len(m.Groups)))
	w.u16(m.Holdtime)
	for i := range m.Groups {
		g := &m.Groups[i]
		if len(g.Joins) > 0xffff || len(g.Prunes) > 0xffff {
			w.fail("group "+itoa(i)+" sources", ErrTooMany)
			return
		}
		w.group("group", g.Group)
		w.u16(uint16(len(g.Joins)))
		w.u16(uint16(len(g.Prunes)))
		for _, s := range g.Joins {
			w.source("joined source", s)
		}
		for _, s := range g.Prunes {
			w.source("pruned source", s)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

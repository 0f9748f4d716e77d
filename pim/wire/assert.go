package wire

// Assert (RFC 7761 §4.9.6):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|PIM Ver| Type  |   Reserved    |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Group Address (Encoded-Group format)               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Source Address (Encoded-Unicast format)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|R|                     Metric Preference                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                             Metric                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

const (
	assertRPTBit = 0x80000000
	// MaxMetricPreference is the largest 31-bit metric preference; an
	// AssertCancel carries it with an infinite Metric (§4.6.1).
	MaxMetricPreference = 0x7fffffff
)

func parseAssert(r *reader) (*Assert, error) {
	g, err := r.group("group")
	if err != nil {
		return nil, err
	}
	s, err := r.unicast("source")
	if err != nil {
		return nil, err
	}
	p, err := r.u32("metric preference")
	if err != nil {
		return nil, err
	}
	metric, err := r.u32("metric")
	if err != nil {
		return nil, err
	}
	return &Assert{
		Group:            g,
		Source:           s,
		RPT:              p&assertRPTBit != 0,
		MetricPreference: p &^ assertRPTBit,
		Metric:           metric,
	}, nil
}

func (m *Assert) wireLen() int { return encGroupLen + encUnicastLen + 8 }

// assert writes an Assert; a zero Source is written as :: ((*,G) assert).
func (w *writer) assert(m *Assert) {
	w.group("group", m.Group)
	w.unicast("source", m.Source, true)
	if m.MetricPreference > MaxMetricPreference {
		w.fail("metric preference", ErrBadValue)
	}
	p := m.MetricPreference & MaxMetricPreference
	if m.RPT {
		p |= assertRPTBit
	}
	w.u32(p)
	w.u32(m.Metric)
}

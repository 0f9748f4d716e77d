package mld

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("mld: malformed message")

// ParseError says which field at which offset did not fit.
type ParseError struct {
	Field  string
	Offset int
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("mld: %s at offset %d: %s", e.Field, e.Offset, e.Reason)
}

func (e *ParseError) Unwrap() error { return ErrMalformed }

func errAt(field string, off int, format string, args ...any) error {
	return &ParseError{Field: field, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// Parse decodes one MLD message. It does not verify the checksum (see
// VerifyChecksum), which needs the IPv6 addresses. Trailing bytes beyond the
// message are ignored (RFC 2710 §3.7, RFC 3810 §5.1.12 and §5.2.11). Parse
// allocates at most in proportion to len(b).
func Parse(b []byte) (Message, error) {
	if len(b) < 4 {
		return nil, errAt("type", 0, "message of %d bytes is shorter than an ICMPv6 header", len(b))
	}
	switch Type(b[0]) {
	case TypeQuery:
		q := &Query{}
		if err := parseQuery(q, b); err != nil {
			return nil, err
		}
		return q, nil
	case TypeV1Report:
		g, err := parseV1(b)
		if err != nil {
			return nil, err
		}
		return &V1Report{Group: g}, nil
	case TypeV1Done:
		g, err := parseV1(b)
		if err != nil {
			return nil, err
		}
		return &V1Done{Group: g}, nil
	case TypeV2Report:
		r := &Report{}
		if _, err := parseReport(r, b, nil); err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, errAt("type", 0, "ICMPv6 type %d is not MLD", b[0])
}

func addrAt(b []byte, off int) netip.Addr {
	return netip.AddrFrom16([16]byte(b[off : off+addrLen]))
}

func parseV1(b []byte) (netip.Addr, error) {
	if len(b) < v1MessageLen {
		return netip.Addr{}, errAt("length", 0, "%d bytes, MLDv1 needs %d", len(b), v1MessageLen)
	}
	return addrAt(b, 8), nil
}

// parseQuery decodes a query into q, reusing q.Sources.
func parseQuery(q *Query, b []byte) error {
	switch {
	case len(b) == v1MessageLen:
		// RFC 3810 §8.1: a 24-byte query is MLDv1.
		*q = Query{V1: true, MaxRespCode: binary.BigEndian.Uint16(b[4:]), Group: addrAt(b, 8), Sources: q.Sources[:0]}
		return nil
	case len(b) < v2QueryHdrLen:
		// RFC 3810 §8.1: queries of other lengths are silently ignored.
		return errAt("length", 0, "query of %d bytes is neither MLDv1 (24) nor MLDv2 (>= 28)", len(b))
	}
	n := int(binary.BigEndian.Uint16(b[26:]))
	if need := v2QueryHdrLen + n*addrLen; need > len(b) {
		return errAt("number of sources", 26, "%d sources need %d bytes, have %d", n, need, len(b))
	}
	*q = Query{
		MaxRespCode:        binary.BigEndian.Uint16(b[4:]),
		Group:              addrAt(b, 8),
		SuppressRouterSide: b[24]&8 != 0,
		QRV:                b[24] & 7,
		QQIC:               b[25],
		Sources:            q.Sources[:0],
	}
	for i := 0; i < n; i++ {
		q.Sources = append(q.Sources, addrAt(b, v2QueryHdrLen+i*addrLen))
	}
	return nil
}

// parseReport decodes a v2 report into r, reusing r.Records. Sources of all
// records are carved out of one buffer, srcs (reused when large enough). It
// checks the whole layout before filling anything in.
func parseReport(r *Report, b []byte, srcs []netip.Addr) ([]netip.Addr, error) {
	if len(b) < v2ReportHdrLen {
		return srcs, errAt("length", 0, "report of %d bytes is shorter than its %d-byte header", len(b), v2ReportHdrLen)
	}
	m := int(binary.BigEndian.Uint16(b[6:]))
	// First pass: every record and source count must fit the bytes present.
	off, total := v2ReportHdrLen, 0
	for i := 0; i < m; i++ {
		if off+recordHdrLen > len(b) {
			return srcs, errAt("record", off, "record %d of %d: header needs %d bytes, %d left", i+1, m, recordHdrLen, len(b)-off)
		}
		ns := int(binary.BigEndian.Uint16(b[off+2:]))
		aux := int(b[off+1]) * 4
		end := off + recordHdrLen + ns*addrLen + aux
		if end > len(b) {
			return srcs, errAt("record number of sources", off+2, "record %d of %d: %d sources and %d aux bytes need %d bytes, %d left",
				i+1, m, ns, aux, end-off, len(b)-off)
		}
		total += ns
		off = end
	}
	if cap(srcs) < total {
		srcs = make([]netip.Addr, 0, total)
	}
	srcs = srcs[:0]
	if cap(r.Records) < m {
		r.Records = make([]Record, 0, m)
	}
	r.Records = r.Records[:0]
	off = v2ReportHdrLen
	for i := 0; i < m; i++ {
		ns := int(binary.BigEndian.Uint16(b[off+2:]))
		aux := int(b[off+1]) * 4
		rec := Record{Type: RecordType(b[off]), Group: addrAt(b, off+4)}
		start := len(srcs)
		for j := 0; j < ns; j++ {
			srcs = append(srcs, addrAt(b, off+recordHdrLen+j*addrLen))
		}
		rec.Sources = srcs[start:len(srcs):len(srcs)]
		if aux > 0 {
			p := off + recordHdrLen + ns*addrLen
			rec.AuxData = b[p : p+aux : p+aux]
		}
		r.Records = append(r.Records, rec)
		off += recordHdrLen + ns*addrLen + aux
	}
	return srcs, nil
}

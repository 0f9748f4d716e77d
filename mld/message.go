package mld

import (
	"fmt"
	"net/netip"
	"time"
)

// Type is the ICMPv6 type of an MLD message.
type Type uint8

// MLD message types (RFC 2710 §3, RFC 3810 §5).
const (
	TypeQuery    Type = 130 // Multicast Listener Query, v1 and v2
	TypeV1Report Type = 131 // Version 1 Multicast Listener Report
	TypeV1Done   Type = 132 // Multicast Listener Done
	TypeV2Report Type = 143 // Version 2 Multicast Listener Report
)

func (t Type) String() string {
	switch t {
	case TypeQuery:
		return "query"
	case TypeV1Report:
		return "v1-report"
	case TypeV1Done:
		return "v1-done"
	case TypeV2Report:
		return "v2-report"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Message sizes.
const (
	v1MessageLen    = 24 // RFC 2710 §3: every MLDv1 message
	v2QueryHdrLen   = 28 // RFC 3810 §5.1: query without sources
	v2ReportHdrLen  = 8  // RFC 3810 §5.2: report without records
	recordHdrLen    = 20 // RFC 3810 §5.2.4: record without sources and aux data
	addrLen         = 16
	maxQuerySources = (1280 - 40 - 8 - v2QueryHdrLen) / addrLen // fits the IPv6 minimum MTU with a HBH header
)

// Message is a decoded MLD message: *Query, *Report, *V1Report or *V1Done.
type Message interface {
	Type() Type
	// appendBody appends the message with a zero checksum field.
	appendBody(b []byte) []byte
}

// Query is a Multicast Listener Query.
//
// MLDv2 (RFC 3810 §5.1), 28 + 16*N bytes:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Type = 130   |      Code     |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    Maximum Response Code      |           Reserved            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                       Multicast Address                       *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                       Source Address [1..N]                   *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// MLDv1 (RFC 2710 §3) is the first 24 bytes, with the Maximum Response Delay
// in milliseconds where v2 has the Maximum Response Code. RFC 3810 §8.1: a
// query of exactly 24 bytes is v1, one of 28 or more is v2.
type Query struct {
	V1 bool // a 24-byte MLDv1 query
	// MaxRespCode is the raw field: v1, the delay in ms; v2, see
	// DecodeMaxRespCode. Use MaxResponseDelay.
	MaxRespCode uint16
	Group       netip.Addr // :: in a General Query
	// SuppressRouterSide is the S flag (RFC 3810 §5.1.7): receiving routers
	// skip the timer updates of §7.6.1.
	SuppressRouterSide bool
	QRV                uint8 // Querier's Robustness Variable, 0..7 (0: above 7)
	QQIC               uint8 // Querier's Query Interval Code, see DecodeQQIC
	Sources            []netip.Addr
}

// Type returns TypeQuery.
func (*Query) Type() Type { return TypeQuery }

// MaxResponseDelay returns the delay the query allows for responses.
func (q *Query) MaxResponseDelay() time.Duration {
	if q.V1 {
		return time.Duration(q.MaxRespCode) * time.Millisecond
	}
	return DecodeMaxRespCode(q.MaxRespCode)
}

// QueryInterval returns the Querier's Query Interval (0 for v1 or unset).
func (q *Query) QueryInterval() time.Duration {
	if q.V1 {
		return 0
	}
	return DecodeQQIC(q.QQIC)
}

// IsGeneral reports whether this is a General Query (RFC 3810 §5.1.10).
func (q *Query) IsGeneral() bool { return !q.Group.IsValid() || q.Group.IsUnspecified() }

func (q *Query) appendBody(b []byte) []byte {
	b = append(b, byte(TypeQuery), 0, 0, 0, byte(q.MaxRespCode>>8), byte(q.MaxRespCode), 0, 0)
	b = appendAddr(b, q.Group)
	if q.V1 {
		return b
	}
	flags := q.QRV & 7
	if q.SuppressRouterSide {
		flags |= 8
	}
	n := len(q.Sources)
	b = append(b, flags, q.QQIC, byte(n>>8), byte(n))
	for _, s := range q.Sources {
		b = appendAddr(b, s)
	}
	return b
}

// RecordType is the type of a Multicast Address Record (RFC 3810 §5.2.12).
type RecordType uint8

// Record types. Current State Records (§5.2.12): IS_IN, IS_EX. Filter Mode
// Change Records: TO_IN, TO_EX. Source List Change Records: ALLOW, BLOCK.
const (
	ModeIsInclude   RecordType = 1
	ModeIsExclude   RecordType = 2
	ChangeToInclude RecordType = 3
	ChangeToExclude RecordType = 4
	AllowNewSources RecordType = 5
	BlockOldSources RecordType = 6
)

func (t RecordType) String() string {
	switch t {
	case ModeIsInclude:
		return "IS_IN"
	case ModeIsExclude:
		return "IS_EX"
	case ChangeToInclude:
		return "TO_IN"
	case ChangeToExclude:
		return "TO_EX"
	case AllowNewSources:
		return "ALLOW"
	case BlockOldSources:
		return "BLOCK"
	}
	return fmt.Sprintf("record(%d)", uint8(t))
}

// Record is a Multicast Address Record (RFC 3810 §5.2.4):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Record Type  |  Aux Data Len |     Number of Sources (N)     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                       Multicast Address                       *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                       Source Address [1..N]                   *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                         Auxiliary Data                        *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Aux Data Len counts 32-bit words.
type Record struct {
	Type    RecordType
	Group   netip.Addr
	Sources []netip.Addr
	AuxData []byte // length a multiple of 4, at most 1020; Parse aliases its input
}

// Report is a Version 2 Multicast Listener Report (RFC 3810 §5.2):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Type = 143   |    Reserved   |           Checksum            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           Reserved            |Nr of Mcast Address Records (M)|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	*                  Multicast Address Record [1..M]              *
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Report struct {
	Records []Record
}

// Type returns TypeV2Report.
func (*Report) Type() Type { return TypeV2Report }

func (r *Report) appendBody(b []byte) []byte {
	n := len(r.Records)
	b = append(b, byte(TypeV2Report), 0, 0, 0, 0, 0, byte(n>>8), byte(n))
	for i := range r.Records {
		rec := &r.Records[i]
		ns := len(rec.Sources)
		b = append(b, byte(rec.Type), byte(len(rec.AuxData)/4), byte(ns>>8), byte(ns))
		b = appendAddr(b, rec.Group)
		for _, s := range rec.Sources {
			b = appendAddr(b, s)
		}
		b = append(b, rec.AuxData[:len(rec.AuxData)/4*4]...)
	}
	return b
}

// V1Report is a Version 1 Multicast Listener Report (RFC 2710 §3): the
// 24-byte layout of a v1 query with type 131 and the group listened to.
type V1Report struct{ Group netip.Addr }

// Type returns TypeV1Report.
func (*V1Report) Type() Type { return TypeV1Report }

func (r *V1Report) appendBody(b []byte) []byte {
	b = append(b, byte(TypeV1Report), 0, 0, 0, 0, 0, 0, 0)
	return appendAddr(b, r.Group)
}

// V1Done is a Multicast Listener Done (RFC 2710 §3), type 132.
type V1Done struct{ Group netip.Addr }

// Type returns TypeV1Done.
func (*V1Done) Type() Type { return TypeV1Done }

func (d *V1Done) appendBody(b []byte) []byte {
	b = append(b, byte(TypeV1Done), 0, 0, 0, 0, 0, 0, 0)
	return appendAddr(b, d.Group)
}

// Marshal returns m encoded with its ICMPv6 checksum computed for a packet
// from src to dst.
func Marshal(m Message, src, dst netip.Addr) []byte {
	return Append(nil, m, src, dst)
}

// Append appends m, checksummed for src and dst, to b.
func Append(b []byte, m Message, src, dst netip.Addr) []byte {
	start := len(b)
	b = m.appendBody(b)
	setChecksum(src, dst, b[start:])
	return b
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		var z [16]byte
		return append(b, z[:]...)
	}
	a16 := a.As16()
	return append(b, a16[:]...)
}

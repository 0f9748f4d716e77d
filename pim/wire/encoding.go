package wire

import "net/netip"

// Address encodings of RFC 7761 §4.9.1, IPv6 only.
//
// Encoded-Unicast address:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Addr Family  | Encoding Type |     Unicast Address
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+...
//
// Encoded-Group address:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Addr Family  | Encoding Type |B| Reserved  |Z|  Mask Len     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Group multicast Address
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+...
//
// Encoded-Source address:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| Addr Family   | Encoding Type | Rsrvd   |S|W|R|  Mask Len     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                        Source Address
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-...

const (
	// FamilyIPv6 is the IANA address family number of IPv6, the only one
	// pim6d accepts (RFC 7761 §4.9.1, "Addr Family").
	FamilyIPv6 = 2
	// EncodingNative is the native encoding of the address family; RFC 7761
	// §4.9.1 defines no other for these fields.
	EncodingNative = 0

	encUnicastLen = 2 + 16
	encGroupLen   = 4 + 16
	encSourceLen  = 4 + 16

	groupFlagBidir      = 0x80 // B
	groupFlagAdminScope = 0x01 // Z
	srcFlagSparse       = 0x04 // S
	srcFlagWC           = 0x02 // W
	srcFlagRPT          = 0x01 // R
)

// reader walks a PIM message, remembering the message type for errors. off is
// the offset of b[0] from the PIM header, so errors name absolute offsets.
type reader struct {
	t   Type
	b   []byte
	off int
}

func (r *reader) need(n int, field string) error {
	if len(r.b) < n {
		return perr(r.t, field, r.off, ErrTruncated)
	}
	return nil
}

func (r *reader) skip(n int) {
	r.b = r.b[n:]
	r.off += n
}

func (r *reader) u8(field string) (uint8, error) {
	if err := r.need(1, field); err != nil {
		return 0, err
	}
	v := r.b[0]
	r.skip(1)
	return v, nil
}

func (r *reader) u16(field string) (uint16, error) {
	if err := r.need(2, field); err != nil {
		return 0, err
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.skip(2)
	return v, nil
}

func (r *reader) u32(field string) (uint32, error) {
	if err := r.need(4, field); err != nil {
		return 0, err
	}
	v := uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.skip(4)
	return v, nil
}

// family checks the family and encoding-type octets at r.b[0:2].
func (r *reader) family(field string) error {
	if r.b[0] != FamilyIPv6 {
		return perr(r.t, field+".family", r.off, ErrBadAddressFamily)
	}
	if r.b[1] != EncodingNative {
		return perr(r.t, field+".encoding", r.off+1, ErrBadEncoding)
	}
	return nil
}

func (r *reader) unicast(field string) (netip.Addr, error) {
	if err := r.need(encUnicastLen, field); err != nil {
		return netip.Addr{}, err
	}
	if err := r.family(field); err != nil {
		return netip.Addr{}, err
	}
	a := netip.AddrFrom16([16]byte(r.b[2:18]))
	r.skip(encUnicastLen)
	return a, nil
}

func (r *reader) group(field string) (EncodedGroup, error) {
	if err := r.need(encGroupLen, field); err != nil {
		return EncodedGroup{}, err
	}
	if err := r.family(field); err != nil {
		return EncodedGroup{}, err
	}
	if r.b[3] > 128 {
		return EncodedGroup{}, perr(r.t, field+".masklen", r.off+3, ErrBadMaskLen)
	}
	g := EncodedGroup{
		Addr:       netip.AddrFrom16([16]byte(r.b[4:20])),
		MaskLen:    r.b[3],
		Bidir:      r.b[2]&groupFlagBidir != 0,
		AdminScope: r.b[2]&groupFlagAdminScope != 0,
	}
	r.skip(encGroupLen)
	return g, nil
}

func (r *reader) source(field string) (EncodedSource, error) {
	if err := r.need(encSourceLen, field); err != nil {
		return EncodedSource{}, err
	}
	if err := r.family(field); err != nil {
		return EncodedSource{}, err
	}
	if r.b[3] > 128 {
		return EncodedSource{}, perr(r.t, field+".masklen", r.off+3, ErrBadMaskLen)
	}
	s := EncodedSource{
		Addr:    netip.AddrFrom16([16]byte(r.b[4:20])),
		MaskLen: r.b[3],
		Sparse:  r.b[2]&srcFlagSparse != 0,
		WC:      r.b[2]&srcFlagWC != 0,
		RPT:     r.b[2]&srcFlagRPT != 0,
	}
	r.skip(encSourceLen)
	return s, nil
}

// writer appends a PIM message to b; start is the offset of the PIM header in
// b, so errors name offsets from the header.
type writer struct {
	t     Type
	b     []byte
	start int
	err   error
}

func (w *writer) fail(field string, err error) {
	if w.err == nil {
		w.err = perr(w.t, field, len(w.b)-w.start, err)
	}
}

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = append(w.b, byte(v>>8), byte(v)) }
func (w *writer) u32(v uint32) {
	w.b = append(w.b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// addr16 returns the 16 bytes of an IPv6 address; an IPv4 or invalid address
// is an error (allowUnspec makes the zero Addr mean ::). An IPv4-mapped IPv6
// address is an IPv6 address on the wire and is written as such.
func (w *writer) addr16(field string, a netip.Addr, allowUnspec bool) [16]byte {
	if !a.IsValid() && allowUnspec {
		return [16]byte{}
	}
	if !a.Is6() {
		w.fail(field, ErrBadAddressFamily)
	}
	return a.As16()
}

func (w *writer) unicast(field string, a netip.Addr, allowUnspec bool) {
	ip := w.addr16(field, a, allowUnspec)
	w.b = append(w.b, FamilyIPv6, EncodingNative)
	w.b = append(w.b, ip[:]...)
}

func (w *writer) group(field string, g EncodedGroup) {
	ip := w.addr16(field, g.Addr, false)
	if g.MaskLen > 128 {
		w.fail(field+".masklen", ErrBadMaskLen)
	}
	var flags byte
	if g.Bidir {
		flags |= groupFlagBidir
	}
	if g.AdminScope {
		flags |= groupFlagAdminScope
	}
	w.b = append(w.b, FamilyIPv6, EncodingNative, flags, g.MaskLen)
	w.b = append(w.b, ip[:]...)
}

func (w *writer) source(field string, s EncodedSource) {
	ip := w.addr16(field, s.Addr, false)
	if s.MaskLen > 128 {
		w.fail(field+".masklen", ErrBadMaskLen)
	}
	var flags byte
	if s.Sparse {
		flags |= srcFlagSparse
	}
	if s.WC {
		flags |= srcFlagWC
	}
	if s.RPT {
		flags |= srcFlagRPT
	}
	w.b = append(w.b, FamilyIPv6, EncodingNative, flags, s.MaskLen)
	w.b = append(w.b, ip[:]...)
}

// Helpers for building encoded addresses, RFC 7761 §4.9.1 and §4.9.5.1.

// GroupOf returns the Encoded-Group of a single group address (mask length 128).
func GroupOf(g netip.Addr) EncodedGroup { return EncodedGroup{Addr: g, MaskLen: 128} }

// SourceOf returns the Encoded-Source of an (S,G) join or prune: S bit set,
// mask length 128.
func SourceOf(s netip.Addr) EncodedSource {
	return EncodedSource{Addr: s, MaskLen: 128, Sparse: true}
}

// WildcardRP returns the Encoded-Source of a (*,G) join or prune: the RP
// address with the S, W and R bits set (RFC 7761 §4.9.5.1).
func WildcardRP(rp netip.Addr) EncodedSource {
	return EncodedSource{Addr: rp, MaskLen: 128, Sparse: true, WC: true, RPT: true}
}

// RPTSource returns the Encoded-Source of an (S,G,rpt) prune or join: S and R
// bits set, W clear.
func RPTSource(s netip.Addr) EncodedSource {
	return EncodedSource{Addr: s, MaskLen: 128, Sparse: true, RPT: true}
}

// Prefix returns the group range the Encoded-Group names.
func (g EncodedGroup) Prefix() netip.Prefix {
	p, err := g.Addr.Prefix(int(g.MaskLen))
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

package pim

import (
	"time"

	"github.com/pim6d/pim6d/pim/wire"
	"github.com/pim6d/pim6d/stack"
)

// ReceivePacket validates and decodes a PIM packet from the stack
// (wire.Validate, wire.Parse) and handles it as Receive does. Packets the codec
// rejects are counted under "codec-" + wire.DropReason(err) and change no state.
func (r *Router) ReceivePacket(now time.Time, p stack.Packet) {
	if err := wire.Validate(p); err != nil {
		r.codecDrop(err)
		return
	}
	m, err := wire.Parse(p.Src.WithZone(""), p.Dst.WithZone(""), p.Payload)
	if err != nil {
		r.codecDrop(err)
		return
	}
	r.Receive(now, p.LinkIndex, p.Src, p.Dst, m)
}

func (r *Router) codecDrop(err error) {
	if r.codecDrops == nil {
		r.codecDrops = make(map[string]uint64)
	}
	r.codecDrops["codec-"+wire.DropReason(err)]++
}

// Packet encodes the message for the stack, checksum included. Link-scoped
// messages go out with hop limit 1 (RFC 7761 §4.9).
func (s Send) Packet() (stack.OutPacket, error) {
	b, err := wire.Marshal(s.Src.WithZone(""), s.Dst.WithZone(""), s.Message)
	if err != nil {
		return stack.OutPacket{}, err
	}
	hl := 0
	if s.Dst.IsLinkLocalMulticast() {
		hl = 1
	}
	return stack.OutPacket{LinkIndex: s.Interface, Src: s.Src, Dst: s.Dst, HopLimit: hl, Proto: stack.ProtoPIM, Payload: b}, nil
}

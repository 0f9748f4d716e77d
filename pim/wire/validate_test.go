package wire

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/pim6d/pim6d/stack"
)

func TestValidate(t *testing.T) {
	hello := []byte{0x20, 0, 0, 0}
	jp := []byte{0x23, 0, 0, 0}
	assert := []byte{0x25, 0, 0, 0}
	reg := []byte{0x21, 0, 0, 0}
	bsm := []byte{0x24, 0x80, 0, 0}
	graft := []byte{0x26, 0, 0, 0}
	ok := func(payload []byte) stack.Packet {
		return stack.Packet{LinkIndex: 2, Src: llA.WithZone("eth0"), Dst: AllPIMRouters, HopLimit: 1, Proto: stack.ProtoPIM, Payload: payload}
	}
	uni := func(payload []byte) stack.Packet {
		return stack.Packet{Src: dr, Dst: rpAddr, HopLimit: 63, Proto: stack.ProtoPIM, Payload: payload}
	}
	with := func(p stack.Packet, f func(*stack.Packet)) stack.Packet { f(&p); return p }
	tests := []struct {
		name string
		pkt  stack.Packet
		want error
	}{
		{"hello from link-local to ff02::d, hop limit 1", ok(hello), nil},
		{"join/prune from link-local to ff02::d", ok(jp), nil},
		{"assert from link-local to ff02::d", ok(assert), nil},
		{"hello from a global source", with(ok(hello), func(p *stack.Packet) { p.Src = dr }), ErrSourceNotLL},
		{"join/prune from a global source", with(ok(jp), func(p *stack.Packet) { p.Src = dr }), ErrSourceNotLL},
		{"hello to ff02::1", with(ok(hello), func(p *stack.Packet) { p.Dst = netip.MustParseAddr("ff02::1") }), ErrBadDestination},
		{"join/prune unicast to a neighbour", with(ok(jp), func(p *stack.Packet) { p.Dst = llB }), ErrBadDestination},
		{"hello with hop limit 255", with(ok(hello), func(p *stack.Packet) { p.HopLimit = 255 }), ErrBadHopLimit},
		{"join/prune with hop limit 2", with(ok(jp), func(p *stack.Packet) { p.HopLimit = 2 }), ErrBadHopLimit},
		{"hello over ICMPv6", with(ok(hello), func(p *stack.Packet) { p.Proto = stack.ProtoICMPv6 }), ErrNotPIM},
		{"empty payload", ok(nil), ErrTruncated},
		{"register between globals", uni(reg), nil},
		{"register to ff02::d", with(uni(reg), func(p *stack.Packet) { p.Dst = AllPIMRouters }), ErrBadDestination},
		{"register from link-local", with(uni(reg), func(p *stack.Packet) { p.Src = llA }), ErrBadSource},
		{"bootstrap flooded to ff02::d", ok(bsm), nil},
		{"bootstrap flooded with hop limit 5", with(ok(bsm), func(p *stack.Packet) { p.HopLimit = 5 }), ErrBadHopLimit},
		{"no-forward bootstrap unicast to a new neighbour", with(ok(bsm), func(p *stack.Packet) { p.Dst = llB }), nil},
		{"graft is an unknown type", ok(graft), ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.pkt)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Validate(%s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func TestValidateLinkScopedIgnoresType(t *testing.T) {
	// ValidateLinkScoped applies the link-scoped rule whatever the type, for
	// callers that have already dispatched on it.
	p := stack.Packet{Src: dr, Dst: rpAddr, HopLimit: 64, Proto: stack.ProtoPIM, Payload: []byte{0x21, 0, 0, 0}}
	if err := ValidateLinkScoped(p); !errors.Is(err, ErrSourceNotLL) {
		t.Errorf("ValidateLinkScoped(register from a global) = %v, want ErrSourceNotLL", err)
	}
}

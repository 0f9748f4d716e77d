//go:build linux

package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

var (
	pimAllRoutersGroup   = netip.MustParseAddr("ff02::d")
	mldAllV2RoutersGroup = netip.MustParseAddr("ff02::16")
)

// ICMPv6 types of MLD (RFC 2710 §3, RFC 3810 §5).
const (
	icmpMLDQuery    = 130
	icmpMLDv1Report = 131
	icmpMLDv1Done   = 132
	icmpMLDv2Report = 143
)

// controlRecvBuf is the receive buffer of the control sockets: a burst of
// reports after a general query on a busy link, or thousands of joins at
// once, must not be lost. SO_RCVBUFFORCE (we run as root) is not capped by
// net.core.rmem_max, which is only 416 KiB on a stock kernel; setRecvBuf falls
// back to SO_RCVBUF without the privilege.
const controlRecvBuf = 16 << 20

func setRecvBuf(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, controlRecvBuf); err == nil {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, controlRecvBuf); err != nil {
		return fmt.Errorf("SO_RCVBUF: %w", err)
	}
	return nil
}

// openControlSockets opens the PIM, ICMPv6 and AF_PACKET sockets in the
// stack's namespace.
func (l *Linux) openControlSockets() error {
	var err error
	// PIM: the kernel delivers every PIM packet for this host (unicast to its
	// addresses, multicast to the groups joined) with the arrival link and
	// destination (IPV6_PKTINFO) and hop limit. No IPV6_CHECKSUM: with it the
	// kernel would check every packet over its whole length, and a Register's
	// checksum covers only the PIM header (RFC 7761 §4.9.3); the codec checks.
	l.pim, err = openSocket(l.ns, "pim", unix.AF_INET6, unix.SOCK_RAW, ProtoPIM, func(fd int) error {
		err := setIntOpts(fd, []intOpt{
			{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS, 1, "IPV6_RECVHOPOPTS"},
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1, "IPV6_MULTICAST_HOPS"},
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP"},
		})
		if err != nil {
			return err
		}
		return setRecvBuf(fd)
	})
	if err != nil {
		return err
	}
	// ICMPv6: sends MLD. It reads nothing (MLD arrives through AF_PACKET), so
	// it blocks every ICMPv6 type to keep its receive queue empty. The kernel
	// computes the ICMPv6 checksum of what it sends (RFC 3542 §3.1).
	l.icmp, err = openSocket(l.ns, "icmpv6", unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6, func(fd int) error {
		var blockAll unix.ICMPv6Filter
		for i := range blockAll.Data {
			blockAll.Data[i] = ^uint32(0)
		}
		if err := unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &blockAll); err != nil {
			return fmt.Errorf("ICMPV6_FILTER: %w", err)
		}
		return setIntOpts(fd, []intOpt{
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1, "IPV6_MULTICAST_HOPS"},
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP"},
		})
	})
	if err != nil {
		return err
	}
	// MLD: one AF_PACKET socket for all links, cooked (SOCK_DGRAM: data starts
	// at the IPv6 header on any link type), with a kernel filter that passes
	// only MLD. Created with protocol 0 so nothing arrives before the filter
	// is attached, then bound to ETH_P_IPV6 on every link.
	prog, err := mldFilter(true)
	if err != nil {
		return err
	}
	l.mld, err = openSocket(l.ns, "mld packet", unix.AF_PACKET, unix.SOCK_DGRAM, 0, func(fd int) error {
		if err := attachFilter(fd, prog); err != nil {
			return err
		}
		if err := setRecvBuf(fd); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: hostToNet16(unix.ETH_P_IPV6)})
	})
	return err
}

type intOpt struct {
	level, opt, val int
	name            string
}

func setIntOpts(fd int, opts []intOpt) error {
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
	}
	return nil
}

func hostToNet16(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// joinControlGroups puts the memberships of a control link in place once it
// is up: ff02::d on the PIM socket (RFC 7761 §4.3.1: Hellos go to
// ALL-PIM-ROUTERS), ff02::16 on the ICMPv6 socket (so the kernel accepts
// MLDv2 reports), and all-multicast on the AF_PACKET socket (so the NIC
// passes reports sent to any group, as MLDv1 ones are). The kernel keeps
// them while the link is down and drops them with the link.
func (l *Linux) joinControlGroups(lk Link) {
	if !lk.Up || !lk.Multicast || lk.Loopback || l.joined[lk.Index] {
		return
	}
	var errs []error
	join := func(s *lxSocket, group netip.Addr) {
		mreq := unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(lk.Index)}
		err := s.control(func(fd int) error {
			return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, &mreq)
		})
		if err != nil && !errors.Is(err, unix.EADDRINUSE) { // EADDRINUSE: already joined
			errs = append(errs, fmt.Errorf("join %s: %w", group, err))
		}
	}
	join(l.pim, pimAllRoutersGroup)
	join(l.icmp, mldAllV2RoutersGroup)
	mr := unix.PacketMreq{Ifindex: int32(lk.Index), Type: unix.PACKET_MR_ALLMULTI}
	if err := l.mld.control(func(fd int) error {
		return unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr)
	}); err != nil {
		errs = append(errs, fmt.Errorf("all-multicast: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		l.log.Warn("control-packet membership incomplete", "link", lk.Name, "index", lk.Index, "err", err)
		if len(errs) == 3 {
			return // nothing in place: try again on the next link message
		}
	}
	l.joined[lk.Index] = true
}

// mldFilter is the classic BPF program of the MLD socket. It runs on cooked
// frames (offset 0 is the IPv6 header) and passes IPv6 packets that carry an
// ICMPv6 MLD message (types 130, 131, 132, 143) directly or after a
// hop-by-hop header, plus hop-by-hop chains continuing with routing or
// destination options, which it cannot walk (ParseIPv6 does). tcpdump's
// "icmp6" does not look past the hop-by-hop header, where MLD always sits.
// withPktType also drops the frames this host sends (PACKET_OUTGOING). A socket
// bound to ETH_P_IPV6 gets none (the kernel copies outgoing frames only to
// ETH_P_ALL taps; measured on 6.18), so this guards a change of binding. The
// program without it runs in the x/net/bpf VM in tests.
func mldFilter(withPktType bool) ([]bpf.RawInstruction, error) {
	const (
		accept = "accept"
		drop   = "drop"
	)
	var prog []bpfStep
	if withPktType {
		prog = append(prog,
			bpfStep{ins: bpf.LoadExtension{Num: bpf.ExtType}},
			bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING}, jt: drop},
		)
	}
	prog = append(prog,
		bpfStep{ins: bpf.LoadAbsolute{Off: 0, Size: 1}},
		bpfStep{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x60}, jf: drop},
		bpfStep{ins: bpf.LoadAbsolute{Off: 6, Size: 1}}, // next header
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: ProtoICMPv6}, jt: "direct"},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: nhHopByHop}, jf: drop},
		bpfStep{ins: bpf.LoadAbsolute{Off: 40, Size: 1}}, // hop-by-hop's next header
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: ProtoICMPv6}, jt: "hbh-icmp"},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: nhRouting}, jt: accept},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: nhDestOpts}, jt: accept, jf: drop},
		// X = 40 + hop-by-hop length, the ICMPv6 header's offset minus 40.
		bpfStep{label: "hbh-icmp", ins: bpf.LoadAbsolute{Off: 41, Size: 1}},
		bpfStep{ins: bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 1}},
		bpfStep{ins: bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 3}},
		bpfStep{ins: bpf.TAX{}},
		bpfStep{ins: bpf.LoadIndirect{Off: 40, Size: 1}},
		bpfStep{ins: bpf.Jump{}, ja: "type"},
		bpfStep{label: "direct", ins: bpf.LoadAbsolute{Off: 40, Size: 1}},
		bpfStep{label: "type", ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpMLDQuery}, jt: accept},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpMLDv1Report}, jt: accept},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpMLDv1Done}, jt: accept},
		bpfStep{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpMLDv2Report}, jt: accept, jf: drop},
		bpfStep{label: accept, ins: bpf.RetConstant{Val: 1 << 18}},
		bpfStep{label: drop, ins: bpf.RetConstant{Val: 0}},
	)
	return assembleBPF(prog)
}

// bpfStep is one instruction with symbolic jump targets (labels of later
// steps), so the program reads without hand-counted offsets.
type bpfStep struct {
	label      string
	ins        bpf.Instruction
	jt, jf, ja string
}

func assembleBPF(prog []bpfStep) ([]bpf.RawInstruction, error) {
	at := make(map[string]int)
	for i, s := range prog {
		if s.label != "" {
			at[s.label] = i
		}
	}
	skip := func(i int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		t, ok := at[label]
		if !ok || t <= i || t-i-1 > 255 {
			return 0, fmt.Errorf("bpf: step %d: bad jump to %q", i, label)
		}
		return uint8(t - i - 1), nil
	}
	ins := make([]bpf.Instruction, len(prog))
	for i, s := range prog {
		switch in := s.ins.(type) {
		case bpf.JumpIf:
			var err error
			if in.SkipTrue, err = skip(i, s.jt); err != nil {
				return nil, err
			}
			if in.SkipFalse, err = skip(i, s.jf); err != nil {
				return nil, err
			}
			ins[i] = in
		case bpf.Jump:
			n, err := skip(i, s.ja)
			if err != nil {
				return nil, err
			}
			in.Skip = uint32(n)
			ins[i] = in
		default:
			ins[i] = s.ins
		}
	}
	return bpf.Assemble(ins)
}

func attachFilter(fd int, prog []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(prog))
	for i, r := range prog {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("SO_ATTACH_FILTER: %w", err)
	}
	return nil
}

// mldLoop reads MLD from the AF_PACKET socket.
func (l *Linux) mldLoop() {
	defer l.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, _, flags, from, err := l.mld.recvmsg(buf, nil)
		if l.closed() {
			return
		}
		if err != nil {
			l.log.Warn("MLD receive failed", "err", err)
			continue
		}
		sll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || sll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			l.stats.dropTruncated.Add(1)
			continue
		}
		p, ok := l.mldPacket(buf[:n], sll.Ifindex)
		if !ok {
			continue
		}
		l.stats.mldReceived.Add(1)
		if !l.emit(PacketEvent{Packet: p}) {
			return
		}
	}
}

// mldPacket turns a received IPv6 packet into an MLD Packet, counting what it
// drops.
func (l *Linux) mldPacket(b []byte, link int) (Packet, bool) {
	l.mu.RLock()
	lk, known := l.links[link]
	l.mu.RUnlock()
	if known && lk.Loopback {
		return Packet{}, false
	}
	h, err := ParseIPv6(b)
	if err != nil {
		l.stats.dropMalformed.Add(1)
		l.log.Debug("MLD packet dropped", "link", link, "err", err)
		return Packet{}, false
	}
	if h.Fragment {
		l.stats.dropFragment.Add(1)
		return Packet{}, false
	}
	payload := h.Payload(b)
	if h.Proto != ProtoICMPv6 || len(payload) == 0 || !isMLDType(payload[0]) {
		l.stats.dropNotMLD.Add(1)
		return Packet{}, false
	}
	return Packet{
		LinkIndex:   link,
		Src:         h.Src,
		Dst:         h.Dst,
		HopLimit:    h.HopLimit,
		RouterAlert: h.RouterAlert,
		Proto:       ProtoICMPv6,
		Payload:     slices.Clone(payload),
	}, true
}

func isMLDType(t byte) bool {
	return t == icmpMLDQuery || t == icmpMLDv1Report || t == icmpMLDv1Done || t == icmpMLDv2Report
}

// pimLoop reads PIM from the raw socket.
func (l *Linux) pimLoop() {
	defer l.wg.Done()
	buf := make([]byte, 1<<16)
	oob := make([]byte, 2*unix.CmsgSpace(unix.SizeofInet6Pktinfo)+unix.CmsgSpace(4)+unix.CmsgSpace(256))
	for {
		n, oobn, flags, from, err := l.pim.recvmsg(buf, oob)
		if l.closed() {
			return
		}
		if err != nil {
			l.log.Warn("PIM receive failed", "err", err)
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			l.stats.dropTruncated.Add(1)
			continue
		}
		sa, ok := from.(*unix.SockaddrInet6)
		if !ok {
			continue
		}
		p := Packet{Src: netip.AddrFrom16(sa.Addr), Proto: ProtoPIM, Payload: slices.Clone(buf[:n]), HopLimit: -1}
		if !parseControlMessages(oob[:oobn], &p) || p.HopLimit < 0 {
			l.stats.dropNoPacketInfo.Add(1)
			continue
		}
		l.stats.pimReceived.Add(1)
		if !l.emit(PacketEvent{Packet: p}) {
			return
		}
	}
}

// parseControlMessages fills the arrival link, destination, hop limit and
// router alert of p from a raw socket's ancillary data. It reports whether
// the packet information was there.
func parseControlMessages(oob []byte, p *Packet) bool {
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return false
	}
	havePktinfo := false
	for _, cm := range cms {
		if cm.Header.Level != unix.IPPROTO_IPV6 {
			continue
		}
		switch cm.Header.Type {
		case unix.IPV6_PKTINFO:
			if len(cm.Data) >= unix.SizeofInet6Pktinfo {
				p.Dst = netip.AddrFrom16([16]byte(cm.Data[:16]))
				p.LinkIndex = int(binary.NativeEndian.Uint32(cm.Data[16:20]))
				havePktinfo = true
			}
		case unix.IPV6_HOPLIMIT:
			if len(cm.Data) >= 4 {
				p.HopLimit = int(int32(binary.NativeEndian.Uint32(cm.Data[:4])))
			}
		case unix.IPV6_HOPOPTS:
			// The whole hop-by-hop header; parse it as the options of a
			// packet to reuse the option walk.
			var h IPv6Header
			if len(cm.Data) >= 8 && h.parseHopByHop(cm.Data, 0) == nil {
				p.RouterAlert = h.RouterAlert
			}
		}
	}
	return havePktinfo
}

// routerAlertHopOpts is a hop-by-hop header holding a Router Alert option
// with value 0, "Multicast Listener Discovery message" (RFC 2711 §2.1), and a
// two-byte PadN to fill 8 bytes. The kernel fills in the Next Header byte.
var routerAlertHopOpts = [8]byte{0, 0, optRouterAl, 2, 0, 0, 1, 0}

// Send sends a control packet: PIM (Proto 103) through the raw PIM socket,
// MLD (Proto 58) through the raw ICMPv6 socket. Src and LinkIndex go in
// IPV6_PKTINFO; a link-scoped destination with HopLimit 0 gets hop limit 1.
func (l *Linux) Send(p OutPacket) error {
	if l.closed() {
		return errors.New("stack closed")
	}
	var s *lxSocket
	switch p.Proto {
	case ProtoPIM:
		s = l.pim
	case ProtoICMPv6:
		s = l.icmp
	default:
		return fmt.Errorf("send: protocol %d is not a control protocol", p.Proto)
	}
	if !p.Dst.Is6() || p.Dst.Is4In6() {
		return fmt.Errorf("send: destination %v is not an IPv6 address", p.Dst)
	}
	if p.Src.IsValid() && (!p.Src.Is6() || p.Src.Is4In6()) {
		return fmt.Errorf("send: source %v is not an IPv6 address", p.Src)
	}
	dst := p.Dst.WithZone("")
	hop := p.HopLimit
	if hop == 0 && scopedAddr(dst) {
		hop = 1
	}
	if hop < 0 || hop > 255 {
		return fmt.Errorf("send: hop limit %d", p.HopLimit)
	}
	if scopedAddr(dst) && p.LinkIndex == 0 {
		return fmt.Errorf("send: link-scoped destination %v without a link", dst)
	}
	oob := make([]byte, 0, unix.CmsgSpace(unix.SizeofInet6Pktinfo)+unix.CmsgSpace(4)+unix.CmsgSpace(8))
	var info [unix.SizeofInet6Pktinfo]byte
	if p.Src.IsValid() {
		a := p.Src.As16()
		copy(info[:16], a[:])
	}
	binary.NativeEndian.PutUint32(info[16:], uint32(p.LinkIndex))
	oob = appendCmsg(oob, unix.IPV6_PKTINFO, info[:])
	if hop > 0 {
		var h [4]byte
		binary.NativeEndian.PutUint32(h[:], uint32(hop))
		oob = appendCmsg(oob, unix.IPV6_HOPLIMIT, h[:])
	}
	if p.RouterAlert {
		oob = appendCmsg(oob, unix.IPV6_HOPOPTS, routerAlertHopOpts[:])
	}
	to := &unix.SockaddrInet6{Addr: dst.As16()}
	if scopedAddr(dst) {
		to.ZoneId = uint32(p.LinkIndex)
	}
	if err := s.sendmsg(p.Payload, oob, to); err != nil {
		return fmt.Errorf("send proto %d to %v on link %d: %w", p.Proto, dst, p.LinkIndex, err)
	}
	return nil
}

// appendCmsg appends one IPPROTO_IPV6 control message.
func appendCmsg(b []byte, typ int, data []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, unix.CmsgSpace(len(data)))...)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[start]))
	h.Level = unix.IPPROTO_IPV6
	h.Type = int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[start+unix.CmsgLen(0):], data)
	return b
}

//go:build linux

package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nlConn is a NETLINK_ROUTE socket: either subscribed to multicast groups
// (events) or used for request/response dumps.
type nlConn struct {
	s   *lxSocket
	pid uint32 // the socket's port id, to match dump replies
	seq uint32
	buf []byte
}

// Multicast groups the stack listens to (the legacy bit-mask form, which
// covers every group it needs).
const nlGroups = unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE

// nlRecvBuf is the receive buffer asked for the event socket: large enough
// that a burst (a full table flushed when a link goes down) rarely overflows
// it; an overflow is recovered by re-listing anyway.
const nlRecvBuf = 8 << 20

func openNetlink(ns netns.NsHandle, groups uint32) (*nlConn, error) {
	c := &nlConn{buf: make([]byte, 256<<10)}
	s, err := openSocket(ns, "netlink", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE, func(fd int) error {
		if groups != 0 {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, nlRecvBuf); err != nil {
				// Without CAP_NET_ADMIN: as much as rmem_max allows.
				_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, nlRecvBuf)
			}
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return err
		}
		if nsa, ok := sa.(*unix.SockaddrNetlink); ok {
			c.pid = nsa.Pid
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s = s
	return c, nil
}

// recv reads one datagram of netlink messages. The messages' data alias the
// connection's buffer until the next recv.
func (c *nlConn) recv() ([]syscall.NetlinkMessage, error) {
	n, _, _, _, err := c.s.recvmsg(c.buf, nil)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
	if err != nil {
		return nil, fmt.Errorf("netlink: parse %d bytes: %w", n, err)
	}
	return msgs, nil
}

// discardQueued drops every notification already queued on the socket. After
// an overflow the kernel reports ENOBUFS once and then drops silently until
// the queue has been emptied (NETLINK_S_CONGESTED): the queue must be empty
// before re-listing, so that any later loss is reported again.
func (c *nlConn) discardQueued() error {
	return c.s.control(func(fd int) error {
		for range 1 << 16 { // bounded: a kernel that never stops talking
			_, _, err := unix.Recvfrom(fd, c.buf, unix.MSG_DONTWAIT)
			switch err {
			case nil, unix.ENOBUFS, unix.EINTR:
			case unix.EAGAIN:
				return nil
			default:
				return err
			}
		}
		return nil
	})
}

var errDumpInterrupted = errors.New("netlink dump interrupted by a change")

// dump sends a dump request of type typ for family and returns the replies'
// data (copied). A dump the kernel marks as inconsistent (NLM_F_DUMP_INTR) is
// retried.
func (c *nlConn) dump(typ uint16, family uint8) ([][]byte, error) {
	for try := 0; ; try++ {
		out, err := c.dumpOnce(typ, family)
		if errors.Is(err, errDumpInterrupted) && try < 5 {
			continue
		}
		return out, err
	}
}

func (c *nlConn) dumpOnce(typ uint16, family uint8) ([][]byte, error) {
	// The request carries the fixed header of the message type; only its
	// family byte is set.
	var hdrLen int
	switch typ {
	case unix.RTM_GETLINK:
		hdrLen = unix.SizeofIfInfomsg
	case unix.RTM_GETADDR:
		hdrLen = unix.SizeofIfAddrmsg
	default:
		hdrLen = unix.SizeofRtMsg
	}
	c.seq++
	req := make([]byte, unix.NLMSG_HDRLEN+hdrLen)
	binary.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:6], typ)
	binary.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:12], c.seq)
	req[unix.NLMSG_HDRLEN] = family
	if err := c.s.sendmsg(req, nil, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink dump request %d: %w", typ, err)
	}
	var out [][]byte
	intr := false
	for {
		msgs, err := c.recv()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != c.seq || (c.pid != 0 && m.Header.Pid != c.pid) {
				continue // a reply to an earlier, abandoned request
			}
			if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
				intr = true
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				if intr {
					return nil, errDumpInterrupted
				}
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := -int32(binary.NativeEndian.Uint32(m.Data[:4])); errno != 0 {
						return nil, fmt.Errorf("netlink dump %d: %w", typ, syscall.Errno(errno))
					}
				}
				return out, nil
			default:
				out = append(out, append([]byte(nil), m.Data...))
			}
		}
	}
}

func (c *nlConn) close() error { return c.s.close() }

// nlAttrs walks the route attributes in b, calling f with each type (flag
// bits masked) and value. Malformed attributes end the walk with an error.
func nlAttrs(b []byte, f func(typ uint16, val []byte)) error {
	for off := 0; len(b)-off >= unix.SizeofRtAttr; {
		l := int(binary.NativeEndian.Uint16(b[off:]))
		typ := binary.NativeEndian.Uint16(b[off+2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.SizeofRtAttr || l > len(b)-off {
			return fmt.Errorf("netlink attribute %d at offset %d: length %d, %d bytes left", typ, off, l, len(b)-off)
		}
		f(typ, b[off+unix.SizeofRtAttr:off+l])
		off += (l + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
	}
	return nil
}

func nlUint32(v []byte) (uint32, bool) {
	if len(v) < 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(v), true
}

func nlAddr16(v []byte) (netip.Addr, bool) {
	if len(v) != 16 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16([16]byte(v)), true
}

// parseLinkMsg decodes an RTM_NEWLINK/RTM_DELLINK body (struct ifinfomsg and
// attributes). ok is false for messages about other families (bridge ports).
func parseLinkMsg(b []byte) (l Link, ok bool, err error) {
	if len(b) < unix.SizeofIfInfomsg {
		return l, false, fmt.Errorf("link message: %d bytes, shorter than ifinfomsg", len(b))
	}
	if b[0] != unix.AF_UNSPEC {
		return l, false, nil
	}
	l.Index = int(int32(binary.NativeEndian.Uint32(b[4:8])))
	flags := binary.NativeEndian.Uint32(b[8:12])
	// Up means usable: administratively up and with carrier (IFF_RUNNING).
	l.Up = flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
	l.Multicast = flags&unix.IFF_MULTICAST != 0
	l.Loopback = flags&unix.IFF_LOOPBACK != 0
	err = nlAttrs(b[unix.SizeofIfInfomsg:], func(typ uint16, v []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			for i, c := range v {
				if c == 0 {
					v = v[:i]
					break
				}
			}
			l.Name = string(v)
		case unix.IFLA_MTU:
			if m, ok := nlUint32(v); ok {
				l.MTU = int(m)
			}
		case unix.IFLA_ADDRESS:
			if len(v) > 0 {
				l.HardwareAddr = net.HardwareAddr(append([]byte(nil), v...))
			}
		}
	})
	if err != nil {
		return l, false, fmt.Errorf("link %d: %w", l.Index, err)
	}
	if l.Index <= 0 {
		return l, false, fmt.Errorf("link message: index %d", l.Index)
	}
	return l, true, nil
}

// parseAddrMsg decodes an RTM_NEWADDR/RTM_DELADDR body. usable is false for
// an address that cannot be a source yet or any more (tentative, DAD failed).
// ok is false for other families than IPv6.
func parseAddrMsg(b []byte) (a Addr, usable, ok bool, err error) {
	if len(b) < unix.SizeofIfAddrmsg {
		return a, false, false, fmt.Errorf("address message: %d bytes, shorter than ifaddrmsg", len(b))
	}
	if b[0] != unix.AF_INET6 {
		return a, false, false, nil
	}
	plen := int(b[1])
	flags := uint32(b[2])
	a.LinkIndex = int(binary.NativeEndian.Uint32(b[4:8]))
	var addr, local netip.Addr
	err = nlAttrs(b[unix.SizeofIfAddrmsg:], func(typ uint16, v []byte) {
		switch typ {
		case unix.IFA_ADDRESS:
			addr, _ = nlAddr16(v)
		case unix.IFA_LOCAL:
			local, _ = nlAddr16(v)
		case unix.IFA_FLAGS:
			if f, ok := nlUint32(v); ok {
				flags = f
			}
		}
	})
	if err != nil {
		return a, false, false, fmt.Errorf("address on link %d: %w", a.LinkIndex, err)
	}
	if local.IsValid() { // IFA_ADDRESS is the peer on point-to-point links
		addr = local
	}
	if !addr.IsValid() || plen > 128 {
		return a, false, false, fmt.Errorf("address message on link %d: no IPv6 address or prefix length %d", a.LinkIndex, plen)
	}
	a.Prefix = netip.PrefixFrom(addr, plen)
	usable = flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0
	return a, usable, true, nil
}

// kernelRoute is an IPv6 route as a netlink message describes it.
type kernelRoute struct {
	key      RouteKey
	metric   uint32
	nexthops []NextHop
}

// parseRouteMsg decodes an RTM_NEWROUTE/RTM_DELROUTE body. ok is false for
// routes the stack does not mirror: other families and tables than the main
// one, types other than unicast (local, broadcast, multicast, unreachable),
// cloned cache entries and multicast destinations (those belong to mfib).
// Dead next hops are left out. The source prefix is rtm_src_len + RTA_SRC.
func parseRouteMsg(b []byte) (r kernelRoute, ok bool, err error) {
	if len(b) < unix.SizeofRtMsg {
		return r, false, fmt.Errorf("route message: %d bytes, shorter than rtmsg", len(b))
	}
	family, dstLen, srcLen, table, typ := b[0], int(b[1]), int(b[2]), uint32(b[4]), b[7]
	flags := binary.NativeEndian.Uint32(b[8:12])
	if family != unix.AF_INET6 {
		return r, false, nil
	}
	var dst, src, gw netip.Addr
	oif := 0
	var multipath []byte
	err = nlAttrs(b[unix.SizeofRtMsg:], func(t uint16, v []byte) {
		switch t {
		case unix.RTA_DST:
			dst, _ = nlAddr16(v)
		case unix.RTA_SRC:
			src, _ = nlAddr16(v)
		case unix.RTA_GATEWAY:
			gw, _ = nlAddr16(v)
		case unix.RTA_OIF:
			if o, ok := nlUint32(v); ok {
				oif = int(o)
			}
		case unix.RTA_PRIORITY:
			r.metric, _ = nlUint32(v)
		case unix.RTA_TABLE:
			if tb, ok := nlUint32(v); ok {
				table = tb
			}
		case unix.RTA_MULTIPATH:
			multipath = v
		}
	})
	if err != nil {
		return r, false, fmt.Errorf("route message: %w", err)
	}
	if table != unix.RT_TABLE_MAIN || typ != unix.RTN_UNICAST || flags&unix.RTM_F_CLONED != 0 {
		return r, false, nil
	}
	if dstLen > 128 || srcLen > 128 {
		return r, false, fmt.Errorf("route message: prefix lengths dst %d src %d", dstLen, srcLen)
	}
	if !dst.IsValid() {
		dst = netip.IPv6Unspecified()
	}
	if !src.IsValid() {
		src = netip.IPv6Unspecified()
	}
	r.key.Dst = netip.PrefixFrom(dst, dstLen).Masked()
	r.key.Src = netip.PrefixFrom(src, srcLen).Masked()
	if r.key.Dst.Bits() >= 8 && r.key.Dst.Addr().IsMulticast() {
		return r, false, nil
	}
	if multipath != nil {
		r.nexthops, err = parseMultipath(multipath)
		if err != nil {
			return r, false, err
		}
	} else if oif != 0 && flags&unix.RTNH_F_DEAD == 0 {
		r.nexthops = []NextHop{{LinkIndex: oif, Gateway: gw}}
	}
	if scoped(r.key.Dst) && len(r.nexthops) > 0 {
		// fe80::/64 exists once per link: the link is part of its key.
		r.key.Zone = r.nexthops[0].LinkIndex
	}
	return r, true, nil
}

// parseMultipath decodes RTA_MULTIPATH: a list of struct rtnexthop, each
// followed by its own attributes (RTA_GATEWAY).
func parseMultipath(b []byte) ([]NextHop, error) {
	var nhs []NextHop
	for off := 0; len(b)-off >= unix.SizeofRtNexthop; {
		l := int(binary.NativeEndian.Uint16(b[off:]))
		if l < unix.SizeofRtNexthop || l > len(b)-off {
			return nil, fmt.Errorf("route next hop at offset %d: length %d, %d bytes left", off, l, len(b)-off)
		}
		flags := b[off+2]
		nh := NextHop{LinkIndex: int(int32(binary.NativeEndian.Uint32(b[off+4:])))}
		err := nlAttrs(b[off+unix.SizeofRtNexthop:off+l], func(t uint16, v []byte) {
			if t == unix.RTA_GATEWAY {
				nh.Gateway, _ = nlAddr16(v)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("route next hop at offset %d: %w", off, err)
		}
		if flags&unix.RTNH_F_DEAD == 0 {
			nhs = append(nhs, nh)
		}
		off += (l + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
	}
	return nhs, nil
}

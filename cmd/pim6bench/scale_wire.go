package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pim6d/pim6d/lab"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim/wire"
)

var (
	allMLDv2Routers = netip.MustParseAddr("ff02::16")
	allPIMRouters   = netip.MustParseAddr("ff02::d")
)

// scaleSG returns the i-th (S,G) of a run: every group distinct in the SSM
// range ff3e::/32, sources cycling through 16 addresses of the source subnet
// behind the router.
func scaleSG(i int) (src, grp netip.Addr) {
	g := [16]byte{0xff, 0x3e, 10: 0xbe, 11: 0x0c}
	binary.BigEndian.PutUint32(g[12:], uint32(i))
	s := netip.MustParseAddr(scaleSourceNet).As16()
	s[15] = byte(0x10 + i%16)
	return netip.AddrFrom16(s), netip.AddrFrom16(g)
}

// mldReports builds the MLDv2 reports for n (S,G) as complete IPv6 packets
// (hop limit 1, Router Alert hop-by-hop option, link-local source), perReport
// records per report and one source per record: the shape of FRR's test.
func mldReports(n, perReport int, src netip.Addr) [][]byte {
	src = src.WithZone("")
	var pkts [][]byte
	for first := 0; first < n; first += perReport {
		rep := &mld.Report{}
		for i := first; i < min(first+perReport, n); i++ {
			s, g := scaleSG(i)
			rep.Records = append(rep.Records, mld.Record{Type: mld.AllowNewSources, Group: g, Sources: []netip.Addr{s}})
		}
		icmp := mld.Marshal(rep, src, allMLDv2Routers)
		// Hop-by-hop: next header ICMPv6 (58), length 0 (8 bytes), Router
		// Alert (type 5, length 2, value 0 = MLD, RFC 2711), PadN of 2.
		hbh := []byte{58, 0, 5, 2, 0, 0, 1, 0}
		p := make([]byte, 40, 40+len(hbh)+len(icmp))
		p[0] = 0x60
		binary.BigEndian.PutUint16(p[4:], uint16(len(hbh)+len(icmp)))
		p[6] = 0 // hop-by-hop options follow
		p[7] = 1 // hop limit 1 (RFC 3810 §5.2.13)
		s16, d16 := src.As16(), allMLDv2Routers.As16()
		copy(p[8:], s16[:])
		copy(p[24:], d16[:])
		pkts = append(pkts, append(append(p, hbh...), icmp...))
	}
	return pkts
}

// sendRaw sends complete IPv6 packets out of ifname in node as fast as it
// can (AF_PACKET, cooked, to the IPv6 multicast MAC of ff02::16) and returns
// how many the kernel refused.
func sendRaw(node *lab.Node, ifname string, pkts [][]byte) (failed int, err error) {
	ifindex := node.IfIndex(ifname)
	if ifindex == 0 {
		return 0, fmt.Errorf("%s: no interface %s", node.Label(), ifname)
	}
	var fd int
	if err := node.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, 0)
		return err
	}); err != nil {
		return 0, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: ifindex, Protocol: hostToNet16(unix.ETH_P_IPV6), Halen: 6}
	copy(to.Addr[:], []byte{0x33, 0x33, 0, 0, 0, 0x16})
	for _, p := range pkts {
		if err := unix.Sendto(fd, p, 0, to); err != nil {
			failed++
		}
	}
	return failed, nil
}

func hostToNet16(v uint16) uint16 { return v<<8 | v>>8 }

// pimNeighbor is a test PIM neighbour: a raw IPv6 socket (protocol 103) in a
// namespace, joined to ff02::d, that sends Hellos and Join/Prunes and records
// when the router's Hellos arrive.
type pimNeighbor struct {
	fd      int
	ifindex int
	self    netip.Addr // link-local, unzoned
	global  netip.Addr

	mu     sync.Mutex
	hellos []time.Time // arrival of the router's Hellos
	jps    int         // Join/Prunes seen from others (none expected)

	stop chan struct{}
	wg   sync.WaitGroup
}

func newPIMNeighbor(node *lab.Node, ifname string, global netip.Addr) (*pimNeighbor, error) {
	nb := &pimNeighbor{ifindex: node.IfIndex(ifname), global: global, stop: make(chan struct{})}
	ll := node.LinkLocal(ifname)
	if nb.ifindex == 0 || !ll.IsValid() {
		return nil, fmt.Errorf("%s: no interface %s with a link-local address", node.Label(), ifname)
	}
	nb.self = ll.WithZone("")
	err := node.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW, 103)
		if err != nil {
			return err
		}
		nb.fd = fd
		for _, o := range [][3]int{
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1},
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, nb.ifindex},
			{unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0},
			{unix.SOL_SOCKET, unix.SO_RCVBUF, 4 << 20},
		} {
			if err := unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
				return fmt.Errorf("setsockopt %d/%d: %w", o[0], o[1], err)
			}
		}
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000}); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: nb.self.As16(), ZoneId: uint32(nb.ifindex)}); err != nil {
			return fmt.Errorf("bind %s: %w", nb.self, err)
		}
		return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP,
			&unix.IPv6Mreq{Multiaddr: allPIMRouters.As16(), Interface: uint32(nb.ifindex)})
	})
	if err != nil {
		if nb.fd > 0 {
			unix.Close(nb.fd)
		}
		return nil, err
	}
	nb.wg.Add(2)
	go nb.receive()
	go nb.helloLoop()
	return nb, nil
}

func (nb *pimNeighbor) close() {
	close(nb.stop)
	nb.wg.Wait()
	unix.Close(nb.fd)
}

func (nb *pimNeighbor) send(m wire.Message) error {
	b, err := wire.Marshal(nb.self, allPIMRouters, m)
	if err != nil {
		return err
	}
	return unix.Sendto(nb.fd, b, 0, &unix.SockaddrInet6{Addr: allPIMRouters.As16(), ZoneId: uint32(nb.ifindex)})
}

// helloLoop sends a Hello (holdtime 105 s, Address List with the global
// address, RFC 7761 §4.3.1 and option 24) now and every 10 s.
func (nb *pimNeighbor) helloLoop() {
	defer nb.wg.Done()
	h := &wire.Hello{Holdtime: 105, HasHoldtime: true, DRPriority: 1, HasDRPriority: true,
		GenerationID: uint32(time.Now().UnixNano()), HasGenID: true, AddressList: []netip.Addr{nb.global}}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		nb.send(h)
		select {
		case <-nb.stop:
			return
		case <-t.C:
		}
	}
}

// receive records the arrival of every Hello the router sends.
func (nb *pimNeighbor) receive() {
	defer nb.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		select {
		case <-nb.stop:
			return
		default:
		}
		n, _, err := unix.Recvfrom(nb.fd, buf, 0)
		if err != nil || n < 4 {
			continue
		}
		now := time.Now()
		nb.mu.Lock()
		switch wire.Type(buf[0] & 0x0f) {
		case wire.TypeHello:
			nb.hellos = append(nb.hellos, now)
		case wire.TypeJoinPrune:
			nb.jps++
		}
		nb.mu.Unlock()
	}
}

// helloTimes returns the arrival times of the router's Hellos so far.
func (nb *pimNeighbor) helloTimes() []time.Time {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	return append([]time.Time(nil), nb.hellos...)
}

// joinAll sends Join/Prunes for n (S,G), perMsg groups of one joined source
// each per message, to upstream (the router's link-local address), holdtime
// 210 s, unpaced. It returns the number of messages and of failed sends.
func (nb *pimNeighbor) joinAll(n, perMsg int, upstream netip.Addr) (msgs, failed int) {
	for first := 0; first < n; first += perMsg {
		jp := &wire.JoinPrune{UpstreamNeighbor: upstream.WithZone(""), Holdtime: 210}
		for i := first; i < min(first+perMsg, n); i++ {
			s, g := scaleSG(i)
			jp.Groups = append(jp.Groups, wire.JoinPruneGroup{
				Group: wire.EncodedGroup{Addr: g, MaskLen: 128},
				Joins: []wire.EncodedSource{{Addr: s, MaskLen: 128, Sparse: true}},
			})
		}
		msgs++
		if err := nb.send(jp); err != nil {
			failed++
		}
	}
	return msgs, failed
}

package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/ipv6"
)

// The test binary doubles as a small multicast sender and receiver for the
// labs: "e2e.test e2e-mcsend ..." and "e2e.test e2e-mcjoin ..." run in a
// node's namespace (see tool) instead of the tests. init runs before the
// testing package parses its flags, so the tools keep their own.
func init() {
	if len(os.Args) < 2 {
		return
	}
	var err error
	switch os.Args[1] {
	case "e2e-mcsend":
		err = mcsend(os.Args[2:])
	case "e2e-mcjoin":
		err = mcjoin(os.Args[2:])
	default:
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, os.Args[1]+":", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// toolArgs returns the command line that runs one of the tools above.
func toolArgs(name string, args ...string) []string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return append([]string{exe, name}, args...)
}

// mcsend sends small UDP packets to each group at a steady rate until killed.
func mcsend(args []string) error {
	fs := flag.NewFlagSet("e2e-mcsend", flag.ContinueOnError)
	ifname := fs.String("if", "eth0", "outgoing interface")
	groups := fs.String("groups", "", "comma-separated groups")
	port := fs.Int("port", 5000, "UDP port")
	pps := fs.Int("pps", 100, "packets per second per group")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(*ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("udp6", "[::]:0")
	if err != nil {
		return err
	}
	p := ipv6.NewPacketConn(c)
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	if err := p.SetMulticastHopLimit(16); err != nil { // the default, 1, would stop at the first router
		return err
	}
	var dsts []*net.UDPAddr
	for _, g := range strings.Split(*groups, ",") {
		dsts = append(dsts, &net.UDPAddr{IP: net.ParseIP(g), Port: *port})
	}
	tick := time.NewTicker(time.Second / time.Duration(*pps))
	for seq := uint64(0); ; seq++ {
		<-tick.C
		msg := []byte(fmt.Sprintf("seq=%d", seq))
		for _, d := range dsts {
			if _, err := p.WriteTo(msg, nil, d); err != nil {
				return err
			}
		}
	}
}

// mcjoin joins (S,G) (or G with -source "") on an interface. With -first it
// prints how long after the join the first packet to G arrived and exits;
// otherwise it prints "joined", holds the membership until SIGINT or SIGTERM,
// then leaves, prints "left" and exits.
func mcjoin(args []string) error {
	fs := flag.NewFlagSet("e2e-mcjoin", flag.ContinueOnError)
	ifname := fs.String("if", "eth0", "interface")
	group := fs.String("group", "", "group")
	source := fs.String("source", "", "source (empty: any-source join)")
	exclude := fs.String("exclude", "", "any-source join that blocks this source (MLDv2 EXCLUDE {source})")
	port := fs.Int("port", 5000, "UDP port")
	first := fs.Bool("first", false, "wait for the first packet and report its delay")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on the first packet after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(*ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("udp6", fmt.Sprintf("[::]:%d", *port))
	if err != nil {
		return err
	}
	p := ipv6.NewPacketConn(c)
	if err := p.SetControlMessage(ipv6.FlagDst, true); err != nil {
		return err
	}
	g := &net.UDPAddr{IP: net.ParseIP(*group)}
	var s *net.UDPAddr
	if *source != "" {
		s = &net.UDPAddr{IP: net.ParseIP(*source)}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	start := time.Now()
	if s != nil {
		err = p.JoinSourceSpecificGroup(ifi, g, s)
	} else {
		err = p.JoinGroup(ifi, g)
	}
	if err != nil {
		return err
	}
	if *exclude != "" {
		if err := p.ExcludeSourceSpecificGroup(ifi, g, &net.UDPAddr{IP: net.ParseIP(*exclude)}); err != nil {
			return fmt.Errorf("block source %s: %w", *exclude, err)
		}
	}
	if !*first {
		fmt.Println("joined")
		<-sig
		if s != nil {
			err = p.LeaveSourceSpecificGroup(ifi, g, s)
		} else {
			err = p.LeaveGroup(ifi, g)
		}
		fmt.Println("left")
		return err
	}
	buf := make([]byte, 1500)
	p.SetReadDeadline(start.Add(*timeout))
	for {
		_, cm, from, err := p.ReadFrom(buf)
		if err != nil {
			return err
		}
		if cm == nil || !cm.Dst.Equal(g.IP) {
			continue
		}
		if u, ok := from.(*net.UDPAddr); s != nil && (!ok || !u.IP.Equal(s.IP)) {
			continue
		}
		fmt.Printf("joined_at_unix_ns=%d first_packet_after_us=%d\n", start.UnixNano(), time.Since(start).Microseconds())
		return nil
	}
}

var errNoLatency = errors.New("no first_packet_after_us line")

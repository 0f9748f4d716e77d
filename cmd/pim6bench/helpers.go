package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/ipv6"

	"github.com/pim6d/pim6d/stack"
)

// blast sends UDP datagrams to a group as fast as it can for a while, in
// batches (sendmmsg), and prints how many it sent.
func blast(args []string) error {
	fs := flag.NewFlagSet("blast", flag.ExitOnError)
	group := fs.String("group", "ff3e::4321:1234", "destination group")
	ifname := fs.String("iface", "eth0", "interface to send on")
	src := fs.String("src", "", "source address")
	seconds := fs.Float64("seconds", 3, "how long to send")
	size := fs.Int("size", 64, "UDP payload bytes")
	rate := fs.Float64("rate", 0, "packets per second (0: as fast as possible)")
	fs.Parse(args)
	c, err := net.ListenPacket("udp6", "["+*src+"]:0")
	if err != nil {
		return err
	}
	defer c.Close()
	p := ipv6.NewPacketConn(c)
	ifi, err := net.InterfaceByName(*ifname)
	if err != nil {
		return err
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	p.SetMulticastHopLimit(64)
	dst := &net.UDPAddr{IP: net.ParseIP(*group), Port: 4321}
	const batch = 64
	msgs := make([]ipv6.Message, batch)
	payload := make([]byte, *size)
	for i := range msgs {
		msgs[i] = ipv6.Message{Buffers: [][]byte{payload}, Addr: dst}
	}
	var sent int
	start := time.Now()
	end := start.Add(time.Duration(*seconds * float64(time.Second)))
	for now := start; now.Before(end); now = time.Now() {
		if *rate > 0 {
			if ahead := time.Duration(float64(sent)/(*rate)*float64(time.Second)) - now.Sub(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		n, err := p.WriteBatch(msgs, 0)
		if err != nil && !errors.Is(err, syscall.ENOBUFS) && !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		sent += n
	}
	fmt.Println(sent)
	return nil
}

// forward runs pim6d's forwarder in the current namespace for one (S,G) until
// SIGTERM, then prints its counters.
func forward(args []string) error {
	fs := flag.NewFlagSet("forward", flag.ExitOnError)
	group := fs.String("group", "ff3e::4321:1234", "group")
	source := fs.String("source", "2001:db8:1::10", "source")
	iifName := fs.String("iif", "up0", "incoming interface")
	oifNames := fs.String("oifs", "down0", "outgoing interfaces, comma-separated")
	cpuProfile := fs.String("cpuprofile", os.Getenv("PIM6BENCH_CPUPROFILE"), "write a CPU profile here")
	ringBlocks := fs.Int("ring-blocks", 0, "receive ring blocks per link (0: the forwarder's default)")
	ringBlockSize := fs.Int("ring-block-size", 0, "receive ring block bytes (0: the forwarder's default)")
	retire := fs.Duration("retire", 0, "receive block retire timeout (0: the forwarder's default)")
	busyPoll := fs.Duration("busy-poll", 0, "spin this long on a busy ring before sleeping in poll")
	priority := fs.Int("priority", 0, "SCHED_FIFO priority of the ring threads (0: normal)")
	procs := fs.Int("gomaxprocs", 0, "GOMAXPROCS (0: the runtime's choice, 1 under taskset -c 1)")
	fs.Parse(args)
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	byName := map[string]stack.Link{}
	var links []stack.Link
	for _, i := range ifs {
		l := stack.Link{Index: i.Index, Name: i.Name, MTU: i.MTU, HardwareAddr: i.HardwareAddr,
			Up: i.Flags&net.FlagUp != 0, Multicast: i.Flags&net.FlagMulticast != 0, Loopback: i.Flags&net.FlagLoopback != 0}
		byName[i.Name] = l
		links = append(links, l)
	}
	iif, ok := byName[*iifName]
	if !ok {
		return fmt.Errorf("no interface %s", *iifName)
	}
	var oifs []int
	for _, n := range strings.Split(*oifNames, ",") {
		l, ok := byName[n]
		if !ok {
			return fmt.Errorf("no interface %s", n)
		}
		oifs = append(oifs, l.Index)
	}
	slices.Sort(oifs)
	t := stack.NewTable()
	g, s := netip.MustParseAddr(*group), netip.MustParseAddr(*source)
	if err := t.Insert(stack.Route{Dst: netip.PrefixFrom(g, 128), Src: netip.PrefixFrom(s, 128),
		Kind: stack.KindMulticast, IIF: iif.Index, OIFs: oifs}); err != nil {
		return err
	}
	fw, err := stack.NewForwarder(stack.ForwarderOptions{Table: t, RingBlocks: *ringBlocks, RingBlockSize: *ringBlockSize,
		RetireTimeout: *retire, BusyPoll: *busyPoll, Priority: *priority})
	if err != nil {
		return err
	}
	fw.SetLinks(links)
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	st := fw.Stats()
	fw.Close()
	fmt.Printf("received=%d forwarded=%d checksums=%d drops=%v\n", st.Received, st.Forwarded, st.Checksums, st.Drops)
	return nil
}

// Command pim6bench measures pim6d's data plane against the kernel's own
// multicast forwarding on the same namespace topology.
//
//	pim6bench throughput [-oifs 1,4] [-seconds 3] [-size 64]
//
// builds src — r — rcv1..rcvN, blasts one (S,G) from src, and counts what
// arrives at the receivers, once with the kernel's ip6mr forwarding (a static
// MFC programmed by smcroute) and once with pim6d's forwarder (stack.Forwarder
// reading the same (S,G) from a stack.Table). The router's work is pinned to
// CPU 1 (RPS on its upstream link, taskset for the forwarder), the sender to
// CPU 0. The other subcommands are its helpers, run inside the namespaces.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "throughput":
		err = throughput(os.Args[2:])
	case "blast":
		err = blast(os.Args[2:])
	case "forward":
		err = forward(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pim6bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pim6bench throughput [-oifs 1,4] [-seconds 3] [-size 64]")
	flag.PrintDefaults()
	os.Exit(2)
}

// Command pim6bench measures pim6d's data plane against the kernel's own
// multicast forwarding on the same namespace topology.
//
//	pim6bench throughput [-oifs 1,4] [-seconds 3] [-size 64] [-rate PPS] [-runs N] [-search]
//
// builds src — r — rcv1..rcvN, blasts one (S,G) from src, and counts what
// arrives at the receivers, once with the kernel's ip6mr forwarding (a static
// MFC programmed by smcroute) and once with pim6d's forwarder (stack.Forwarder
// reading the same (S,G) from a stack.Table). The router's work is pinned to
// CPU 1 (RPS on its upstream link, taskset for the forwarder), the sender to
// CPU 0. -search also finds each forwarder's maximum loss-free rate by binary
// search on the offered rate. PIM6BENCH_FORWARD_ARGS passes flags to the
// forwarder (see `pim6bench forward -h`: ring settings, busy polling, SCHED_FIFO
// priority), PIM6BENCH_MODES=pim6d skips the kernel, PIM6BENCH_CPUPROFILE
// profiles the forwarder. The other subcommands are its helpers, run inside
// the namespaces.
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
	case "mldscale":
		err = mldscale(os.Args[2:])
	case "pimscale":
		err = pimscale(os.Args[2:])
	case "faults":
		err = faults(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pim6bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pim6bench throughput [-oifs 1,4] [-seconds 3] [-size 64] [-rate PPS] [-runs N] [-search]")
	fmt.Fprintln(os.Stderr, "       pim6bench mldscale|pimscale [-n 10000,50000] [-runs N]")
	fmt.Fprintln(os.Stderr, "       pim6bench faults [-mib 256] [-runs 3]   (cost of a first page touch)")
	flag.PrintDefaults()
	os.Exit(2)
}

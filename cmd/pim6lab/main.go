// Command pim6lab builds network-namespace labs for pim6d and runs demos in them.
//
//	pim6lab demo  [--topology FILE] [--pim6d PATH] [--routers r1,r2] [--wait 3s]
//	pim6lab sweep
//
// demo builds the topology (default configs/labs/ssm-demo.yaml: src — r1 — r2 —
// rcv), starts pim6d with no configuration on the routers, waits, prints what
// each router logged, and tears everything down, also on Ctrl-C. sweep removes
// namespaces left behind by labs whose process died. Both need root.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pim6d/pim6d/lab"
	"github.com/spf13/pflag"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  pim6lab demo [--topology FILE] [--pim6d PATH] [--routers r1,r2] [--wait 3s]
  pim6lab sweep
`)
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "demo":
		return demoCmd(args[1:])
	case "sweep":
		removed, err := lab.Sweep()
		for _, ns := range removed {
			fmt.Println("removed", ns)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pim6lab sweep:", err)
			return 1
		}
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "pim6lab: unknown command %q\n", args[0])
	usage()
	return 2
}

func demoCmd(args []string) int {
	fs := pflag.NewFlagSet("pim6lab demo", pflag.ContinueOnError)
	var o demoOptions
	fs.StringVar(&o.Topology, "topology", "configs/labs/ssm-demo.yaml", "lab topology (YAML)")
	fs.StringVar(&o.Pim6d, "pim6d", "", "pim6d binary (default: go build ./cmd/pim6d)")
	fs.StringSliceVar(&o.Routers, "routers", []string{"r1", "r2"}, "nodes that run pim6d")
	fs.DurationVar(&o.Wait, "wait", 3*time.Second, "how long pim6d runs before its logs are shown")
	fs.StringVar(&o.Source, "source", "src", "node that runs ssmpingd (empty: no multicast demo)")
	fs.StringVar(&o.SourceAddr, "source-addr", "2001:db8:1::2", "the source node's address")
	fs.StringVar(&o.Receiver, "receiver", "rcv", "node that runs ssmping")
	fs.IntVar(&o.Pings, "pings", 6, "ssmping probes (one a second)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// Ctrl-C cancels the demo; the lab package also tears the lab down on it.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := demo(ctx, o, os.Stdout); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "pim6lab demo: interrupted; lab torn down")
			return 130
		}
		fmt.Fprintln(os.Stderr, "pim6lab demo:", err)
		return 1
	}
	return 0
}

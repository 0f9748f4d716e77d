package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pim6d/pim6d/lab"
)

type demoOptions struct {
	Topology string        // lab description (YAML)
	Pim6d    string        // pim6d binary; empty: build it
	Routers  []string      // nodes that run pim6d
	Wait     time.Duration // how long pim6d runs before the logs are shown

	// The multicast part: ssmpingd on Source (address SourceAddr), ssmping
	// -6 -c Pings on Receiver, pim6stat on every router while it runs. Empty
	// Source skips it.
	Source, Receiver, SourceAddr string
	Pings                        int
}

// router is a node running pim6d in the demo.
type router struct {
	node   *lab.Node
	proc   *lab.Proc
	socket string // pim6d's control socket, for pim6stat
}

// demo builds the lab, runs pim6d on the routers, shows what they found, and
// tears everything down.
func demo(ctx context.Context, o demoOptions, w io.Writer) error {
	desc, err := lab.Load(o.Topology)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "pim6lab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := o.Pim6d
	if bin == "" {
		fmt.Fprintln(w, "building pim6d ...")
		if bin, err = lab.GoBuild("github.com/pim6d/pim6d/cmd/pim6d", work); err != nil {
			return err
		}
	}
	stat, err := lab.GoBuild("github.com/pim6d/pim6d/cmd/pim6stat", work)
	if err != nil {
		return err
	}

	l, err := lab.Open("demo")
	if err != nil {
		return err
	}
	defer l.Close()
	if err := l.Build(desc); err != nil {
		return fmt.Errorf("build lab %s: %w", o.Topology, err)
	}
	fmt.Fprintf(w, "lab %s: %s\n", l.ID(), nodeList(l))

	var routers []*router
	for _, name := range o.Routers {
		n := l.Node(name)
		r := &router{node: n, socket: filepath.Join(work, name+".sock")}
		r.proc = n.Start(bin, "--socket", r.socket)
		routers = append(routers, r)
	}
	if err := l.Err(); err != nil {
		return err
	}
	for _, r := range routers {
		if err := waitFor(ctx, r.proc, "pim6d running", 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w\n%s", r.node.Label(), err, r.proc.Output())
		}
	}
	fmt.Fprintf(w, "pim6d running on %s; waiting %v\n", strings.Join(o.Routers, ", "), o.Wait)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.Wait):
	}

	for _, r := range routers {
		fmt.Fprintf(w, "\n=== %s: pim6d log ===\n%s", r.node.Label(), r.proc.Output())
	}
	if o.Source != "" {
		if err := ssmDemo(ctx, l, o, stat, routers, w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for _, r := range routers {
		err := r.proc.Stop()
		status := "exit 0"
		if err != nil {
			status = err.Error()
		}
		fmt.Fprintf(w, "%s: pim6d stopped (%s)\n", r.node.Label(), status)
	}
	return l.Close()
}

func nodeList(l *lab.Lab) string {
	var s []string
	for _, n := range l.Nodes() {
		s = append(s, n.Label())
	}
	return strings.Join(s, " ")
}

// waitFor waits until p's output contains want.
func waitFor(ctx context.Context, p *lab.Proc, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Output(), want) {
		if p.Exited() {
			return fmt.Errorf("pim6d exited: %v", p.Wait(0))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q within %v", want, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// ssmDemo makes multicast flow: ssmping on the receiver joins (S,G) and asks
// ssmpingd on the source for replies, which pim6d forwards; pim6stat shows
// each router's state while it happens.
func ssmDemo(ctx context.Context, l *lab.Lab, o demoOptions, stat string, routers []*router, w io.Writer) error {
	src, rcv := l.Node(o.Source), l.Node(o.Receiver)
	src.Start("ssmpingd")
	fmt.Fprintf(w, "\n=== %s: ssmping -6 -c %d %s (ssmpingd on %s) ===\n", o.Receiver, o.Pings, o.SourceAddr, o.Source)
	ping := rcv.Start("ssmping", "-6", "-c", fmt.Sprint(o.Pings), o.SourceAddr)
	if err := l.Err(); err != nil {
		return err
	}
	// Half-way through, the tree is up and packets flow: show it.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(o.Pings) * time.Second / 2):
	}
	for _, r := range routers {
		out, err := r.node.Run(stat, "--socket", r.socket)
		fmt.Fprintf(w, "\n=== %s: pim6stat (while ssmping runs) ===\n%s", r.node.Label(), out)
		if err != nil {
			fmt.Fprintf(w, "pim6stat: %v\n", err)
		}
	}
	if err := ping.Wait(time.Duration(o.Pings)*time.Second + 10*time.Second); err != nil {
		return fmt.Errorf("ssmping: %w\n%s", err, ping.Output())
	}
	fmt.Fprintf(w, "\n=== %s: what arrived ===\n%s", o.Receiver, ping.Output())
	return nil
}

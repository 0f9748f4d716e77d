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

	// Later steps go here, between pim6d settling and the logs being shown:
	// ssmping from rcv to src through r2 and r1, then pim6stat on each router
	// (r.socket is its control socket).

	for _, r := range routers {
		fmt.Fprintf(w, "\n=== %s: pim6d log ===\n%s", r.node.Label(), r.proc.Output())
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

// Command pim6stat shows the state of a running pim6d: with no arguments the
// classic report in the layout of KAME's pim6stat, or one section at a time,
// or the snapshot as JSON (docs/pim6stat-json.md), once or every few seconds.
//
// Exit status: 0 success, 1 other error, 2 usage, 3 pim6d not running,
// 4 permission denied, 5 control protocol version mismatch.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/report"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotRunning  = 3
	exitPermission  = 4
	exitVersionSkew = 5
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: pim6stat [options]

With no section option, prints the classic report (every section, in the
order of KAME's pim6stat). Section options may be combined.

  -i, --interfaces    Multicast Interface Table
  -n, --neighbors     PIM Neighbor List
  -q, --queriers      MLD Querier List
  -g, --groups        Reported MLD Groups
  -r, --routes        Multicast Routing Table
  -p, --rp-set        RP-Set and current BSR
  -t, --timers        CallOut Timer Queue
  -s, --summary       counts only (MLD groups and sources, routing entries):
                      cheap at any scale, e.g. with -w to watch an intake
  -j, --json          print the snapshot as JSON (docs/pim6stat-json.md)
  -w, --watch SECS    refresh in place every SECS seconds until interrupted
      --socket PATH   pim6d's control socket (default /run/pim6d/pim6d.sock)

Exit status: 0 ok, 1 error, 2 usage, 3 pim6d not running,
4 permission denied, 5 control protocol version mismatch.
`

// options are the parsed command line.
type options struct {
	socket   string
	json     bool
	watch    time.Duration
	sections []api.Section // nil: the classic report (all sections)
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("pim6stat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var watchSecs float64
	var want = map[api.Section]*bool{}
	section := func(short, long string, usage string, secs ...api.Section) {
		p := new(bool)
		fs.BoolVar(p, short, false, usage)
		fs.BoolVar(p, long, false, usage)
		for _, s := range secs {
			want[s] = p
		}
	}
	section("i", "interfaces", "show the Multicast Interface Table", api.SectionInterfaces)
	section("n", "neighbors", "show the PIM Neighbor List", api.SectionNeighbors)
	section("q", "queriers", "show the MLD Querier List", api.SectionQueriers)
	section("g", "groups", "show the Reported MLD Groups", api.SectionGroups)
	section("r", "routes", "show the Multicast Routing Table", api.SectionRoutes)
	section("p", "rp-set", "show the RP-Set and the BSR", api.SectionRPSet, api.SectionBSR)
	section("t", "timers", "show the CallOut Timer Queue", api.SectionTimers)
	section("s", "summary", "show the state's counts", api.SectionSummary)
	fs.StringVar(&o.socket, "socket", api.DefaultSocketPath, "pim6d's control socket `PATH`")
	fs.BoolVar(&o.json, "j", false, "print the snapshot as JSON")
	fs.BoolVar(&o.json, "json", false, "print the snapshot as JSON")
	fs.Float64Var(&watchSecs, "w", 0, "refresh every `SECONDS` until interrupted")
	fs.Float64Var(&watchSecs, "watch", 0, "refresh every `SECONDS` until interrupted")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	if err := fs.Parse(args); err != nil {
		return nil, reportedError{err} // the flag package printed it
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if watchSecs < 0 || (watchSecs > 0 && watchSecs < 0.1) {
		return nil, fmt.Errorf("-w %v: want at least 0.1 seconds", watchSecs)
	}
	o.watch = time.Duration(watchSecs * float64(time.Second))
	for _, s := range api.AllSections {
		if *want[s] {
			o.sections = append(o.sections, s)
		}
	}
	return o, nil
}

// reportedError is an error already shown to the user.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// run is pim6stat without the process around it; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		if !errors.As(err, new(reportedError)) {
			fmt.Fprintf(stderr, "pim6stat: %v\n", err)
		}
		return exitUsage
	}
	if o.watch == 0 {
		var out bytes.Buffer
		if err := show(ctx, o, &out); err != nil {
			return fail(stderr, err)
		}
		stdout.Write(out.Bytes())
		return exitOK
	}
	return watch(ctx, o, stdout, stderr)
}

// watch reprints the report in place every o.watch until ctx ends; a daemon
// that goes away is reported in place and waited for.
func watch(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	tick := time.NewTicker(o.watch)
	defer tick.Stop()
	for {
		var out bytes.Buffer
		out.WriteString("\x1b[H\x1b[2J") // cursor home, clear screen
		fmt.Fprintf(&out, "Every %v: pim6stat    %s\n\n", o.watch, time.Now().Format(time.DateTime))
		if err := show(ctx, o, &out); err != nil {
			if ctx.Err() != nil {
				return exitOK
			}
			fmt.Fprintf(&out, "pim6stat: %v\n", err)
		}
		stdout.Write(out.Bytes())
		select {
		case <-ctx.Done():
			return exitOK
		case <-tick.C:
		}
	}
}

// show takes one snapshot and writes it, as the report or as JSON.
func show(ctx context.Context, o *options, out io.Writer) error {
	c, err := api.DialContext(ctx, o.socket)
	if err != nil {
		return err
	}
	defer c.Close()
	if o.json {
		raw, err := c.SnapshotJSON(ctx, o.sections...)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			return fmt.Errorf("pim6d sent invalid JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err = out.Write(b.Bytes())
		return err
	}
	// Every section numbers interfaces by mif (oif strings, the Mif column),
	// so the report needs the interfaces even when it does not print them.
	ask := o.sections
	if ask != nil && !slices.Contains(ask, api.SectionInterfaces) {
		ask = append([]api.Section{api.SectionInterfaces}, ask...)
	}
	snap, err := c.Snapshot(ctx, ask...)
	if err != nil {
		return err
	}
	return report.Write(out, snap, o.sections)
}

// fail prints err with advice and returns the exit status it deserves.
func fail(stderr io.Writer, err error) int {
	switch {
	case errors.Is(err, api.ErrNotRunning):
		fmt.Fprintf(stderr, "pim6stat: %v\npim6stat: start pim6d, or point to its socket with --socket PATH\n", err)
		return exitNotRunning
	case errors.Is(err, api.ErrPermission):
		fmt.Fprintf(stderr, "pim6stat: %v\n", err)
		return exitPermission
	case errors.Is(err, api.ErrVersionMismatch):
		fmt.Fprintf(stderr, "pim6stat: %v\npim6stat: use the pim6stat that came with this pim6d\n", err)
		return exitVersionSkew
	}
	fmt.Fprintf(stderr, "pim6stat: %v\n", err)
	return exitError
}

// Command pim6d is an IPv6 multicast router: an MLDv2 querier and PIM-SM/SSM,
// forwarding through its own (destination, source) routing table.
//
//	pim6d [--config FILE] [--socket PATH] [--log-level debug|info|warn|error] [--check]
//
// Without --config it runs on the embedded default configuration (see package
// config). SIGHUP reloads the configuration; SIGTERM or SIGINT stops it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/daemon"
	"github.com/pim6d/pim6d/internal/prefault"
	"github.com/pim6d/pim6d/router"
	"github.com/pim6d/pim6d/stack"
	"github.com/spf13/pflag"
)

// defaultGCPercent is pim6d's GOGC when the environment sets none.
const defaultGCPercent = 50

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := pflag.NewFlagSet("pim6d", pflag.ContinueOnError)
	settings := config.NewSettings(fs)
	check := fs.Bool("check", false, "check the configuration against this system's interfaces and exit")
	fwdPriority := fs.Int("forwarder-priority", 0, "run the forwarder's threads under SCHED_FIFO with this priority (1-99; 0: normal scheduling)")
	heapAhead := fs.Bool("prefault-heap", true, "while the heap grows fast, fault in its next pages off the event loop, and return the collector's headroom to the OS after the burst")
	fibWriter := fs.Bool("fib-writer", true, "write the forwarding routes to the table on a goroutine of their own, off the event loop")
	hugePages := fs.Bool("heap-hugepages", true, "while the heap grows in a burst, advise the memory it grows into for transparent huge pages (when the system's THP setting is \"madvise\"; needs --prefault-heap)")
	burstGC := fs.Int("burst-gogc", 400, "GOGC while the heap grows in a burst (an intake of joins); -1 leaves the collector alone (needs --prefault-heap)")
	gcHeadroom := fs.Int("gc-min-headroom", 16, "MiB: keep the collector's goal at least this far above the live heap, raising GOGC while the heap is small; 0: no floor (needs --prefault-heap)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "pim6d: unexpected arguments %q\n", fs.Args())
		return 2
	}

	level := new(slog.LevelVar)
	if l, err := config.ParseLevel(fs.Lookup("log-level").Value.String()); err == nil {
		level.Set(l) // until the configuration is loaded
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if *fwdPriority < 0 || *fwdPriority > 99 {
		fmt.Fprintf(os.Stderr, "pim6d: --forwarder-priority %d: want 0 (normal) or a SCHED_FIFO priority 1-99\n", *fwdPriority)
		return 2
	}
	if *burstGC == 0 || *burstGC < -1 {
		fmt.Fprintf(os.Stderr, "pim6d: --burst-gogc %d: want -1 (leave the collector alone) or a GOGC percent of 1 or more\n", *burstGC)
		return 2
	}
	if *gcHeadroom < 0 || *gcHeadroom > 1<<20 {
		fmt.Fprintf(os.Stderr, "pim6d: --gc-min-headroom %d: want 0 (no floor) or MiB up to 1048576\n", *gcHeadroom)
		return 2
	}
	if *check {
		return checkConfig(settings)
	}

	if os.Getenv("GOGC") == "" {
		// pim6d's heap is mostly long-lived protocol state, and a new page
		// costs a fault (13-15 µs on a VM, docs/bench/scale.md): a smaller
		// collection headroom than Go's 100% lowers both the RSS per (S,G)
		// and the join intake's CPU. GOGC in the environment overrides it.
		debug.SetGCPercent(defaultGCPercent)
	}

	// The protocol state's size, published by the event loop: the heap
	// prefault holds the collector back only while this grows.
	var stateEntries atomic.Int64
	if *heapAhead {
		// A page fault costs 13-17 µs on the VMs pim6d is measured on; taken
		// ahead, off the event loop, a third of that and none of it on the
		// loop (docs/bench/scale.md).
		opts := prefault.HeapOptions{BurstGCPercent: *burstGC, StateSize: stateEntries.Load, MinHeadroom: *gcHeadroom << 20}
		if !*hugePages {
			opts.HugeBurst = -1
		}
		h, err := prefault.StartHeapAhead(opts)
		if err != nil {
			log.Info("heap prefault off", "err", err)
		} else {
			defer func() {
				h.Stop()
				st := h.Stats()
				log.Debug("heap prefault", "rounds", st.Rounds, "pages", st.Populated, "trims", st.Trims, "gc_holds", st.GCHolds, "huge_bursts", st.HugeBursts)
			}()
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := daemon.Run(ctx, daemon.Options{
		Logger:       log,
		Level:        level,
		OpenStack:    openStack(*fwdPriority),
		LoadConfig:   settings.Load,
		StateEntries: &stateEntries,
		Reload:       reloads(ctx),
		NewCore: func(now time.Time, st stack.Stack, cfg *config.Config, log *slog.Logger) (daemon.Core, error) {
			var opts []router.CoreOption
			if *fibWriter {
				opts = append(opts, router.WithFIBWriter())
			}
			return router.NewCore(now, st, cfg, log, opts...)
		},
	})
	if err != nil {
		log.Error("pim6d failed", "err", err)
		return 1
	}
	return 0
}

// reloads turns SIGHUP into reload requests; requests that arrive while one
// is pending merge into it.
func reloads(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

// checkConfig loads the configuration against the system's interfaces, prints
// every problem, and says whether it is usable.
func checkConfig(settings *config.Settings) int {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pim6d: %v\n", err)
		return 1
	}
	names := make([]string, len(ifs))
	for i, ifi := range ifs {
		names[i] = ifi.Name
	}
	cfg, err := settings.Load(names)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	src := cfg.Source
	if src == "" {
		src = "embedded default configuration"
	}
	fmt.Printf("%s: OK\n", src)
	return 0
}

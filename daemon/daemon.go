package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/clock"
	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/stack"
)

// Core is the protocol router the daemon drives. All its methods are called
// on the daemon's event-loop goroutine.
type Core interface {
	// HandleEvent handles one stack event (stack.LinkEvent, AddrEvent,
	// RouteEvent, PacketEvent, SignalEvent).
	HandleEvent(now time.Time, ev any)
	// Tick runs the timers due at now; NextDeadline is the earliest pending
	// one (zero: none).
	Tick(now time.Time)
	NextDeadline() time.Time
	// Reconfigure applies a configuration that was reloaded (SIGHUP).
	Reconfigure(now time.Time, cfg *config.Config)
	// CaptureSnapshot copies, on the event loop, the state a snapshot of the
	// sections want accepts (nil: all) needs; the returned function builds
	// the snapshot from the copy and is called off the loop.
	CaptureSnapshot(now time.Time, want func(api.Section) bool, space any) func() *api.Snapshot
	// SnapshotSpace tells, on the event loop, what memory such a capture
	// will need; the returned function allocates it (off the loop) for
	// CaptureSnapshot's space argument (nil: the capture allocates).
	SnapshotSpace(want func(api.Section) bool) func() any
	// Close is called once at shutdown, before the stack closes, so the core
	// can still send (PIM Hello with holdtime 0, RFC 7761 §4.3.1).
	Close(now time.Time) error
}

// Options configure Run.
type Options struct {
	// Logger receives the daemon's logs; Level, if set, is the level it
	// filters with, adjusted to the configuration's log_level.
	Logger *slog.Logger
	Level  *slog.LevelVar

	// OpenStack opens the stack (cmd/pim6d: stack.NewLinux). Required.
	OpenStack func(ctx context.Context, log *slog.Logger) (stack.Stack, error)

	// LoadConfig loads the configuration, checking interface names against
	// links (the names of the stack's links). It is called at start and on
	// every reload. config.Settings.Load fits.
	LoadConfig func(links []string) (*config.Config, error)

	// Reload delivers a value for every reload request (SIGHUP).
	Reload <-chan struct{}

	// NewCore builds the protocol core; nil runs without one (log only).
	NewCore func(now time.Time, st stack.Stack, cfg *config.Config, log *slog.Logger) (Core, error)

	// Clock drives the core's timers; nil: the real clock.
	Clock clock.Clock

	// StateEntries, if not nil, is kept at the core's count of protocol
	// state entries (a Core with a StateEntries method: router.Core), stored
	// by the loop after each input, for readers on other goroutines.
	StateEntries *atomic.Int64
}

// stateCounter is a Core that can count its state entries.
type stateCounter interface{ StateEntries() int }

// daemon is the state Run owns; only the event-loop goroutine touches it,
// except calls, which other goroutines use to run closures on the loop.
type daemon struct {
	opts Options
	log  *slog.Logger
	clk  clock.Clock
	st   stack.Stack
	cfg  *config.Config
	core Core
	// counter is core, when it counts its state and Options.StateEntries
	// wants the count; nil otherwise.
	counter stateCounter
	calls   chan func()
	done    chan struct{} // closed when the event loop has stopped
}

// Run runs pim6d until ctx is done, then shuts down: core closed, stack
// closed, control socket removed. It returns an error only for a failure to
// start (stack, configuration, control socket).
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.LoadConfig == nil {
		opts.LoadConfig = func([]string) (*config.Config, error) { return config.Default(), nil }
	}
	if opts.OpenStack == nil {
		return errors.New("daemon: Options.OpenStack is nil")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	d := &daemon{opts: opts, log: opts.Logger, clk: opts.Clock, calls: make(chan func()), done: make(chan struct{})}

	d.st, err = opts.OpenStack(ctx, d.log.With("subsystem", "stack"))
	if err != nil {
		return fmt.Errorf("open stack: %w", err)
	}
	defer func() {
		if cerr := d.st.Close(); cerr != nil {
			d.log.Error("close stack", "err", cerr)
		}
	}()

	d.cfg, err = opts.LoadConfig(linkNames(d.st.Links()))
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	d.setLevel()
	d.log.Info("configuration loaded", "source", source(d.cfg))

	ctl, err := api.Listen(d.cfg.ControlSocket, api.ServeOptions{Daemon: DaemonVersion, Logger: d.log.With("subsystem", "control"), ReleaseAbove: releaseAboveEntries})
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	ctlCtx, stopCtl := context.WithCancel(context.Background())
	ctlDone := make(chan struct{})
	go func() {
		defer close(ctlDone)
		if err := ctl.Serve(ctlCtx, d.snapshot); err != nil {
			d.log.Error("control socket", "err", err)
		}
	}()
	defer func() { stopCtl(); <-ctlDone }()
	defer close(d.done) // before the control socket closes: requests stop waiting for the loop

	d.logState()

	if opts.NewCore != nil {
		d.core, err = opts.NewCore(d.clk.Now(), d.st, d.cfg, d.log)
		if err != nil {
			return fmt.Errorf("start router: %w", err)
		}
		if sc, ok := d.core.(stateCounter); ok && opts.StateEntries != nil {
			d.counter = sc
		}
	}
	d.log.Info("pim6d running", "pid", os.Getpid(), "control_socket", d.cfg.ControlSocket)
	d.loop(ctx)
	d.log.Info("shutting down")
	if d.core != nil {
		if cerr := d.core.Close(d.clk.Now()); cerr != nil {
			d.log.Error("close router", "err", cerr)
		}
	}
	return nil
}

// slowLoop is how long one turn of the event loop may take before the
// daemon says so: a turn that long delays every protocol timer (Hellos,
// queries, Join/Prune refreshes) by as much.
const slowLoop = 100 * time.Millisecond

func (d *daemon) loop(ctx context.Context) {
	events := d.st.Events()
	// One timer, re-armed after every input to the core's earliest deadline.
	timer := d.clk.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due time.Time
		if d.core != nil {
			if d.counter != nil {
				d.opts.StateEntries.Store(int64(d.counter.StateEntries()))
			}
			next := d.core.NextDeadline()
			switch {
			case next.IsZero():
				timer.Reset(time.Hour)
			default:
				due = next
				timer.Reset(max(next.Sub(d.clk.Now()), 0))
			}
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				d.log.Error("stack event channel closed")
				return
			}
			start := d.clk.Now()
			d.event(ev)
			d.noteSlow("stack event", start)
		case <-timer.C():
			now := d.clk.Now()
			if late := now.Sub(due); !due.IsZero() && late > slowLoop {
				d.log.Warn("protocol timers ran late", "late", late.Round(time.Millisecond))
			}
			if d.core != nil {
				d.core.Tick(now)
			}
			d.noteSlow("protocol timers", now)
		case <-d.opts.Reload:
			d.reload()
		case f := <-d.calls:
			start := d.clk.Now()
			f()
			d.noteSlow("control request", start)
		}
	}
}

// noteSlow warns when one turn of the loop, begun at start, took longer
// than slowLoop.
func (d *daemon) noteSlow(what string, start time.Time) {
	if took := d.clk.Now().Sub(start); took > slowLoop {
		d.log.Warn("event loop held", "by", what, "for", took.Round(time.Millisecond))
	}
}

// call runs f on the event loop and waits for it; it fails when the loop
// is gone.
func (d *daemon) call(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		return errors.New("shutting down")
	}
	<-done
	return nil
}

// releaseAboveEntries: a snapshot answer of more groups and routes than this
// gives its memory back to the OS right after it is written (~3 KB per entry
// while it exists, against ~1 KB per (S,G) of state).
const releaseAboveEntries = 10_000

// DaemonVersion names the daemon in control-socket answers.
const DaemonVersion = "pim6d 0.1.0"

// snapshot is the control socket's provider: the core's state, copied on the
// event loop so that it is consistent, and put in the API's form after the
// loop has gone back to the protocols.
func (d *daemon) snapshot(ctx context.Context) (*api.Snapshot, error) {
	var snap *api.Snapshot
	var build func() *api.Snapshot
	want := func(s api.Section) bool { return api.WantSection(ctx, s) }
	var alloc func() any
	if err := d.call(ctx, func() {
		if d.core != nil {
			alloc = d.core.SnapshotSpace(want)
		}
	}); err != nil {
		return nil, err
	}
	var space any
	if alloc != nil {
		space = alloc() // off the loop: the page faults and GC work of a big copy's memory
	}
	err := d.call(ctx, func() {
		now := d.clk.Now()
		if d.core != nil {
			build = d.core.CaptureSnapshot(now, want, space)
			return
		}
		snap = &api.Snapshot{TakenAt: now}
		for i, ifc := range d.cfg.Enabled(d.st.Links()) {
			snap.Interfaces = append(snap.Interfaces, api.Interface{Name: ifc.Name, Index: i, Addresses: []string{}, Flags: []string{}})
		}
	})
	if err != nil {
		return nil, err
	}
	if build != nil {
		snap = build()
	}
	return snap, nil
}

func (d *daemon) event(ev any) {
	logEvent(d.log, d.st, d.cfg, ev)
	if d.core != nil {
		d.core.HandleEvent(d.clk.Now(), ev)
	}
}

// reload reads the configuration again. A bad one is logged and the old one
// stays in force.
func (d *daemon) reload() {
	cfg, err := d.opts.LoadConfig(linkNames(d.st.Links()))
	if err != nil {
		d.log.Error("reload: configuration rejected, keeping the old one", "err", err)
		return
	}
	changes := cfg.Diff(d.cfg)
	if cfg.ControlSocket != d.cfg.ControlSocket {
		d.log.Warn("reload: control_socket changes at restart only", "old", d.cfg.ControlSocket, "new", cfg.ControlSocket)
		cfg.ControlSocket = d.cfg.ControlSocket
	}
	d.cfg = cfg
	d.setLevel()
	if len(changes) == 0 {
		d.log.Info("reload: configuration unchanged", "source", source(cfg))
		return
	}
	for _, ch := range changes {
		d.log.Info("reload: changed", "key", ch.Key, "old", ch.Old, "new", ch.New)
	}
	d.log.Info("reload: configuration applied", "source", source(cfg), "changes", len(changes))
	if d.core != nil {
		d.core.Reconfigure(d.clk.Now(), cfg)
	}
}

func (d *daemon) setLevel() {
	if d.opts.Level != nil {
		d.opts.Level.Set(d.cfg.LogLevel)
	}
}

func source(cfg *config.Config) string {
	if cfg.Source == "" {
		return "(embedded default)"
	}
	return cfg.Source
}

func linkNames(links []stack.Link) []string {
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.Name
	}
	return names
}

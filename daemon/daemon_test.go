package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/stack"
)

// fakeStack is a stack.Stack with fixed links, addresses and routes, whose
// events the test injects.
type fakeStack struct {
	links  []stack.Link
	addrs  []stack.Addr
	table  *stack.Table
	events chan any
	mu     sync.Mutex
	closed bool
}

func newFakeStack(t *testing.T) *fakeStack {
	s := &fakeStack{
		links: []stack.Link{
			{Index: 1, Name: "lo", MTU: 65536, Up: true, Loopback: true},
			{Index: 2, Name: "eth0", MTU: 1500, Up: true, Multicast: true},
			{Index: 3, Name: "eth1", MTU: 1500, Up: true, Multicast: true},
		},
		addrs: []stack.Addr{
			{LinkIndex: 2, Prefix: netip.MustParsePrefix("2001:db8:1::1/64")},
			{LinkIndex: 3, Prefix: netip.MustParsePrefix("fe80::1/64")},
		},
		table:  stack.NewTable(),
		events: make(chan any, 16),
	}
	err := s.table.Insert(stack.Route{
		Dst: netip.MustParsePrefix("2001:db8:3::/64"), Src: netip.MustParsePrefix("::/0"),
		Kind:     stack.KindUnicast,
		NextHops: []stack.NextHop{{LinkIndex: 3, Gateway: netip.MustParseAddr("fe80::2")}},
		Protocol: "static",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *fakeStack) Links() []stack.Link          { return s.links }
func (s *fakeStack) Addrs() []stack.Addr          { return s.addrs }
func (s *fakeStack) Table() *stack.Table          { return s.table }
func (s *fakeStack) Events() <-chan any           { return s.events }
func (s *fakeStack) Send(p stack.OutPacket) error { return nil }
func (s *fakeStack) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *fakeStack) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the log contains want.
func (b *logBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never contained %q; log:\n%s", want, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type harness struct {
	st        *fakeStack
	log       *logBuffer
	level     *slog.LevelVar
	reload    chan struct{}
	cfgYAML   func() string // the configuration file, re-read on every load
	setConfig func(string)
	socket    string
	cancel    context.CancelFunc
	done      chan error
	entries   atomic.Int64 // Options.StateEntries
}

func start(t *testing.T, yaml string, newCore func(time.Time, stack.Stack, *config.Config, *slog.Logger) (Core, error)) *harness {
	t.Helper()
	h := &harness{
		st:     newFakeStack(t),
		log:    &logBuffer{},
		level:  &slog.LevelVar{},
		reload: make(chan struct{}),
		socket: filepath.Join(t.TempDir(), "run", "pim6d.sock"),
		done:   make(chan error, 1),
	}
	var mu sync.Mutex
	current := yaml
	h.cfgYAML = func() string { mu.Lock(); defer mu.Unlock(); return current }
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	opts := Options{
		Logger:    slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: h.level})),
		Level:     h.level,
		OpenStack: func(context.Context, *slog.Logger) (stack.Stack, error) { return h.st, nil },
		LoadConfig: func(links []string) (*config.Config, error) {
			cfg, err := config.Parse("test.yaml", []byte(h.cfgYAML()), links)
			if err == nil {
				cfg.ControlSocket = h.socket
			}
			return cfg, err
		},
		Reload:       h.reload,
		NewCore:      newCore,
		StateEntries: &h.entries,
	}
	go func() { h.done <- Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	h.setConfig = func(s string) { mu.Lock(); current = s; mu.Unlock() }
	return h
}

func (h *harness) stop(t *testing.T) error {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err // for Cleanup
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return within 5s of cancel")
		return nil
	}
}

func TestRunLogsWhatItFinds(t *testing.T) {
	h := start(t, "", nil)
	h.log.waitFor(t, "pim6d running")
	out := h.log.String()
	for _, want := range []string{
		`msg=interface name=eth0 index=2 mtu=1500 flags=up,multicast addrs=2001:db8:1::1/64 pim6d=on`,
		`msg=interface name=lo index=1 mtu=65536 flags=up,loopback addrs="" pim6d=off`,
		`msg=route route="2001:db8:3::/64 via fe80::2 dev eth1 proto static"`,
		`msg="configuration loaded" source=test.yaml`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; log:\n%s", want, out)
		}
	}
}

func TestRunShutsDownCleanly(t *testing.T) {
	h := start(t, "", nil)
	h.log.waitFor(t, "pim6d running")
	if _, err := os.Stat(h.socket); err != nil {
		t.Fatalf("control socket missing while running: %v", err)
	}
	if err := h.stop(t); err != nil {
		t.Errorf("Run() = %v after cancel, want nil", err)
	}
	if !h.st.isClosed() {
		t.Errorf("stack not closed after Run returned")
	}
	if _, err := os.Stat(h.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket still there after Run returned (stat err %v)", err)
	}
}

func TestRunLogsEvents(t *testing.T) {
	h := start(t, "", nil)
	h.log.waitFor(t, "pim6d running")
	h.st.events <- stack.LinkEvent{Link: stack.Link{Index: 4, Name: "eth2", MTU: 1500, Multicast: true}}
	h.st.events <- stack.AddrEvent{Addr: stack.Addr{LinkIndex: 2, Prefix: netip.MustParsePrefix("2001:db8:9::1/64")}}
	h.st.events <- stack.RouteEvent{Deleted: true, Route: stack.Route{Dst: netip.MustParsePrefix("2001:db8:7::/64"),
		Src: netip.MustParsePrefix("::/0"), Kind: stack.KindUnicast, NextHops: []stack.NextHop{{LinkIndex: 2}}}}
	h.st.events <- stack.LinkEvent{Link: stack.Link{Index: 4, Name: "eth2"}, Deleted: true}
	h.log.waitFor(t, `msg="link removed" name=eth2`)
	out := h.log.String()
	for _, want := range []string{
		`msg=link name=eth2 index=4 mtu=1500 flags=down,multicast pim6d=off`,
		`msg="address added" addr=2001:db8:9::1/64 index=2 link=eth0`,
		`msg="route removed" route="2001:db8:7::/64 dev eth0"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; log:\n%s", want, out)
		}
	}
}

func TestReload(t *testing.T) {
	h := start(t, "log_level: info\n", nil)
	h.log.waitFor(t, "pim6d running")

	h.setConfig("log_level: debug\ninterfaces: [{name: eth0, mld: {query_interval: 60s}}]\n")
	h.reload <- struct{}{}
	h.log.waitFor(t, "reload: configuration applied")
	out := h.log.String()
	for _, want := range []string{
		`msg="reload: changed" key=log_level old=info new=debug`,
		`msg="reload: changed" key=interfaces[eth0].mld.query_interval old="" new=1m0s`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; log:\n%s", want, out)
		}
	}
	if got := h.level.Level(); got != slog.LevelDebug {
		t.Errorf("log level after reload = %v, want DEBUG", got)
	}

	h.setConfig("log_level: debug\ninterfaces: [{name: eth9}]\n")
	h.reload <- struct{}{}
	h.log.waitFor(t, "configuration rejected")
	if !strings.Contains(h.log.String(), `test.yaml:2: interfaces[eth9].name: \"eth9\": no such interface`) {
		t.Errorf("rejection does not name file:line, key and value; log:\n%s", h.log.String())
	}

	// The old configuration is still in force: reloading it reports no change.
	h.setConfig("log_level: debug\ninterfaces: [{name: eth0, mld: {query_interval: 60s}}]\n")
	h.reload <- struct{}{}
	h.log.waitFor(t, "reload: configuration unchanged")
}

func TestBadConfigAtStartFails(t *testing.T) {
	h := start(t, "interfaces: [{name: eth9}]\n", nil)
	select {
	case err := <-h.done:
		h.done <- err
		if err == nil || !strings.Contains(err.Error(), "eth9") {
			t.Errorf("Run() = %v, want a configuration error naming eth9", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run kept running on a bad configuration")
	}
	if !h.st.isClosed() {
		t.Errorf("stack left open after a failed start")
	}
}

func TestControlSocketServesSnapshots(t *testing.T) {
	h := start(t, "interfaces: [{name: eth1, enable: false}]\n", nil)
	h.log.waitFor(t, "pim6d running")
	c, err := api.Dial(h.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ifc := range snap.Interfaces {
		names = append(names, ifc.Name)
	}
	if diff := cmp.Diff([]string{"eth0"}, names); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
	if c.Daemon() != DaemonVersion {
		t.Errorf("daemon = %q, want %q", c.Daemon(), DaemonVersion)
	}
	fi, err := os.Stat(h.socket)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode = %v (%v), want 0600", fi.Mode(), err)
	}
}

func TestControlSocketInUse(t *testing.T) {
	h := start(t, "", nil)
	h.log.waitFor(t, "pim6d running")
	// A second daemon on the same socket must refuse to start.
	opts := Options{
		Logger:    slog.New(slog.NewTextHandler(&logBuffer{}, nil)),
		OpenStack: func(context.Context, *slog.Logger) (stack.Stack, error) { return newFakeStack(t), nil },
		LoadConfig: func([]string) (*config.Config, error) {
			c := config.Default()
			c.ControlSocket = h.socket
			return c, nil
		},
	}
	if err := Run(context.Background(), opts); !errors.Is(err, api.ErrInUse) {
		t.Errorf("second Run on a live socket = %v, want api.ErrInUse", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pim6d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens: a crashed daemon's leftover
	opts := Options{
		Logger:    slog.New(slog.NewTextHandler(&logBuffer{}, nil)),
		OpenStack: func(context.Context, *slog.Logger) (stack.Stack, error) { return newFakeStack(t), nil },
		LoadConfig: func([]string) (*config.Config, error) {
			c := config.Default()
			c.ControlSocket = path
			return c, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if c, err := api.Dial(path); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pim6d did not take over a stale control socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// recordingCore records what the daemon hands it.
type recordingCore struct {
	mu       sync.Mutex
	events   []any
	reconfig []*config.Config
	closed   bool
}

func (c *recordingCore) Tick(time.Time)                                  {}
func (c *recordingCore) NextDeadline() time.Time                         { return time.Time{} }
func (c *recordingCore) SnapshotSpace(func(api.Section) bool) func() any { return nil }
func (c *recordingCore) CaptureSnapshot(now time.Time, _ func(api.Section) bool, _ any) func() *api.Snapshot {
	return func() *api.Snapshot { return &api.Snapshot{TakenAt: now} }
}

func (c *recordingCore) HandleEvent(_ time.Time, ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
}

func (c *recordingCore) Reconfigure(_ time.Time, cfg *config.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reconfig = append(c.reconfig, cfg)
}

func (c *recordingCore) Close(time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func TestCoreSeam(t *testing.T) {
	core := &recordingCore{}
	var gotCfg *config.Config
	h := start(t, "", func(_ time.Time, st stack.Stack, cfg *config.Config, _ *slog.Logger) (Core, error) {
		gotCfg = cfg
		return core, nil
	})
	h.log.waitFor(t, "pim6d running")
	if gotCfg == nil {
		t.Fatal("NewCore not called")
	}
	ev := stack.AddrEvent{Addr: stack.Addr{LinkIndex: 2, Prefix: netip.MustParsePrefix("2001:db8:9::1/64")}}
	h.st.events <- ev
	h.setConfig("pim: {keepalive: 100s}\n")
	h.reload <- struct{}{}
	h.log.waitFor(t, "reload: configuration applied")
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}
	core.mu.Lock()
	defer core.mu.Unlock()
	if diff := cmp.Diff([]any{ev}, core.events, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("core events (-want +got):\n%s", diff)
	}
	if len(core.reconfig) != 1 || core.reconfig[0].PIM.Keepalive != 100*time.Second {
		t.Errorf("core Reconfigure calls = %v, want one with keepalive 100s", core.reconfig)
	}
	if !core.closed {
		t.Errorf("core not closed at shutdown")
	}
}

// countingCore counts ten state entries per event it was handed.
type countingCore struct{ recordingCore }

func (c *countingCore) StateEntries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return 10 * len(c.events)
}

// The loop publishes the core's count of state entries after each input, for
// the heap prefault on another goroutine (it holds the collector back only
// while the state grows).
func TestLoopPublishesTheCoresStateEntries(t *testing.T) {
	core := &countingCore{}
	h := start(t, "", func(time.Time, stack.Stack, *config.Config, *slog.Logger) (Core, error) { return core, nil })
	h.log.waitFor(t, "pim6d running")
	for i := range 3 {
		h.st.events <- stack.LinkEvent{Link: stack.Link{Index: 10 + i, Name: fmt.Sprintf("x%d", i)}}
	}
	deadline := time.Now().Add(3 * time.Second)
	for h.entries.Load() != 30 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := h.entries.Load(); n != 30 {
		t.Errorf("published state entries = %d after 3 events, want 30", n)
	}
}

// slowCore takes its time over every stack event and has a timer due just
// after the first one arrives.
type slowCore struct {
	recordingCore
	hold time.Duration
	mu2  sync.Mutex
	due  time.Time
}

func (c *slowCore) HandleEvent(now time.Time, ev any) {
	c.mu2.Lock()
	c.due = now.Add(10 * time.Millisecond)
	c.mu2.Unlock()
	time.Sleep(c.hold)
}

func (c *slowCore) NextDeadline() time.Time {
	c.mu2.Lock()
	defer c.mu2.Unlock()
	return c.due
}

func (c *slowCore) Tick(now time.Time) {
	c.mu2.Lock()
	defer c.mu2.Unlock()
	if !now.Before(c.due) {
		c.due = time.Time{}
	}
}

// A turn of the event loop that holds up the protocols (here a stack event
// the core takes 250 ms over) is logged with what held it, and the timers it
// delayed are logged as late: an operator sees why a Hello or a query went
// out late.
func TestSlowEventLoopTurnsAreLogged(t *testing.T) {
	core := &slowCore{hold: 250 * time.Millisecond}
	h := start(t, "", func(time.Time, stack.Stack, *config.Config, *slog.Logger) (Core, error) { return core, nil })
	h.log.waitFor(t, "pim6d running")
	h.st.events <- stack.AddrEvent{Addr: stack.Addr{LinkIndex: 2, Prefix: netip.MustParsePrefix("2001:db8:9::1/64")}}
	h.log.waitFor(t, `msg="event loop held" by="stack event"`)
	h.log.waitFor(t, `msg="protocol timers ran late"`)
}

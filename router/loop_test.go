package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6d/pim6d/clock"
	"github.com/pim6d/pim6d/stack"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeHandler ticks every period and logs what it saw, with the time relative
// to t0 and the goroutine it ran in. An event "soon" asks for a tick 1 s later.
type fakeHandler struct {
	period time.Duration
	next   time.Time
	log    []string
	gids   map[uint64]bool
}

func newFakeHandler(period time.Duration) *fakeHandler {
	return &fakeHandler{period: period, next: t0.Add(period), gids: map[uint64]bool{}}
}

func (h *fakeHandler) HandleEvent(now time.Time, ev any) {
	h.gids[goid()] = true
	h.log = append(h.log, fmt.Sprintf("%v event %v", now.Sub(t0), ev))
	if ev == "soon" {
		h.next = now.Add(time.Second)
	}
}

func (h *fakeHandler) Tick(now time.Time) {
	h.gids[goid()] = true
	h.log = append(h.log, fmt.Sprintf("%v tick", now.Sub(t0)))
	h.next = now.Add(h.period)
}

func (h *fakeHandler) NextDeadline() time.Time { return h.next }

// goid returns the current goroutine's id, parsed from its stack header.
func goid() uint64 {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

// startLoop runs a loop over h on clk and stops it at the end of the test,
// checking that Run returned.
func startLoop(t *testing.T, clk clock.Clock, events <-chan any, h Handler) *Loop {
	t.Helper()
	l := NewLoop(clk, events, h)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run() = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return l
}

// logOf reads the handler's log from inside the loop.
func logOf(t *testing.T, l *Loop, h *fakeHandler) []string {
	t.Helper()
	var log []string
	if err := l.Do(context.Background(), func() { log = append([]string(nil), h.log...) }); err != nil {
		t.Fatalf("Do() = %v", err)
	}
	return log
}

func TestLoopEventsAndTicksInOrder(t *testing.T) {
	clk := clock.NewVirtual(t0)
	events := make(chan any) // unbuffered: a send returns once the loop has the event
	h := newFakeHandler(10 * time.Second)
	l := startLoop(t, clk, events, h)

	// send hands the loop an event and waits until it has been handled, so
	// the test does not move the clock under it.
	send := func(ev any) {
		events <- ev
		if err := l.Do(context.Background(), func() {}); err != nil {
			t.Fatalf("Do() = %v", err)
		}
	}
	send("a")
	clk.Advance(10 * time.Second) // the periodic tick
	send("b")
	clk.Advance(5 * time.Second)
	send("soon") // at 15 s: asks for a tick at 16 s instead of 20 s
	clk.Advance(time.Second)
	_ = logOf(t, l, h) // the 16 s tick is taken before the Do closure runs
	clk.Advance(10 * time.Second)
	// An event at the instant of a deadline comes after the tick, whichever
	// of the timer and the event the loop's select picked.
	send("same-instant")

	want := []string{
		"0s event a",
		"10s tick",
		"10s event b",
		"15s event soon",
		"16s tick",
		"26s tick",
		"26s event same-instant",
	}
	if diff := cmp.Diff(want, logOf(t, l, h)); diff != "" {
		t.Errorf("handler log (-want +got):\n%s", diff)
	}
}

func TestLoopDoRunsInLoopGoroutine(t *testing.T) {
	clk := clock.NewVirtual(t0)
	events := make(chan any)
	h := newFakeHandler(time.Second)
	l := startLoop(t, clk, events, h)

	events <- "x"
	clk.Advance(time.Second)
	var inDo uint64
	if err := l.Do(context.Background(), func() { inDo = goid() }); err != nil {
		t.Fatalf("Do() = %v", err)
	}
	if inDo == goid() {
		t.Errorf("Do ran its closure in the caller's goroutine %d", inDo)
	}
	var handlerGIDs map[uint64]bool
	l.Do(context.Background(), func() { handlerGIDs = h.gids })
	if want := map[uint64]bool{inDo: true}; !cmp.Equal(want, handlerGIDs) {
		t.Errorf("handler ran in goroutines %v, Do in %d; want all the same", handlerGIDs, inDo)
	}
}

func TestLoopRealClockTicks(t *testing.T) {
	h := &realHandler{period: 5 * time.Millisecond, ticks: make(chan time.Time, 10)}
	h.next = time.Now().Add(h.period)
	startLoop(t, clock.Real(), make(chan any), h)
	for i := range 3 {
		select {
		case <-h.ticks:
		case <-time.After(5 * time.Second):
			t.Fatalf("tick %d did not come on the real clock", i)
		}
	}
}

type realHandler struct {
	period time.Duration
	next   time.Time
	ticks  chan time.Time
}

func (h *realHandler) HandleEvent(time.Time, any) {}
func (h *realHandler) Tick(now time.Time) {
	h.next = now.Add(h.period)
	select {
	case h.ticks <- now:
	default:
	}
}
func (h *realHandler) NextDeadline() time.Time { return h.next }

func TestLoopStops(t *testing.T) {
	tests := []struct {
		name    string
		stop    func(cancel context.CancelFunc, events chan any)
		wantErr error
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ chan any) { cancel() }, context.Canceled},
		{"events channel closed", func(_ context.CancelFunc, events chan any) { close(events) }, ErrEventsClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			clk := clock.NewVirtual(t0)
			events := make(chan any)
			l := NewLoop(clk, events, newFakeHandler(time.Second))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- l.Run(ctx) }()
			if err := l.Do(ctx, func() {}); err != nil {
				t.Fatalf("Do() on a running loop = %v", err)
			}
			tt.stop(cancel, events)
			select {
			case err := <-errc:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Run() = %v, want %v", err, tt.wantErr)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return")
			}
			if err := l.Do(context.Background(), func() { t.Error("closure ran on a stopped loop") }); !errors.Is(err, ErrStopped) {
				t.Errorf("Do() after stop = %v, want ErrStopped", err)
			}
			checkNoLeak(t, before)
		})
	}
}

func TestLoopDoHonoursContext(t *testing.T) {
	l := NewLoop(clock.NewVirtual(t0), make(chan any), newFakeHandler(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Do(ctx, func() { t.Error("closure ran on a loop that never started") }); !errors.Is(err, context.Canceled) {
		t.Errorf("Do() with a cancelled context = %v, want context.Canceled", err)
	}
}

// checkNoLeak waits for the goroutine count to come back to before.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, want <= %d; stacks:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// countingHandler counts the packets it is handed.
type countingHandler struct{ packets []string }

func (h *countingHandler) HandleEvent(now time.Time, ev any) {
	if pe, ok := ev.(stack.PacketEvent); ok {
		h.packets = append(h.packets, fmt.Sprintf("%v %v", now.Sub(t0), pe.Packet.Src))
	}
}
func (h *countingHandler) Tick(time.Time)          {}
func (h *countingHandler) NextDeadline() time.Time { return time.Time{} }

// TestLoopOverMemNode runs a loop on an in-memory node: packets the clock
// delivers are all handled before a following Do, though the stack's channel
// is buffered and select picks at random.
func TestLoopOverMemNode(t *testing.T) {
	clk := clock.NewVirtual(t0)
	net := stack.NewMemNetwork(clk)
	lan := net.AddSegment("lan")
	r1, r2 := net.AddNode("r1"), net.AddNode("r2")
	r1.Attach(lan, "eth0")
	r2.Attach(lan, "eth0")
	h := &countingHandler{}
	l := startLoop(t, clk, r2.Events(), h)
	for range 20 {
		r1.Send(stack.OutPacket{LinkIndex: 1, Dst: netip.MustParseAddr("ff02::d"), Proto: stack.ProtoPIM})
		clk.Advance(time.Second)
	}
	var got int
	if err := l.Do(context.Background(), func() { got = len(h.packets) }); err != nil {
		t.Fatal(err)
	}
	if got != 20 {
		t.Errorf("handled %d packets before Do, want all 20", got)
	}
}

package clock

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fired records the name of each callback and the clock's time when it ran.
type fired struct {
	Name string
	At   time.Duration // since t0
}

func recorder(v *Virtual, log *[]fired, name string) func() {
	return func() { *log = append(*log, fired{name, v.Now().Sub(t0)}) }
}

func TestVirtualFiresInDeadlineOrder(t *testing.T) {
	tests := []struct {
		name    string
		timers  []fired // name and deadline, in scheduling order
		advance time.Duration
		want    []fired
	}{
		{
			name:    "out of order scheduling fires by deadline",
			timers:  []fired{{"c", 3 * time.Second}, {"a", time.Second}, {"b", 2 * time.Second}},
			advance: 5 * time.Second,
			want:    []fired{{"a", time.Second}, {"b", 2 * time.Second}, {"c", 3 * time.Second}},
		},
		{
			name:    "ties fire in scheduling order",
			timers:  []fired{{"x", time.Second}, {"y", time.Second}, {"w", 0}, {"z", time.Second}},
			advance: time.Second,
			want:    []fired{{"w", 0}, {"x", time.Second}, {"y", time.Second}, {"z", time.Second}},
		},
		{
			name:    "timers beyond the advance stay pending",
			timers:  []fired{{"a", time.Second}, {"late", time.Minute}},
			advance: 59 * time.Second,
			want:    []fired{{"a", time.Second}},
		},
		{
			name:    "deadline equal to the target fires",
			timers:  []fired{{"edge", 10 * time.Second}},
			advance: 10 * time.Second,
			want:    []fired{{"edge", 10 * time.Second}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVirtual(t0)
			var got []fired
			for _, tm := range tt.timers {
				v.Schedule(t0.Add(tm.At), recorder(v, &got, tm.Name))
			}
			n := v.Advance(tt.advance)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
			if n != len(tt.want) {
				t.Errorf("Advance(%v) = %d, want %d", tt.advance, n, len(tt.want))
			}
			if now := v.Now(); !now.Equal(t0.Add(tt.advance)) {
				t.Errorf("Now() = %v, want %v", now, t0.Add(tt.advance))
			}
		})
	}
}

func TestVirtualStopAndReset(t *testing.T) {
	v := NewVirtual(t0)
	var got []fired
	a := v.Schedule(t0.Add(time.Second), recorder(v, &got, "a"))
	b := v.Schedule(t0.Add(2*time.Second), recorder(v, &got, "b"))
	c := v.Schedule(t0.Add(3*time.Second), recorder(v, &got, "c"))
	d := v.Schedule(t0.Add(3*time.Second), recorder(v, &got, "d"))

	if !a.Stop() {
		t.Errorf("Stop() on a pending timer = false, want true")
	}
	if a.Stop() {
		t.Errorf("second Stop() = true, want false")
	}
	// Moving b later and c to the same deadline it had: a reset counts as a new
	// scheduling, so c now fires after d.
	if !b.ResetAt(t0.Add(4 * time.Second)) {
		t.Errorf("ResetAt on a pending timer = false, want true")
	}
	c.ResetAt(t0.Add(3 * time.Second))
	v.Advance(10 * time.Second)
	want := []fired{{"d", 3 * time.Second}, {"c", 3 * time.Second}, {"b", 4 * time.Second}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	if d.Stop() {
		t.Errorf("Stop() after firing = true, want false")
	}
	// A fired timer can be re-armed.
	got = nil
	if d.Reset(time.Second) {
		t.Errorf("Reset() of a fired timer = true, want false")
	}
	v.Advance(time.Second)
	if diff := cmp.Diff([]fired{{"d", 11 * time.Second}}, got); diff != "" {
		t.Errorf("re-armed timer fired (-want +got):\n%s", diff)
	}
}

func TestVirtualCallbacksScheduleTimers(t *testing.T) {
	v := NewVirtual(t0)
	var got []fired
	// A periodic timer re-arming itself, and a callback that schedules a
	// timer for "now" (due at once, fires after the current callback).
	var tick *VirtualTimer
	tick = v.Schedule(t0.Add(time.Second), func() {
		recorder(v, &got, "tick")()
		tick.Reset(time.Second)
	})
	v.Schedule(t0.Add(1500*time.Millisecond), func() {
		recorder(v, &got, "spawn")()
		v.Schedule(v.Now(), recorder(v, &got, "child-now"))
		v.AfterFunc(200*time.Millisecond, recorder(v, &got, "child+200ms"))
	})
	v.Advance(3 * time.Second)
	want := []fired{
		{"tick", time.Second},
		{"spawn", 1500 * time.Millisecond},
		{"child-now", 1500 * time.Millisecond},
		{"child+200ms", 1700 * time.Millisecond},
		{"tick", 2 * time.Second},
		{"tick", 3 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	if n := v.Pending(); n != 1 {
		t.Errorf("Pending() = %d, want 1 (the periodic tick)", n)
	}
}

func TestVirtualChannelTimer(t *testing.T) {
	v := NewVirtual(t0)
	tm := v.NewTimer(5 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired before the clock moved")
	default:
	}
	v.Advance(4 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	v.Advance(10 * time.Second)
	select {
	case at := <-tm.C():
		if want := t0.Add(5 * time.Second); !at.Equal(want) {
			t.Errorf("timer sent %v, want its deadline %v", at, want)
		}
	default:
		t.Fatal("timer did not fire")
	}

	t.Run("stop drains an unread expiry", func(t *testing.T) {
		tm := v.NewTimer(time.Second)
		v.Advance(time.Second)
		if tm.Stop() {
			t.Errorf("Stop() after expiry = true, want false")
		}
		select {
		case at := <-tm.C():
			t.Errorf("received stale %v after Stop", at)
		default:
		}
	})
	t.Run("reset before expiry moves the deadline", func(t *testing.T) {
		tm := v.NewTimer(time.Second)
		if !tm.Reset(3 * time.Second) {
			t.Errorf("Reset() of a pending timer = false, want true")
		}
		v.Advance(2 * time.Second)
		select {
		case <-tm.C():
			t.Fatal("fired at the old deadline")
		default:
		}
		v.Advance(time.Second)
		select {
		case <-tm.C():
		default:
			t.Fatal("did not fire at the new deadline")
		}
	})
	t.Run("zero duration fires at once", func(t *testing.T) {
		tm := v.NewTimer(0)
		select {
		case at := <-tm.C():
			if !at.Equal(v.Now()) {
				t.Errorf("sent %v, want Now %v", at, v.Now())
			}
		default:
			t.Fatal("NewTimer(0) did not fire at once")
		}
	})
}

func TestVirtualRunUntilIdle(t *testing.T) {
	v := NewVirtual(t0)
	var got []fired
	v.AfterFunc(time.Second, recorder(v, &got, "a"))
	v.AfterFunc(time.Hour, recorder(v, &got, "b"))
	n, idle := v.RunUntilIdle(time.Minute)
	if n != 1 || idle {
		t.Errorf("RunUntilIdle(1m) = %d, %v; want 1, false", n, idle)
	}
	n, idle = v.RunUntilIdle(2 * time.Hour)
	if n != 1 || !idle {
		t.Errorf("RunUntilIdle(2h) = %d, %v; want 1, true", n, idle)
	}
	if want := t0.Add(time.Hour); !v.Now().Equal(want) {
		t.Errorf("Now() = %v, want the last deadline %v", v.Now(), want)
	}
}

// TestVirtualSimulatedHour runs an hour of protocol-like timers: 10 routers,
// each with a Hello every 30 s (RFC 7761 §4.11 Hello_Period) and a jittered
// timer re-armed at a random 0.5-1.5 × 30 s, and checks every expiry fires at
// its deadline, in global deadline order, and none is missing.
func TestVirtualSimulatedHour(t *testing.T) {
	const routers = 10
	const hello = 30 * time.Second
	const horizon = time.Hour

	jitter := func(r *rand.Rand) time.Duration {
		return hello/2 + time.Duration(r.Int64N(int64(hello)))
	}
	// The expected schedule, computed without the clock.
	var want []fired
	for i := range routers {
		offset := time.Duration(i) * 1700 * time.Millisecond
		for at := offset; at <= horizon; at += hello {
			want = append(want, fired{fmt.Sprintf("r%d/hello", i), at})
		}
		r := rand.New(rand.NewPCG(uint64(i), 7))
		for at := jitter(r); at <= horizon; at += jitter(r) {
			want = append(want, fired{fmt.Sprintf("r%d/jitter", i), at})
		}
	}
	slices.SortStableFunc(want, func(a, b fired) int { return int(a.At - b.At) })

	v := NewVirtual(t0)
	var got []fired
	for i := range routers {
		name := fmt.Sprintf("r%d", i)
		var h *VirtualTimer
		h = v.Schedule(t0.Add(time.Duration(i)*1700*time.Millisecond), func() {
			got = append(got, fired{name + "/hello", v.Now().Sub(t0)})
			h.Reset(hello)
		})
		r := rand.New(rand.NewPCG(uint64(i), 7))
		var j *VirtualTimer
		j = v.AfterFunc(jitter(r), func() {
			got = append(got, fired{name + "/jitter", v.Now().Sub(t0)})
			j.Reset(jitter(r))
		})
	}
	start := time.Now()
	n := v.RunFor(horizon)
	wall := time.Since(start)
	t.Logf("simulated %v of %d routers' timers: %d expiries in %v wall time", horizon, routers, n, wall)

	if n != len(want) {
		t.Errorf("RunFor(%v) fired %d timers, want %d", horizon, n, len(want))
	}
	if !slices.IsSortedFunc(got, func(a, b fired) int { return int(a.At - b.At) }) {
		t.Errorf("expiries not in deadline order")
	}
	// Same multiset at the same times; within equal times the order is the
	// scheduling order, which the sorted expectation does not model.
	sortByTimeName := func(s []fired) []fired {
		s = slices.Clone(s)
		slices.SortFunc(s, func(a, b fired) int {
			if a.At != b.At {
				return int(a.At - b.At)
			}
			return strings.Compare(a.Name, b.Name)
		})
		return s
	}
	if diff := cmp.Diff(sortByTimeName(want), sortByTimeName(got)); diff != "" {
		t.Errorf("expiries (-want +got):\n%s", diff)
	}
	if wall > 5*time.Second {
		t.Errorf("an hour of timers took %v of wall time, want well under 5s", wall)
	}
}

func TestRealClock(t *testing.T) {
	c := Real()
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Errorf("Real().Now() = %v, before time.Now() %v", now, before)
	}
	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
	tm.Reset(time.Hour)
	if !tm.Stop() {
		t.Errorf("Stop() of a pending real timer = false, want true")
	}
}

// BenchmarkVirtualPeriodicTimers measures one expiry of a periodic func timer
// among 1000 pending ones (heap pop, callback, re-arm).
func BenchmarkVirtualPeriodicTimers(b *testing.B) {
	v := NewVirtual(t0)
	for i := range 1000 {
		var tm *VirtualTimer
		tm = v.Schedule(t0.Add(time.Duration(i)*time.Millisecond), func() { tm.Reset(time.Second) })
	}
	for b.Loop() {
		v.Step(t0.Add(1000 * time.Hour))
	}
}

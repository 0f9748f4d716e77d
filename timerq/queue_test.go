package timerq

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// op is one step applied to a queue in a table case.
type op struct {
	set    string // key to Set at sec
	cancel string // key to Cancel
	sec    int
}

func TestQueuePopExpired(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		now  int
		want []string
		left int // pending afterwards
		next time.Time
	}{
		{
			name: "empty queue",
			now:  100,
			next: time.Time{},
		},
		{
			name: "deadline order, later ones stay",
			ops:  []op{{set: "c", sec: 30}, {set: "a", sec: 10}, {set: "b", sec: 20}, {set: "d", sec: 40}},
			now:  30,
			want: []string{"a", "b", "c"},
			left: 1,
			next: at(40),
		},
		{
			name: "ties in the order they were set",
			ops:  []op{{set: "x", sec: 5}, {set: "y", sec: 5}, {set: "w", sec: 5}},
			now:  5,
			want: []string{"x", "y", "w"},
		},
		{
			name: "reschedule moves a key and counts as newly set",
			ops:  []op{{set: "a", sec: 5}, {set: "b", sec: 5}, {set: "a", sec: 5}, {set: "c", sec: 1}, {set: "c", sec: 50}},
			now:  10,
			want: []string{"b", "a"},
			left: 1,
			next: at(50),
		},
		{
			name: "cancelled keys never expire",
			ops:  []op{{set: "a", sec: 1}, {set: "b", sec: 2}, {cancel: "a"}, {cancel: "zz"}},
			now:  10,
			want: []string{"b"},
		},
		{
			name: "nothing due yet",
			ops:  []op{{set: "a", sec: 11}},
			now:  10,
			left: 1,
			next: at(11),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue[string]
			for _, o := range tt.ops {
				if o.set != "" {
					q.Set(o.set, at(o.sec))
				} else {
					q.Cancel(o.cancel)
				}
			}
			got := q.PopExpired(at(tt.now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PopExpired (-want +got):\n%s", diff)
			}
			if q.Len() != tt.left {
				t.Errorf("Len() = %d, want %d", q.Len(), tt.left)
			}
			if next := q.NextDeadline(); !next.Equal(tt.next) {
				t.Errorf("NextDeadline() = %v, want %v", next, tt.next)
			}
		})
	}
}

func TestQueueCancelAndDeadline(t *testing.T) {
	var q Queue[int]
	if q.Cancel(1) {
		t.Errorf("Cancel(1) on an empty queue = true, want false")
	}
	q.Set(1, at(10))
	if d, ok := q.Deadline(1); !ok || !d.Equal(at(10)) {
		t.Errorf("Deadline(1) = %v, %v; want %v, true", d, ok, at(10))
	}
	q.Set(1, at(3))
	if d, _ := q.Deadline(1); !d.Equal(at(3)) {
		t.Errorf("Deadline(1) after reschedule = %v, want %v", d, at(3))
	}
	if q.Len() != 1 {
		t.Errorf("Len() after reschedule = %d, want 1", q.Len())
	}
	if !q.Cancel(1) {
		t.Errorf("Cancel(1) = false, want true")
	}
	if _, ok := q.Deadline(1); ok {
		t.Errorf("Deadline(1) after Cancel reports a deadline")
	}
	// A popped key is gone and can be set again.
	q.Set(2, at(1))
	q.PopExpired(at(1))
	if q.Cancel(2) {
		t.Errorf("Cancel of an expired key = true, want false")
	}
	q.Set(2, at(5))
	if got := q.PopExpired(at(5)); !slices.Equal(got, []int{2}) {
		t.Errorf("PopExpired after re-set = %v, want [2]", got)
	}
}

func TestQueuePopNextAllowsRearmInHandler(t *testing.T) {
	var q Queue[string]
	q.Set("periodic", at(10))
	q.Set("other", at(15))
	var got []string
	now := at(35)
	for k, ok := q.PopNext(now); ok; k, ok = q.PopNext(now) {
		d, _ := q.Deadline(k) // gone while being handled
		if !d.IsZero() {
			t.Fatalf("popped key %q still has deadline %v", k, d)
		}
		got = append(got, k)
		if k == "periodic" {
			// Re-armed relative to its own deadline: due again within now.
			q.Set(k, at(10*(countOf(got, "periodic")+1)))
		}
	}
	want := []string{"periodic", "other", "periodic", "periodic"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expiries (-want +got):\n%s", diff)
	}
	if next := q.NextDeadline(); !next.Equal(at(40)) {
		t.Errorf("NextDeadline() = %v, want %v", next, at(40))
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestQueueMatchesSort drives a queue with random sets and cancels and checks
// the expiry order against a sort of the surviving deadlines.
func TestQueueMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q Queue[string]
	type dl struct {
		key string
		at  time.Time
		seq int
	}
	live := map[string]dl{}
	for i := range 5000 {
		k := fmt.Sprintf("k%d", r.IntN(500))
		if r.IntN(4) == 0 {
			q.Cancel(k)
			delete(live, k)
			continue
		}
		a := at(r.IntN(100))
		q.Set(k, a)
		live[k] = dl{k, a, i}
	}
	var want []dl
	for _, d := range live {
		want = append(want, d)
	}
	slices.SortFunc(want, func(a, b dl) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	var wantKeys []string
	for _, d := range want {
		wantKeys = append(wantKeys, d.key)
	}
	if diff := cmp.Diff(wantKeys, q.PopExpired(at(100))); diff != "" {
		t.Errorf("expiry order (-want +got):\n%s", diff)
	}
	if q.Len() != 0 || !q.NextDeadline().IsZero() {
		t.Errorf("queue not empty after popping everything: Len() = %d", q.Len())
	}
}

func BenchmarkQueueSetPop(b *testing.B) {
	var q Queue[int]
	for i := 0; b.Loop(); i++ {
		q.Set(i%1024, at(i%97))
		if i%8 == 0 {
			q.PopExpired(at(i % 97))
		}
	}
}

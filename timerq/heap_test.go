package timerq

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type item struct {
	at  int
	pos int32
}

func (it *item) HeapPos() *int32         { return &it.pos }
func (it *item) Before(other *item) bool { return it.at < other.at }

// TestHeapOrdersUnderFixAndRemove re-arms and removes at random and checks
// that values come out in deadline order, each once, with positions kept.
func TestHeapOrdersUnderFixAndRemove(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]*item, 200)
	var h Heap[*item]
	for i := range items {
		items[i] = &item{at: rng.IntN(1000)}
		h.Fix(items[i])
	}
	for range 500 {
		it := items[rng.IntN(len(items))]
		if rng.IntN(4) == 0 {
			h.Remove(it)
			h.Remove(it) // twice is harmless
		} else {
			it.at = rng.IntN(1000)
			h.Fix(it)
		}
	}
	for i, it := range h {
		if it.pos != int32(i+1) {
			t.Fatalf("item at %d records position %d", i, it.pos)
		}
	}
	want := len(h)
	var got []int
	for {
		it, ok := h.Peek()
		if !ok {
			break
		}
		h.Remove(it)
		if it.pos != 0 {
			t.Fatalf("removed item keeps position %d", it.pos)
		}
		got = append(got, it.at)
	}
	if len(got) != want || !slices.IsSorted(got) {
		t.Errorf("popped %d of %d values, sorted %v: %v", len(got), want, slices.IsSorted(got), got)
	}
}

package prefault

import "testing"

// Slice must touch the capacity, not just the length, and leave the
// contents zero (the memory is fresh: only zero may be written).
func TestSliceTouchesTheWholeCapacityWithZeros(t *testing.T) {
	type rec struct{ a, b, c int64 }
	s := make([]rec, 0, 10_000)
	Slice(s)
	if len(s) != 0 {
		t.Fatalf("len = %d, want 0", len(s))
	}
	for i, r := range s[:cap(s)] {
		if r != (rec{}) {
			t.Fatalf("element %d = %+v after Slice, want zero", i, r)
		}
	}
	Slice([]struct{}{}) // zero-size elements: nothing to touch
	Slice([]rec(nil))   // nil: nothing to touch
}

func BenchmarkSliceFreshMiB(b *testing.B) {
	for range b.N {
		Slice(make([]byte, 0, 1<<20))
	}
}

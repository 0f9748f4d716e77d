package timerq

// Elem is a value kept in an intrusive Heap: it stores its own position (so
// re-arming is an O(log n) fix-up in place, and the heap never holds a value
// twice) and orders itself against another value. Protocol timers embed their
// deadline and position in the state they belong to, so arming one allocates
// nothing.
type Elem[T any] interface {
	// HeapPos points at the value's 1-based position in the heap; 0 means
	// not in the heap. Only the Heap writes it.
	HeapPos() *int32
	// Before reports whether the value fires before other.
	Before(other T) bool
}

// Heap is a binary min-heap of Elems. The zero value is empty and ready.
type Heap[T Elem[T]] []T

// Fix puts t in the heap, or moves it to its place after its deadline changed.
func (h *Heap[T]) Fix(t T) {
	pos := t.HeapPos()
	if *pos == 0 {
		*h = append(*h, t)
		*pos = int32(len(*h))
		h.up(len(*h) - 1)
		return
	}
	i := int(*pos - 1)
	h.up(i)
	h.down(int(*pos - 1))
}

// Remove takes t out of the heap; it does nothing when t is not in it.
func (h *Heap[T]) Remove(t T) {
	pos := t.HeapPos()
	if *pos == 0 {
		return
	}
	i := int(*pos - 1)
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	var zero T
	(*h)[last] = zero
	*h = (*h)[:last]
	*pos = 0
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// Peek returns the earliest value without removing it.
func (h Heap[T]) Peek() (T, bool) {
	if len(h) == 0 {
		var zero T
		return zero, false
	}
	return h[0], true
}

func (h Heap[T]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	*h[i].HeapPos() = int32(i + 1)
	*h[j].HeapPos() = int32(j + 1)
}

func (h Heap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].Before(h[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h Heap[T]) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].Before(h[l]) {
			m = r
		}
		if !h[m].Before(h[i]) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

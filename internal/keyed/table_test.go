package keyed

import (
	"math/rand/v2"
	"testing"
)

type rec struct {
	k   [2]uint64
	val int
}

func recKey(r *rec) [2]uint64 { return r.k }

// Against a Go map, through random puts, replacements, deletes and
// iterations that delete and insert as they go.
func TestTableBehavesLikeAMap(t *testing.T) {
	for _, keys := range []int{1, 7, 100, 5000} {
		rng := rand.New(rand.NewPCG(uint64(keys), 1))
		tb := New[[2]uint64, rec](recKey)
		ref := map[[2]uint64]*rec{}
		key := func() [2]uint64 { return [2]uint64{uint64(rng.IntN(keys)), 42} }
		check := func(step int) {
			t.Helper()
			if tb.Len() != len(ref) {
				t.Fatalf("keys %d step %d: Len = %d, want %d", keys, step, tb.Len(), len(ref))
			}
			seen := map[*rec]bool{}
			for r := range tb.All {
				if seen[r] {
					t.Fatalf("keys %d step %d: %v produced twice", keys, step, r.k)
				}
				seen[r] = true
				if ref[r.k] != r {
					t.Fatalf("keys %d step %d: All produced %v, not the stored record", keys, step, r.k)
				}
			}
			if len(seen) != len(ref) {
				t.Fatalf("keys %d step %d: All produced %d records, want %d", keys, step, len(seen), len(ref))
			}
		}
		for step := range 20 * keys {
			k := key()
			switch op := rng.IntN(10); {
			case op < 5:
				r := &rec{k: k, val: step}
				if old := tb.Put(r); old != ref[k] {
					t.Fatalf("keys %d step %d: Put(%v) replaced %p, want %p", keys, step, k, old, ref[k])
				}
				ref[k] = r
			case op < 8:
				if got := tb.Delete(k); got != ref[k] {
					t.Fatalf("keys %d step %d: Delete(%v) = %p, want %p", keys, step, k, got, ref[k])
				}
				delete(ref, k)
			case op < 9:
				if got := tb.Get(k); got != ref[k] {
					t.Fatalf("keys %d step %d: Get(%v) = %p, want %p", keys, step, k, got, ref[k])
				}
			default:
				// Delete every other record met, and insert a few, while
				// iterating: what is deleted ahead must not come up.
				deleted := map[[2]uint64]bool{}
				n := 0
				for r := range tb.All {
					if deleted[r.k] {
						t.Fatalf("keys %d step %d: %v produced after its deletion", keys, step, r.k)
					}
					if n++; n%2 == 0 {
						tb.Delete(r.k)
						delete(ref, r.k)
						deleted[r.k] = true
					}
					if n%3 == 0 {
						other := key()
						if tb.Delete(other) != nil {
							delete(ref, other)
							deleted[other] = true
						}
					}
					if n%5 == 0 {
						nk := key()
						nr := &rec{k: nk}
						tb.Put(nr)
						ref[nk] = nr
						delete(deleted, nk)
					}
				}
			}
			if step%97 == 0 {
				check(step)
			}
		}
		check(-1)
	}
}

// The table's slots, per record, at the load it runs at: what it saves over a
// map[K]*V is the key in every slot.
func TestTableLoadStaysBetween3Of8And3Of4(t *testing.T) {
	tb := New[[2]uint64, rec](recKey)
	for i := range 100_000 {
		tb.Put(&rec{k: [2]uint64{uint64(i), 1}})
		if load := float64(tb.used) / float64(len(tb.slots)); i > 8 && (load > 0.75 || load < 0.375-1e-9) {
			t.Fatalf("after %d puts the table is %.3f full", i+1, load)
		}
	}
}

// Growing moves records by their stored hashes: a record is a cache miss, and
// reading every one at each doubling was a tenth of a large intake's time.
// Inserting n distinct records reads keys only for the new records and for
// records whose full 32-bit hash matches (next to none).
func TestGrowingReadsNoRecords(t *testing.T) {
	var keyReads int
	tb := New[[2]uint64, rec](func(r *rec) [2]uint64 { keyReads++; return r.k })
	const n = 100_000
	for i := range n {
		tb.Put(&rec{k: [2]uint64{uint64(i), 7}})
	}
	if got := tb.Len(); got != n {
		t.Fatalf("Len = %d, want %d", got, n)
	}
	// One read per Put for its own key, plus a few hash matches; a rehash
	// that read records would add ~2n.
	if keyReads > n+n/100 {
		t.Fatalf("%d puts read keys %d times: growing reads records", n, keyReads)
	}
	for i := range n {
		if r := tb.Get([2]uint64{uint64(i), 7}); r == nil || r.k[0] != uint64(i) {
			t.Fatalf("record %d lost in growing", i)
		}
	}
}

func BenchmarkTableGet(b *testing.B) {
	tb := New[[2]uint64, rec](recKey)
	for i := range 50_000 {
		tb.Put(&rec{k: [2]uint64{uint64(i), 1}})
	}
	b.ResetTimer()
	for i := range b.N {
		if tb.Get([2]uint64{uint64(i % 50_000), 1}) == nil {
			b.Fatal("missing")
		}
	}
}

func BenchmarkMapGet(b *testing.B) {
	m := map[[2]uint64]*rec{}
	for i := range 50_000 {
		k := [2]uint64{uint64(i), 1}
		m[k] = &rec{k: k}
	}
	b.ResetTimer()
	for i := range b.N {
		if m[[2]uint64{uint64(i % 50_000), 1}] == nil {
			b.Fatal("missing")
		}
	}
}

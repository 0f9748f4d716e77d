// Package prefault touches fresh memory so that its page faults happen where
// the caller chooses: Slice for one allocation, HeapAhead for the pages the
// Go heap is about to grow into (and, during a burst of growth, huge pages
// for it, so that there are 512 times fewer faults to take).
//
// A large Go allocation served from memory the OS has just given (or been
// given back, after a scavenge) is not cleared by the runtime: it is known to
// be zero, and each of its pages faults in on the first write. Memory that is
// allocated off the event loop to be filled on it should be touched off the
// loop too, or the loop pays the faults (13-17 µs per 4 KiB page on the VMs
// pim6d is measured on, however often the guest has used the memory before:
// it is the cost of a fault there, not of fresh memory).
package prefault

import "unsafe"

const pageSize = 4096

// Slice writes the zero value into one element per page of s's whole
// capacity, faulting every page in.
func Slice[T any](s []T) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if size == 0 {
		return
	}
	full := s[:cap(s)]
	stride := max(1, pageSize/size)
	for i := 0; i < len(full); i += stride {
		full[i] = zero
	}
	if n := len(full); n > 0 {
		full[n-1] = zero
	}
}

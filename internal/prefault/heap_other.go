//go:build !linux || !(amd64 || arm64)

package prefault

import "errors"

// HeapAhead does nothing here: it needs Linux's MADV_POPULATE_WRITE and
// knowledge of where the Go heap lives, which it has for amd64 and arm64.
type HeapAhead struct{}

// ErrHeapAheadUnsupported says this platform cannot populate memory ahead.
var ErrHeapAheadUnsupported = errors.New("heap prefault is only implemented for Linux on amd64 and arm64")

// StartHeapAhead fails on this platform.
func StartHeapAhead(HeapOptions) (*HeapAhead, error) { return nil, ErrHeapAheadUnsupported }

// Stop does nothing.
func (*HeapAhead) Stop() {}

// Stats is zero.
func (*HeapAhead) Stats() HeapStats { return HeapStats{} }

//go:build race

package prefault

// raceEnabled: the race detector's shadow memory takes page faults of its
// own on every fresh heap page, so fault counts do not measure the heap.
const raceEnabled = true

package main

import (
	"flag"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// faults measures what the machine charges for mapping a page of anonymous
// memory: the page fault every new byte of a growing heap pays once. It is
// the reference for the intake benchmarks' memory figures: at R bytes of RSS
// per (S,G), taking in one (S,G) costs R/4096 of these. It measures, on the
// same memory each run:
//   - the first write to a fresh page (what pim6d's event loop pays for heap
//     growth without --prefault-heap);
//   - the same after MADV_DONTNEED gave the page back (the guest reuses its
//     own recently freed memory: a cost that does not go away when the VM's
//     memory has been used before);
//   - MADV_POPULATE_WRITE plus one read per page, what HeapAhead does off the
//     loop, and the write after it (what the loop then pays).
func faults(args []string) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	mib := fs.Int("mib", 256, "MiB of fresh memory to touch per run")
	runs := fs.Int("runs", 3, "runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *mib << 20
	page := unix.Getpagesize()
	pages := n / page
	perPage := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e3/float64(pages)) }
	write := func(b []byte) time.Duration {
		t0 := time.Now()
		for i := 0; i < n; i += page {
			b[i] = 1
		}
		return time.Since(t0)
	}
	fmt.Println("| run | pages | µs per page: first write | write after MADV_DONTNEED | MADV_POPULATE_WRITE + read | write after that |")
	fmt.Println("|---|---|---|---|---|---|")
	for run := range *runs {
		b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			return fmt.Errorf("mmap %d MiB: %w", *mib, err)
		}
		first := write(b)
		if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
			return err
		}
		again := write(b)
		if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
			return err
		}
		t0 := time.Now()
		populated := "n/a"
		if unix.Madvise(b, unix.MADV_POPULATE_WRITE) == nil {
			var sum byte
			for i := 0; i < n; i += page {
				sum += b[i]
			}
			faultSink = sum
			populated = perPage(time.Since(t0))
		}
		after := write(b)
		if err := unix.Munmap(b); err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %s | %s | %s | %s |\n", run+1, pages, perPage(first), perPage(again), populated, perPage(after))
	}
	return nil
}

// faultSink keeps the reads of the populated pages from being optimised away.
var faultSink byte

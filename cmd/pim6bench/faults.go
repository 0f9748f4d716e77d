package main

import (
	"flag"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// faults measures what the machine charges for the first touch of a page of
// anonymous memory: the page fault every new byte of a growing heap pays
// once. It is the reference for the intake benchmarks' memory figures: at
// R bytes of RSS per (S,G), taking in one (S,G) costs R/4096 of these.
func faults(args []string) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	mib := fs.Int("mib", 256, "MiB of fresh memory to touch per run")
	runs := fs.Int("runs", 3, "runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n := *mib << 20
	page := unix.Getpagesize()
	fmt.Println("| run | pages | first-touch time | µs per page |")
	fmt.Println("|---|---|---|---|")
	for run := range *runs {
		b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			return fmt.Errorf("mmap %d MiB: %w", *mib, err)
		}
		t0 := time.Now()
		for i := 0; i < n; i += page {
			b[i] = 1
		}
		d := time.Since(t0)
		if err := unix.Munmap(b); err != nil {
			return err
		}
		pages := n / page
		fmt.Printf("| %d | %d | %.3f s | %.2f |\n", run+1, pages, d.Seconds(), float64(d.Nanoseconds())/1e3/float64(pages))
	}
	return nil
}

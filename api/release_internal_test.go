package api

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// A big snapshot answer gives its memory back to the OS right after it is
// written; a small one does not pay for a forced GC.
func TestBigSnapshotAnswerReleasesItsMemory(t *testing.T) {
	var released atomic.Int32
	old := releaseMemory
	releaseMemory = func() { released.Add(1) }
	t.Cleanup(func() { releaseMemory = old })

	entries := 10
	provider := func(ctx context.Context) (*Snapshot, error) {
		s := &Snapshot{}
		for i := range entries {
			s.Routes = append(s.Routes, Route{Kind: KindSG, Source: "2001:db8::1", Group: fmt.Sprintf("ff3e::%x", i+1), OIFs: []string{}, Flags: []string{}})
		}
		return s, nil
	}
	path := filepath.Join(t.TempDir(), "pim6d.sock")
	srv, err := Listen(path, ServeOptions{ReleaseAbove: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, provider) }()
	t.Cleanup(func() { cancel(); <-done })

	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		entries      int
		wantReleased int32
	}{{10, 0}, {100, 0}, {101, 1}, {5000, 2}} {
		entries = tc.entries
		s, err := c.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Routes) != tc.entries {
			t.Fatalf("snapshot has %d routes, want %d", len(s.Routes), tc.entries)
		}
		// The release follows the write: a second request on the same
		// connection (answered in order; its filtered snapshot is small)
		// makes sure it has happened.
		if _, err := c.Snapshot(context.Background(), SectionInterfaces); err != nil {
			t.Fatal(err)
		}
		if got := released.Load(); got != tc.wantReleased {
			t.Errorf("after a snapshot of %d entries (ReleaseAbove 100): %d releases, want %d", tc.entries, got, tc.wantReleased)
		}
	}
}

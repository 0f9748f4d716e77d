package api_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/report"
)

// A daemon serves snapshots taken inside its event loop: the provider hands
// the loop a reply channel and waits, bounded by the request's context.
func ExampleServe() {
	snapshotRequests := make(chan chan *api.Snapshot)

	// The event loop (owner of all protocol state) answers between events.
	go func() {
		for reply := range snapshotRequests {
			s := &api.Snapshot{ /* copy state here; api.WantSection(ctx, ...) may trim it */ }
			reply <- s
		}
	}()

	provider := func(ctx context.Context) (*api.Snapshot, error) {
		reply := make(chan *api.Snapshot, 1)
		select {
		case snapshotRequests <- reply:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		select {
		case s := <-reply:
			return s, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := api.Serve(ctx, api.DefaultSocketPath, provider, api.ServeOptions{Daemon: "pim6d 0.1.0"}); err != nil {
		log.Fatal(err) // e.g. api.ErrInUse: another pim6d is running
	}
}

// A client reads the routing table and prints it in the classic layout.
func ExampleDial() {
	c, err := api.Dial(api.DefaultSocketPath)
	if err != nil {
		log.Fatal(err) // wraps api.ErrNotRunning, api.ErrPermission or api.ErrVersionMismatch
	}
	defer c.Close()
	s, err := c.Snapshot(context.Background(), api.SectionInterfaces, api.SectionRoutes)
	if err != nil {
		log.Fatal(err)
	}
	report.Write(os.Stdout, s, []api.Section{api.SectionRoutes})
	fmt.Println(len(s.Routes), "routes")
}

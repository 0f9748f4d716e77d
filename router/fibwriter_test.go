package router

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/mfib"
	"github.com/pim6d/pim6d/stack"
)

// forwardingRoutes lists the router's multicast routes in its table.
func forwardingRoutes(r *coreRunner) []string {
	var out []string
	r.node.Table().Walk(func(rt *stack.Route) bool {
		if rt.Kind == stack.KindMulticast && rt.Protocol == mfib.Protocol {
			out = append(out, fmt.Sprintf("%v %v iif %d oifs %v", rt.Dst, rt.Src, rt.IIF, rt.OIFs))
		}
		return true
	})
	slices.Sort(out)
	return out
}

// With the table writer (pim6d's default), the Core's forwarding routes reach
// the table off the event loop, and the table ends as it does when the Core
// writes it itself: joins install (S,G) routes, leaves remove them, and Close
// removes what is left.
func TestFIBWriterInstallsWhatTheCoreDecides(t *testing.T) {
	type step struct {
		name string
		do   func(h *host)
	}
	s1, s2 := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("2001:db8:1::3")
	var groups []netip.Addr
	for i := range 200 {
		groups = append(groups, netip.MustParseAddr(fmt.Sprintf("ff3e::%x", 0x100+i)))
	}
	steps := []step{
		{"200 groups joined from two sources", func(h *host) {
			for _, g := range groups {
				h.join(s1, g)
				h.join(s2, g)
			}
		}},
		{"half of them left by one source", func(h *host) {
			for _, g := range groups[:100] {
				h.leave(s1, g)
			}
		}},
	}
	run := func(opts ...CoreOption) (tables [][]string, r *coreRunner, l *lab) {
		l, r, h := sourceRouterHost(t, nil)
		r.opts = opts
		l.startCore(r) // restart with the options
		l.run(time.Second)
		for i, s := range steps {
			s.do(h)
			l.run(5 * time.Second)
			if i == 0 && len(opts) > 0 {
				// The loop hands its writes over by itself (no Sync):
				// the writer installs all 400 soon after.
				deadline := time.Now().Add(5 * time.Second)
				for r.core.mfib.Len() < 2*len(groups) && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if n := r.core.mfib.Len(); n != 2*len(groups) {
					t.Errorf("writer installed %d of %d routes without a Sync", n, 2*len(groups))
				}
			}
			r.core.mfib.Sync()
			tables = append(tables, forwardingRoutes(r))
		}
		return tables, r, l
	}
	want, _, _ := run()
	got, r, l := run(WithFIBWriter())
	for i, s := range steps {
		if len(want[i]) == 0 {
			t.Fatalf("%s: the Core without a writer installed nothing", s.name)
		}
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("%s: %d forwarding routes with the writer, %d without", s.name, len(got[i]), len(want[i]))
		}
	}
	if n := r.core.mfib.Len(); n != len(want[len(want)-1]) {
		t.Errorf("mfib Len = %d, table holds %d", n, len(want[len(want)-1]))
	}
	if err := r.core.Close(l.now()); err != nil {
		t.Fatal(err)
	}
	if left := forwardingRoutes(r); len(left) != 0 {
		t.Errorf("after Close the table holds %d forwarding routes, want 0", len(left))
	}
}

//go:build linux

package stack

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"
)

func TestRouteMirror(t *testing.T) {
	p := netip.MustParsePrefix
	gw := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	key := RouteKey{Dst: p("2001:db8:98::/48"), Src: p("::/0")}
	nh2 := NextHop{LinkIndex: 2, Gateway: gw("fe80::2")}
	nh3 := NextHop{LinkIndex: 3, Gateway: gw("fe80::3")}
	nh4 := NextHop{LinkIndex: 4, Gateway: gw("fe80::4")}
	type step struct {
		name       string
		do         func(m *routeMirror)
		wantEvents int
		wantHops   []NextHop // nil: no route in the table
		wantMetric uint32
	}
	steps := []step{
		{"multipath added: one message with every next hop", func(m *routeMirror) {
			m.add(kernelRoute{key: key, metric: 1024, nexthops: []NextHop{nh3, nh2}}, false)
		}, 1, []NextHop{nh2, nh3}, 1024},
		{"same message again changes nothing", func(m *routeMirror) {
			m.add(kernelRoute{key: key, metric: 1024, nexthops: []NextHop{nh2, nh3}}, false)
		}, 0, []NextHop{nh2, nh3}, 1024},
		{"one next hop deleted alone", func(m *routeMirror) {
			m.remove(kernelRoute{key: key, metric: 1024, nexthops: []NextHop{nh3}})
		}, 1, []NextHop{nh2}, 1024},
		{"worse metric does not replace the best", func(m *routeMirror) {
			m.add(kernelRoute{key: key, metric: 2048, nexthops: []NextHop{nh4}}, false)
		}, 0, []NextHop{nh2}, 1024},
		{"better metric replaces", func(m *routeMirror) {
			m.add(kernelRoute{key: key, metric: 10, nexthops: []NextHop{nh3}}, false)
		}, 1, []NextHop{nh3}, 10},
		{"NLM_F_REPLACE replaces the next hops", func(m *routeMirror) {
			m.add(kernelRoute{key: key, metric: 10, nexthops: []NextHop{nh4}}, true)
		}, 1, []NextHop{nh4}, 10},
		{"best removed: the next metric takes over", func(m *routeMirror) {
			m.remove(kernelRoute{key: key, metric: 10, nexthops: []NextHop{nh4}})
		}, 1, []NextHop{nh2}, 1024},
		{"reset to a listing without the route deletes it", func(m *routeMirror) {
			m.reset(nil)
		}, 1, nil, 0},
	}
	m := newRouteMirror()
	table := NewTable()
	log := slog.New(slog.DiscardHandler)
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do(m)
			evs := m.flush(table, log)
			if len(evs) != s.wantEvents {
				t.Errorf("flush() events = %+v, want %d", evs, s.wantEvents)
			}
			rt, ok := table.Get(key.Dst, key.Src, 0)
			if s.wantHops == nil {
				if ok {
					t.Errorf("table has %v, want no route", rt)
				}
				if len(evs) == 1 && !evs[0].Deleted {
					t.Errorf("event %+v, want a deletion", evs[0])
				}
				return
			}
			if !ok || !slices.Equal(rt.NextHops, s.wantHops) || rt.Metric != s.wantMetric || rt.Protocol != "kernel" {
				t.Errorf("table route = %v (metric %d), want next hops %v metric %d", rt, rt.Metric, s.wantHops, s.wantMetric)
			}
			for _, ev := range evs {
				if ev.Route.Stats == nil {
					t.Errorf("event route %v has no Stats", ev.Route.String())
				}
			}
		})
	}
}

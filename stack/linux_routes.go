//go:build linux

package stack

import (
	"cmp"
	"log/slog"
	"slices"
)

// routeMirror keeps the kernel's IPv6 main-table unicast routes and installs
// the best of them per (dst, src, zone) into the Table.
//
// The kernel may hold several routes under one table key with different
// metrics (only the lowest is used), and equal-metric routes with gateways
// form one multipath route. Netlink reports a multipath route with all its
// next hops (RTA_MULTIPATH) when one is added or appended, but the removal of
// one next hop with that next hop alone; so a NEWROUTE adds its next hops to
// what is known under (key, metric) (NLM_F_REPLACE: replaces them) and a
// DELROUTE removes its next hops. Next hops the kernel marks dead when a link
// goes down produce no message at all: the stack re-lists the routes on link
// changes and on overflow (reset).
type routeMirror struct {
	kernel    map[RouteKey]map[uint32][]NextHop
	installed map[RouteKey]Route
	dirty     map[RouteKey]struct{}
}

func newRouteMirror() *routeMirror {
	return &routeMirror{
		kernel:    make(map[RouteKey]map[uint32][]NextHop),
		installed: make(map[RouteKey]Route),
		dirty:     make(map[RouteKey]struct{}),
	}
}

// add records an RTM_NEWROUTE.
func (m *routeMirror) add(kr kernelRoute, replace bool) {
	byMetric := m.kernel[kr.key]
	if byMetric == nil {
		byMetric = make(map[uint32][]NextHop)
		m.kernel[kr.key] = byMetric
	}
	nhs := byMetric[kr.metric]
	if replace {
		nhs = nil
	}
	for _, nh := range kr.nexthops {
		if !slices.Contains(nhs, nh) {
			nhs = append(nhs, nh)
		}
	}
	byMetric[kr.metric] = nhs
	m.dirty[kr.key] = struct{}{}
}

// remove records an RTM_DELROUTE: the listed next hops go; a message without
// next hops removes the whole (key, metric) entry.
func (m *routeMirror) remove(kr kernelRoute) {
	byMetric := m.kernel[kr.key]
	if byMetric == nil {
		return
	}
	nhs := byMetric[kr.metric]
	if len(kr.nexthops) == 0 {
		nhs = nil
	}
	nhs = slices.DeleteFunc(nhs, func(nh NextHop) bool { return slices.Contains(kr.nexthops, nh) })
	if len(nhs) == 0 {
		delete(byMetric, kr.metric)
	} else {
		byMetric[kr.metric] = nhs
	}
	if len(byMetric) == 0 {
		delete(m.kernel, kr.key)
	}
	m.dirty[kr.key] = struct{}{}
}

// reset replaces everything known with a fresh listing.
func (m *routeMirror) reset(all []kernelRoute) {
	for k := range m.kernel {
		m.dirty[k] = struct{}{}
	}
	for k := range m.installed {
		m.dirty[k] = struct{}{}
	}
	clear(m.kernel)
	for _, kr := range all {
		m.add(kr, false)
	}
}

// best returns the route the kernel uses for key k: the lowest metric with a
// live next hop.
func (m *routeMirror) best(k RouteKey) (Route, bool) {
	var r Route
	found := false
	for metric, nhs := range m.kernel[k] {
		if len(nhs) == 0 || (found && metric >= r.Metric) {
			continue
		}
		found = true
		r = Route{Dst: k.Dst, Src: k.Src, Zone: k.Zone, Kind: KindUnicast, Metric: metric, Protocol: "kernel",
			NextHops: slices.SortedFunc(slices.Values(nhs), compareNextHop)}
	}
	return r, found
}

func compareNextHop(a, b NextHop) int {
	if c := cmp.Compare(a.LinkIndex, b.LinkIndex); c != 0 {
		return c
	}
	return a.Gateway.Compare(b.Gateway)
}

func sameUnicast(a, b Route) bool {
	return a.Metric == b.Metric && slices.Equal(a.NextHops, b.NextHops)
}

// flush brings the table in line with the kernel for every key changed since
// the last flush and returns the route events, after the table is updated.
func (m *routeMirror) flush(t *Table, log *slog.Logger) []RouteEvent {
	if len(m.dirty) == 0 {
		return nil
	}
	var ins []Route
	var del []RouteKey
	var deleted []Route
	for k := range m.dirty {
		want, ok := m.best(k)
		have, had := m.installed[k]
		switch {
		case ok && (!had || !sameUnicast(want, have)):
			if err := want.validate(); err != nil {
				log.Warn("kernel route not mirrored", "route", want.String(), "err", err)
				continue
			}
			ins = append(ins, want)
			m.installed[k] = want
		case !ok && had:
			del = append(del, k)
			deleted = append(deleted, have)
			delete(m.installed, k)
		}
	}
	clear(m.dirty)
	if len(ins) > 0 {
		if err := t.InsertBatch(ins); err != nil {
			log.Warn("kernel routes not mirrored", "err", err)
		}
	}
	if len(del) > 0 {
		for i, k := range del {
			if got, ok := t.Get(k.Dst, k.Src, k.Zone); ok {
				deleted[i] = *got // with its counters
			}
		}
		t.DeleteBatch(del)
	}
	evs := make([]RouteEvent, 0, len(ins)+len(deleted))
	for _, r := range deleted {
		evs = append(evs, RouteEvent{Route: r, Deleted: true})
	}
	for _, r := range ins {
		if got, ok := t.Get(r.Dst, r.Src, r.Zone); ok {
			r = *got // with its counters
		}
		evs = append(evs, RouteEvent{Route: r})
	}
	return evs
}

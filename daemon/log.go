package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/stack"
)

// logState logs the links with their addresses, and the unicast routes, that
// the stack found at start.
func (d *daemon) logState() {
	addrs := map[int][]string{}
	for _, a := range d.st.Addrs() {
		addrs[a.LinkIndex] = append(addrs[a.LinkIndex], a.Prefix.String())
	}
	links := d.st.Links()
	for _, l := range links {
		_, enabled := d.cfg.Interface(l)
		d.log.Info("interface", "name", l.Name, "index", l.Index, "mtu", l.MTU,
			"flags", linkFlags(l), "addrs", strings.Join(addrs[l.Index], ","), "pim6d", onOff(enabled))
	}
	n := 0
	d.st.Table().Walk(func(r *stack.Route) bool {
		if r.Kind == stack.KindUnicast {
			d.log.Info("route", "route", formatRoute(r, names(links)))
			n++
		}
		return true
	})
	d.log.Info("found", "interfaces", len(links), "unicast_routes", n, "enabled", len(d.cfg.Enabled(links)))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func linkFlags(l stack.Link) string {
	var f []string
	if l.Up {
		f = append(f, "up")
	} else {
		f = append(f, "down")
	}
	if l.Multicast {
		f = append(f, "multicast")
	}
	if l.Loopback {
		f = append(f, "loopback")
	}
	return strings.Join(f, ",")
}

func names(links []stack.Link) map[int]string {
	m := make(map[int]string, len(links))
	for _, l := range links {
		m[l.Index] = l.Name
	}
	return m
}

// formatRoute writes a unicast route the way ip -6 route does, with link names.
func formatRoute(r *stack.Route, names map[int]string) string {
	var b strings.Builder
	b.WriteString(r.Dst.String())
	if r.Src.Bits() != 0 {
		fmt.Fprintf(&b, " from %s", r.Src)
	}
	for _, nh := range r.NextHops {
		if nh.Gateway.IsValid() {
			fmt.Fprintf(&b, " via %s", nh.Gateway)
		}
		dev, ok := names[nh.LinkIndex]
		if !ok {
			dev = fmt.Sprintf("#%d", nh.LinkIndex)
		}
		fmt.Fprintf(&b, " dev %s", dev)
	}
	if r.Protocol != "" {
		fmt.Fprintf(&b, " proto %s", r.Protocol)
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	return b.String()
}

// logEvent logs one stack event: changes at info, packets and data signals at
// debug. A link's line says whether pim6d runs on it under cfg.
func logEvent(log *slog.Logger, st stack.Stack, cfg *config.Config, ev any) {
	switch e := ev.(type) {
	case stack.LinkEvent:
		l := e.Link
		if e.Deleted {
			log.Info("link removed", "name", l.Name, "index", l.Index)
			return
		}
		_, enabled := cfg.Interface(l)
		log.Info("link", "name", l.Name, "index", l.Index, "mtu", l.MTU, "flags", linkFlags(l), "pim6d", onOff(enabled))
	case stack.AddrEvent:
		what := "address added"
		if e.Deleted {
			what = "address removed"
		}
		log.Info(what, "addr", e.Addr.Prefix.String(), "index", e.Addr.LinkIndex, "link", linkName(st, e.Addr.LinkIndex))
	case stack.RouteEvent:
		what := "route added"
		if e.Deleted {
			what = "route removed"
		}
		log.Info(what, "route", formatRoute(&e.Route, names(st.Links())))
	case stack.PacketEvent:
		if !log.Enabled(context.Background(), slog.LevelDebug) {
			return // the arguments cost more than the event at high rates
		}
		p := e.Packet
		log.Debug("packet", "proto", p.Proto, "src", p.Src, "dst", p.Dst, "link", linkName(st, p.LinkIndex), "len", len(p.Payload))
	case stack.SignalEvent:
		if !log.Enabled(context.Background(), slog.LevelDebug) {
			return
		}
		s := e.Signal
		log.Debug("data signal", "kind", s.Kind, "src", s.Src, "group", s.Group, "link", linkName(st, s.LinkIndex))
	default:
		log.Debug("unknown stack event", "type", fmt.Sprintf("%T", ev))
	}
}

func linkName(st stack.Stack, index int) string {
	for _, l := range st.Links() {
		if l.Index == index {
			return l.Name
		}
	}
	return fmt.Sprintf("#%d", index)
}

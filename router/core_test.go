package router

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/clock"
	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/mfib"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/stack"
)

// The harness of the whole-router simulations: Cores on MemNodes, MLDv2
// listener hosts and data sources, on one virtual clock driven by a Sim.

var (
	allMLDv2Routers = netip.MustParseAddr("ff02::16")
	anyPrefix       = netip.MustParsePrefix("::/0")
)

// lab is a simulated network of pim6d routers and hosts.
type lab struct {
	t       testing.TB
	clk     *clock.Virtual
	net     *stack.MemNetwork
	sim     *Sim
	segs    map[string]*stack.Segment
	routers map[string]*coreRunner
	hosts   map[string]*host
	order   []string // routers in the order they were added
	// starts counts Core starts; with the router's name it seeds the Core's
	// randomness, so runs replay exactly and a restart gets a new GenID.
	starts uint64
}

func newLab(t testing.TB) *lab {
	clk := clock.NewVirtual(simT0)
	return &lab{
		t: t, clk: clk, net: stack.NewMemNetwork(clk), sim: NewSim(clk),
		segs: map[string]*stack.Segment{}, routers: map[string]*coreRunner{}, hosts: map[string]*host{},
	}
}

func (l *lab) now() time.Time { return l.clk.Now() }

func (l *lab) seg(name string) *stack.Segment {
	s := l.segs[name]
	if s == nil {
		s = l.net.AddSegment(name)
		l.segs[name] = s
	}
	return s
}

// coreRunner is the Sim handler of one router: it forwards to the router's
// Core, which a test may close (a dead router) or replace (a restart).
type coreRunner struct {
	name string
	node *stack.MemNode
	cfg  *config.Config
	core *Core // nil while the router is down
	ifs  map[string]int
	opts []CoreOption // NewCore's options, besides the lab's randomness
}

func (r *coreRunner) HandleEvent(now time.Time, ev any) {
	if r.core != nil {
		r.core.HandleEvent(now, ev)
	}
}

func (r *coreRunner) Tick(now time.Time) {
	if r.core != nil {
		r.core.Tick(now)
	}
}

func (r *coreRunner) NextDeadline() time.Time {
	if r.core == nil {
		return time.Time{}
	}
	return r.core.NextDeadline()
}

// addRouter adds a router attached to the named segments in order (its links
// are eth0, eth1, ... with link indexes 1, 2, ...). Its Core starts with start.
func (l *lab) addRouter(name string, segs ...string) *coreRunner {
	n := l.net.AddNode(name)
	n.SetForwarding(true)
	r := &coreRunner{name: name, node: n, cfg: config.Default(), ifs: map[string]int{}}
	for i, s := range segs {
		ifname := fmt.Sprintf("eth%d", i)
		link, err := n.Attach(l.seg(s), ifname)
		if err != nil {
			l.t.Fatal(err)
		}
		r.ifs[s] = link.Index
	}
	l.routers[name] = r
	l.order = append(l.order, name)
	return r
}

// ifname is the router's link name on segment seg.
func (r *coreRunner) ifname(seg string) string {
	idx, ok := r.ifs[seg]
	if !ok {
		panic(fmt.Sprintf("%s is not on %s", r.name, seg))
	}
	return fmt.Sprintf("eth%d", idx-1)
}

// ll is the router's link-local address on segment seg.
func (r *coreRunner) ll(seg string) netip.Addr {
	a, _ := r.node.LinkLocal(r.ifs[seg])
	return a
}

// setDRPriority configures the router's DR priority on segment seg (before start).
func (r *coreRunner) setDRPriority(seg string, prio uint32) {
	ic := config.DefaultInterface(r.ifname(seg))
	ic.PIM.DRPriority = prio
	r.cfg.Interfaces = append(r.cfg.Interfaces, ic)
}

// routeVia adds a static route to dst through the neighbour's address on seg.
func (l *lab) routeVia(r *coreRunner, dst string, seg string, via *coreRunner, metric uint32) {
	l.t.Helper()
	err := r.node.AddRoute(stack.Route{
		Dst: netip.MustParsePrefix(dst), Src: anyPrefix, Kind: stack.KindUnicast, Protocol: "static", Metric: metric,
		NextHops: []stack.NextHop{{LinkIndex: r.ifs[seg], Gateway: via.ll(seg)}},
	})
	if err != nil {
		l.t.Fatal(err)
	}
}

// delRoute removes the static route to dst.
func (l *lab) delRoute(r *coreRunner, dst string) {
	l.t.Helper()
	if !r.node.DelRoute(netip.MustParsePrefix(dst), anyPrefix, 0) {
		l.t.Fatalf("%s has no route to %s", r.name, dst)
	}
}

func (l *lab) addAddr(n *stack.MemNode, ifname, prefix string) {
	l.t.Helper()
	if err := n.AddAddr(ifname, netip.MustParsePrefix(prefix)); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) logger(name string) *slog.Logger {
	if os.Getenv("PIM6D_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("router", name)
}

// startCore starts (or restarts) the router's Core.
func (l *lab) startCore(r *coreRunner) {
	l.t.Helper()
	c, err := NewCore(l.now(), r.node, r.cfg, l.logger(r.name), append([]CoreOption{WithRand(l.nextRand(r.name))}, r.opts...)...)
	if err != nil {
		l.t.Fatalf("NewCore(%s): %v", r.name, err)
	}
	r.core = c
	l.wake(r)
}

// wake makes the Sim look at the router again: its deadline changed without
// an event or a tick (a Core created or dropped by the test), and the Sim
// would otherwise keep its timer at the old Core's deadline.
func (l *lab) wake(r *coreRunner) {
	for _, n := range l.sim.nodes {
		if n.h == Handler(r) {
			n.due = true // visit re-arms the deadline timer only when due or busy
			l.sim.mark(n)
		}
	}
}

// start starts every router's Core and adds every node to the Sim.
func (l *lab) start() {
	l.t.Helper()
	for _, name := range l.order {
		r := l.routers[name]
		l.startCore(r)
		l.sim.AddNode(r.node, r)
	}
	for _, n := range l.net.Nodes() {
		if h := l.hosts[n.Name()]; h != nil {
			l.sim.AddNode(n, h)
		}
	}
}

// crash stops the router's Core without a goodbye (no Hello with holdtime 0),
// as a killed daemon; the kernel's table loses the daemon's routes.
func (l *lab) crash(r *coreRunner) {
	r.core = nil
	l.wake(r)
	var keys []stack.RouteKey
	r.node.Table().Walk(func(rt *stack.Route) bool {
		if rt.Protocol == mfib.Protocol {
			keys = append(keys, stack.RouteKey{Dst: rt.Dst, Src: rt.Src, Zone: rt.Zone})
		}
		return true
	})
	r.node.Table().DeleteBatch(keys)
}

// shutdown stops the router's Core cleanly (RFC 7761 §4.3.1 Hello with
// holdtime 0).
func (l *lab) shutdown(r *coreRunner) {
	l.t.Helper()
	if err := r.core.Close(l.now()); err != nil {
		l.t.Errorf("Close(%s): %v", r.name, err)
	}
	r.core = nil
	l.wake(r)
}

func (l *lab) run(d time.Duration) {
	l.t.Helper()
	if err := l.sim.RunFor(d); err != nil {
		l.t.Fatal(err)
	}
}

// runUntil runs the simulation in steps of step until cond holds or max
// passes, and reports whether it held.
func (l *lab) runUntil(max, step time.Duration, cond func() bool) bool {
	l.t.Helper()
	end := l.now().Add(max)
	for !cond() {
		if !l.now().Before(end) {
			return false
		}
		l.run(step)
	}
	return true
}

// route returns the router's (S,G) route from its snapshot.
func (l *lab) route(r *coreRunner, s, g netip.Addr) (api.Route, bool) {
	if r.core == nil {
		return api.Route{}, false
	}
	for _, rt := range r.core.Snapshot(l.now()).Routes {
		if rt.Source == s.String() && rt.Group == g.String() {
			return rt, true
		}
	}
	return api.Route{}, false
}

// forwards reports whether the router forwards (S,G) from the interface on
// segment in to the interfaces on segments out (exactly).
func (l *lab) forwards(r *coreRunner, s, g netip.Addr, in string, out ...string) bool {
	rt, ok := l.route(r, s, g)
	if !ok {
		return false
	}
	want := make([]string, 0, len(out))
	for _, o := range out {
		want = append(want, r.ifname(o))
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(rt.OIFs))
	return rt.IIF == r.ifname(in) && slices.Equal(got, want)
}

func describeRoute(rt api.Route, ok bool) string {
	if !ok {
		return "no route"
	}
	return fmt.Sprintf("iif %q upstream %q oifs %v joined %v pruned %v leaves %v asserted %v flags %v",
		rt.IIF, rt.Upstream, rt.OIFs, rt.Joined, rt.Pruned, rt.Leaves, rt.Asserted, rt.Flags)
}

// dump is every router's view of (S,G), for failure messages.
func (l *lab) dump(s, g netip.Addr) string {
	out := ""
	for _, name := range l.order {
		rt, ok := l.route(l.routers[name], s, g)
		out += fmt.Sprintf("\n  %s: %s", name, describeRoute(rt, ok))
	}
	return out
}

// host is an end system: an MLDv2 listener (RFC 3810 §6) that reports its
// SSM subscriptions when it joins and when queried, and a data source. It is
// single-homed on eth0.
type host struct {
	lab  *lab
	node *stack.MemNode
	ll   netip.Addr
	// subs are the sources the host listens to per group (INCLUDE mode).
	subs map[netip.Addr][]netip.Addr
	// mute: the host stops answering queries (a crashed or unplugged
	// listener, whose state must time out).
	mute    bool
	queries int
	// lastReport is when the host last sent a Report.
	lastReport time.Time
}

// addHost adds a host on segment seg, with the global address addr if valid.
func (l *lab) addHost(name, seg, addr string) *host {
	n := l.net.AddNode(name)
	link, err := n.Attach(l.seg(seg), "eth0")
	if err != nil {
		l.t.Fatal(err)
	}
	if addr != "" {
		l.addAddr(n, "eth0", addr)
	}
	ll, _ := n.LinkLocal(link.Index)
	h := &host{lab: l, node: n, ll: ll, subs: map[netip.Addr][]netip.Addr{}}
	l.hosts[name] = h
	return h
}

func (h *host) HandleEvent(now time.Time, ev any) {
	pe, ok := ev.(stack.PacketEvent)
	if !ok || pe.Packet.Proto != stack.ProtoICMPv6 {
		return
	}
	m, err := mld.Parse(pe.Packet.Payload)
	if err != nil {
		return
	}
	q, ok := m.(*mld.Query)
	if !ok {
		return
	}
	h.queries++
	if h.mute {
		return
	}
	// RFC 3810 §6.2: the host answers with its current state. Answering at
	// once (no random delay) is allowed and keeps the run short.
	var recs []mld.Record
	for _, g := range slices.SortedFunc(mapKeys(h.subs), netip.Addr.Compare) {
		if !q.IsGeneral() && q.Group != g {
			continue
		}
		recs = append(recs, mld.Record{Type: mld.ModeIsInclude, Group: g, Sources: h.subs[g]})
	}
	h.send(recs...)
}

func (*host) Tick(time.Time)          {}
func (*host) NextDeadline() time.Time { return time.Time{} }

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// send sends an MLDv2 Report with recs (RFC 3810 §5.2: from the link-local
// address to ff02::16, hop limit 1, with a Router Alert).
func (h *host) send(recs ...mld.Record) {
	if len(recs) == 0 {
		return
	}
	h.lastReport = h.lab.now()
	payload := mld.Marshal(&mld.Report{Records: recs}, h.ll, allMLDv2Routers)
	err := h.node.Send(stack.OutPacket{LinkIndex: 1, Src: h.ll, Dst: allMLDv2Routers, HopLimit: 1, RouterAlert: true,
		Proto: stack.ProtoICMPv6, Payload: payload})
	if err != nil {
		h.lab.t.Errorf("%s: send report: %v", h.node.Name(), err)
	}
}

// join subscribes to (S,G) (RFC 3810 §6.1: a State Change Report, ALLOW).
func (h *host) join(s, g netip.Addr) {
	if slices.Contains(h.subs[g], s) {
		return
	}
	h.subs[g] = append(h.subs[g], s)
	h.send(mld.Record{Type: mld.AllowNewSources, Group: g, Sources: []netip.Addr{s}})
}

// leave unsubscribes from (S,G) (RFC 3810 §6.1: BLOCK).
func (h *host) leave(s, g netip.Addr) {
	h.subs[g] = slices.DeleteFunc(h.subs[g], func(x netip.Addr) bool { return x == s })
	if len(h.subs[g]) == 0 {
		delete(h.subs, g)
	}
	h.send(mld.Record{Type: mld.BlockOldSources, Group: g, Sources: []netip.Addr{s}})
}

// inject sends one data packet from the host's (source) address to g.
func (h *host) inject(s, g netip.Addr) {
	if err := h.node.InjectData("eth0", s, g, 100, 64); err != nil {
		h.lab.t.Fatal(err)
	}
}

// received is the number of (S,G) data packets the host received.
func (h *host) received(s, g netip.Addr) uint64 { return h.node.Received(s, g).Packets }

// stream injects n packets of (S,G) from h, every interval, running the
// simulation meanwhile.
func (l *lab) stream(h *host, s, g netip.Addr, n int, interval time.Duration) {
	l.t.Helper()
	for range n {
		h.inject(s, g)
		l.run(interval)
	}
}

func TestHostReportIsAcceptedByTheQuerier(t *testing.T) {
	l := newLab(t)
	r := l.addRouter("r1", "lan")
	h := l.addHost("h1", "lan", "")
	l.start()
	l.run(time.Second)
	s, g := netip.MustParseAddr("2001:db8:1::2"), netip.MustParseAddr("ff3e::1")
	h.join(s, g)
	l.run(time.Second)
	snap := r.core.Snapshot(l.now())
	var found bool
	for _, gr := range snap.Groups {
		if gr.Group == g.String() && slices.Contains(gr.Sources, s.String()) {
			found = true
		}
	}
	if !found {
		t.Fatalf("r1 MLD groups after the host's ALLOW(%v, %v) = %+v, want the source listed", s, g, snap.Groups)
	}
	// The startup queries (RFC 3810 §7.6.2) reached the host.
	if h.queries == 0 {
		t.Errorf("host heard no query from r1 in 1 s")
	}
}

func (l *lab) nextRand(name string) *rand.Rand {
	l.starts++
	return rand.New(rand.NewPCG(l.starts, hashName(name)))
}

// hashName seeds each simulated router's randomness from its name, so a run
// replays exactly.
func hashName(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

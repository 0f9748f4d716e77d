package router

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6d/pim6d/clock"
	"github.com/pim6d/pim6d/stack"
	"github.com/pim6d/pim6d/timerq"
)

const (
	helloPeriod = 30 * time.Second // RFC 7761 §4.11 Hello_Period
	helloDelay  = 5 * time.Second  // RFC 7761 §4.11 Triggered_Hello_Delay
	jitterKey   = -1               // timer key of the jittered timer
)

var allPIMRouters = netip.MustParseAddr("ff02::d")

// helloRouter is a stand-in for the PIM core: a Hello on each link every 30 s
// (first one at a random 0-5 s), a jittered timer re-armed at 0.5-1.5 × 30 s,
// and a count of the Hellos heard from each neighbor. It checks the driver's
// promises: time never goes backwards and Tick comes exactly at the deadline.
type helloRouter struct {
	node   *stack.MemNode
	timers timerq.Queue[int] // link index, or jitterKey
	rng    *rand.Rand

	last       time.Time
	sent       []sent
	heard      map[netip.Addr]int
	rx         []string // "time from" of every Hello heard
	jitters    int
	violations []string
}

type sent struct {
	at   time.Time
	link int
}

func newHelloRouter(node *stack.MemNode, now time.Time, seed uint64) *helloRouter {
	h := &helloRouter{node: node, rng: rand.New(rand.NewPCG(seed, 1)), heard: map[netip.Addr]int{}, last: now}
	for _, l := range node.Links() {
		h.timers.Set(l.Index, now.Add(time.Duration(h.rng.Int64N(int64(helloDelay)))))
	}
	h.timers.Set(jitterKey, now.Add(h.jitter()))
	return h
}

func (h *helloRouter) jitter() time.Duration {
	return helloPeriod/2 + time.Duration(h.rng.Int64N(int64(helloPeriod)))
}

func (h *helloRouter) observe(now time.Time) {
	if now.Before(h.last) {
		h.violations = append(h.violations, fmt.Sprintf("time went back from %v to %v", h.last, now))
	}
	h.last = now
}

func (h *helloRouter) HandleEvent(now time.Time, ev any) {
	h.observe(now)
	if pe, ok := ev.(stack.PacketEvent); ok && pe.Packet.Proto == stack.ProtoPIM {
		src := pe.Packet.Src.WithZone("")
		h.heard[src]++
		h.rx = append(h.rx, fmt.Sprintf("%v %v", now.Sub(simT0), src))
	}
}

func (h *helloRouter) Tick(now time.Time) {
	h.observe(now)
	if dl := h.timers.NextDeadline(); !dl.Equal(now) {
		h.violations = append(h.violations, fmt.Sprintf("ticked at %v for deadline %v", now, dl))
	}
	for _, k := range h.timers.PopExpired(now) {
		if k == jitterKey {
			h.jitters++
			h.timers.Set(jitterKey, now.Add(h.jitter()))
			continue
		}
		err := h.node.Send(stack.OutPacket{LinkIndex: k, Dst: allPIMRouters, Proto: stack.ProtoPIM, Payload: []byte{0x20, 0, 0, 0}})
		if err != nil {
			h.violations = append(h.violations, fmt.Sprintf("send on link %d: %v", k, err))
		}
		h.sent = append(h.sent, sent{now, k})
		h.timers.Set(k, now.Add(helloPeriod))
	}
}

func (h *helloRouter) NextDeadline() time.Time { return h.timers.NextDeadline() }

var simT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// simNet is a simulated network of helloRouters.
type simNet struct {
	net     *stack.MemNetwork
	sim     *Sim
	routers []*helloRouter
	members map[string][]int // segment -> routers (0-based) in attach order
	linkSeg []map[int]string // router -> link index -> segment
	segs    map[string]*stack.Segment
}

func newSimNet(n int) *simNet {
	clk := clock.NewVirtual(simT0)
	s := &simNet{net: stack.NewMemNetwork(clk), sim: NewSim(clk), members: map[string][]int{}, segs: map[string]*stack.Segment{}}
	for i := range n {
		s.net.AddNode(fmt.Sprintf("r%d", i+1)).SetForwarding(true)
		s.linkSeg = append(s.linkSeg, map[int]string{})
	}
	return s
}

// link attaches routers (0-based) to the segment named seg.
func (s *simNet) link(t testing.TB, seg string, routers ...int) {
	t.Helper()
	sg := s.segs[seg]
	if sg == nil {
		sg = s.net.AddSegment(seg)
		s.segs[seg] = sg
	}
	nodes := s.net.Nodes()
	for _, r := range routers {
		l, err := nodes[r].Attach(sg, fmt.Sprintf("eth%d", len(nodes[r].Links())))
		if err != nil {
			t.Fatal(err)
		}
		s.members[seg] = append(s.members[seg], r)
		s.linkSeg[r][l.Index] = seg
	}
}

// start adds a helloRouter per node to the simulation.
func (s *simNet) start() {
	for i, nd := range s.net.Nodes() {
		h := newHelloRouter(nd, s.sim.Clock().Now(), uint64(i))
		s.routers = append(s.routers, h)
		s.sim.AddNode(nd, h)
	}
}

// wantHeard returns how many Hellos each router must have heard by end: one
// for each Hello a segment peer sent early enough to arrive.
func (s *simNet) wantHeard(end time.Time) []int {
	want := make([]int, len(s.routers))
	for from, h := range s.routers {
		for _, snt := range h.sent {
			if snt.at.Add(stack.DefaultMemLatency).After(end) {
				continue
			}
			for _, to := range s.members[s.linkSeg[from][snt.link]] {
				if to != from {
					want[to]++
				}
			}
		}
	}
	return want
}

func (s *simNet) gotHeard() []int {
	got := make([]int, len(s.routers))
	for i, h := range s.routers {
		for _, n := range h.heard {
			got[i] += n
		}
	}
	return got
}

func (s *simNet) violations() []string {
	var v []string
	for i, h := range s.routers {
		for _, x := range h.violations {
			v = append(v, fmt.Sprintf("r%d: %s", i+1, x))
		}
	}
	return v
}

func TestSimHellosOnALAN(t *testing.T) {
	s := newSimNet(3)
	s.link(t, "lan", 0, 1, 2)
	s.start()
	end := simT0.Add(95 * time.Second)
	if err := s.sim.RunUntil(end); err != nil {
		t.Fatal(err)
	}
	if v := s.violations(); len(v) > 0 {
		t.Errorf("driver broke its promises:\n%s", strings.Join(v, "\n"))
	}
	if !s.sim.Clock().Now().Equal(end) {
		t.Errorf("clock at %v after RunUntil(%v)", s.sim.Clock().Now(), end)
	}
	// r1 hears exactly the Hellos r2 and r3 sent, each one latency later, in
	// time order.
	var want []string
	for _, from := range []int{1, 2} {
		ll, _ := s.net.Nodes()[from].LinkLocal(1)
		for _, snt := range s.routers[from].sent {
			want = append(want, fmt.Sprintf("%v %v", snt.at.Add(stack.DefaultMemLatency).Sub(simT0), ll))
		}
	}
	slices.SortFunc(want, func(a, b string) int {
		da, _ := time.ParseDuration(strings.Fields(a)[0])
		db, _ := time.ParseDuration(strings.Fields(b)[0])
		return int(da - db)
	})
	if diff := cmp.Diff(want, s.routers[0].rx); diff != "" {
		t.Errorf("Hellos heard by r1 (-want +got):\n%s", diff)
	}
	// 95 s: Hellos at offset, +30, +60, +90 (offset < 5 s).
	for i, h := range s.routers {
		if len(h.sent) != 4 {
			t.Errorf("r%d sent %d Hellos in 95 s, want 4", i+1, len(h.sent))
		}
		if h.jitters < 1 {
			t.Errorf("r%d: jittered timer never fired", i+1)
		}
	}
	if diff := cmp.Diff(s.wantHeard(end), s.gotHeard()); diff != "" {
		t.Errorf("Hellos heard per router (-want +got):\n%s", diff)
	}
}

func TestSimLinkDownSilencesNeighbor(t *testing.T) {
	s := newSimNet(2)
	s.link(t, "p2p", 0, 1)
	s.start()
	if err := s.sim.RunFor(time.Minute); err != nil {
		t.Fatal(err)
	}
	before := s.gotHeard()[0]
	s.net.Nodes()[0].SetLinkUp("eth0", false)
	if err := s.sim.RunFor(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := s.gotHeard()[0]; got != before {
		t.Errorf("r1 heard %d Hellos with its link down, want none", got-before)
	}
	// r1's own sends fail while down; the helloRouter records them.
	if len(s.routers[0].violations) == 0 {
		t.Errorf("r1 sent on a down link without an error")
	}
}

func TestSimRunawayHandlerIsReported(t *testing.T) {
	clk := clock.NewVirtual(simT0)
	sim := NewSim(clk)
	sim.Add("stuck", make(chan any, 1), stuckHandler{simT0.Add(time.Second)})
	err := sim.RunFor(time.Minute)
	if err == nil || !strings.Contains(err.Error(), "stuck") {
		t.Errorf("RunFor with a handler that never moves its deadline = %v, want an error naming it", err)
	}
}

type stuckHandler struct{ dl time.Time }

func (stuckHandler) HandleEvent(time.Time, any) {}
func (stuckHandler) Tick(time.Time)             {}
func (h stuckHandler) NextDeadline() time.Time  { return h.dl }

// randomNet builds n routers: a ring of point-to-point links plus LANs of 10.
func randomNet(t testing.TB, n int) *simNet {
	s := newSimNet(n)
	for i := range n {
		s.link(t, fmt.Sprintf("p%d", i), i, (i+1)%n)
	}
	for i := 0; i < n; i += 10 {
		var rs []int
		for j := i; j < min(i+10, n); j++ {
			rs = append(rs, j)
		}
		s.link(t, fmt.Sprintf("lan%d", i/10), rs...)
	}
	s.start()
	return s
}

func TestSimDeterministic(t *testing.T) {
	run := func() (string, []string) {
		s := randomNet(t, 30)
		var trace bytes.Buffer
		s.net.SetTrace(&trace)
		if err := s.sim.RunFor(10 * time.Minute); err != nil {
			t.Fatal(err)
		}
		var rx []string
		for _, h := range s.routers {
			rx = append(rx, h.rx...)
		}
		return trace.String(), rx
	}
	trace1, rx1 := run()
	trace2, rx2 := run()
	if trace1 == "" {
		t.Fatal("empty trace")
	}
	if trace1 != trace2 {
		t.Errorf("two runs traced differently:\n%s", cmp.Diff(trace1, trace2))
	}
	if diff := cmp.Diff(rx1, rx2); diff != "" {
		t.Errorf("two runs heard differently (-first +second):\n%s", diff)
	}
}

// TestSimTwoHundredRoutersForAnHour simulates 200 routers (a ring of
// point-to-point links and LANs of 10, three links each) exchanging Hellos
// every 30 s with a jittered timer each, for an hour of virtual time.
func TestSimTwoHundredRoutersForAnHour(t *testing.T) {
	s := randomNet(t, 200)
	start := time.Now()
	if err := s.sim.RunFor(time.Hour); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	end := simT0.Add(time.Hour)
	sentTotal, heardTotal := 0, 0
	for _, h := range s.routers {
		sentTotal += len(h.sent)
	}
	for _, n := range s.gotHeard() {
		heardTotal += n
	}
	t.Logf("200 routers, 1 h virtual: %d Hellos sent, %d received, %d clock timers fired, wall time %v",
		sentTotal, heardTotal, s.sim.Clock().Fired(), wall)
	if v := s.violations(); len(v) > 0 {
		t.Errorf("driver broke its promises (%d), first: %s", len(v), v[0])
	}
	// Every router sends on 3 links from its first Hello (< 5 s) every 30 s.
	if want := 200 * 3 * 120; sentTotal != want {
		t.Errorf("Hellos sent = %d, want %d", sentTotal, want)
	}
	if diff := cmp.Diff(s.wantHeard(end), s.gotHeard()); diff != "" {
		t.Errorf("Hellos heard per router (-want +got):\n%s", diff)
	}
	for i, nd := range s.net.Nodes() {
		if d := nd.Drops(); len(d) > 0 {
			t.Errorf("r%d dropped: %v", i+1, d)
		}
	}
	// Generous: the machine is shared; the figure itself is in the log.
	if limit := 10 * time.Second; wall > limit && !raceEnabled {
		t.Errorf("simulating an hour took %v of wall time, want under %v", wall, limit)
	}
}

// BenchmarkSim200RoutersHour measures one simulated hour of the 200-router
// network of TestSimTwoHundredRoutersForAnHour.
func BenchmarkSim200RoutersHour(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := randomNet(b, 200)
		b.StartTimer()
		if err := s.sim.RunFor(time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// installer is a one-rule control plane: on a no-route signal it installs an
// (S,G) route from the arrival link to every other link.
type installer struct {
	node    *stack.MemNode
	signals []string
}

func (h *installer) HandleEvent(now time.Time, ev any) {
	se, ok := ev.(stack.SignalEvent)
	if !ok {
		return
	}
	s := se.Signal
	h.signals = append(h.signals, fmt.Sprintf("%v %s link %d", now.Sub(simT0), s.Kind, s.LinkIndex))
	if s.Kind != stack.SignalNoRoute {
		return
	}
	var oifs []int
	for _, l := range h.node.Links() {
		if l.Index != s.LinkIndex {
			oifs = append(oifs, l.Index)
		}
	}
	h.node.Table().Insert(stack.Route{
		Dst: netip.PrefixFrom(s.Group, 128), Src: netip.PrefixFrom(s.Src, 128),
		Kind: stack.KindMulticast, IIF: s.LinkIndex, OIFs: oifs, Protocol: "test",
	})
}
func (h *installer) Tick(time.Time)          {}
func (h *installer) NextDeadline() time.Time { return time.Time{} }

// TestSimSignalInstallsRoute runs the data plane and a control plane together:
// the first packet of a source hits the "no state" signal route, the handler
// installs (S,G), and the following packets reach the receiver.
func TestSimSignalInstallsRoute(t *testing.T) {
	clk := clock.NewVirtual(simT0)
	net := stack.NewMemNetwork(clk)
	hs, r1, hr := net.AddNode("hs"), net.AddNode("r1"), net.AddNode("hr")
	lan0, lan1 := net.AddSegment("lan0"), net.AddSegment("lan1")
	for _, a := range []struct {
		n   *stack.MemNode
		seg *stack.Segment
	}{{hs, lan0}, {r1, lan0}, {r1, lan1}, {hr, lan1}} {
		if _, err := a.n.Attach(a.seg, fmt.Sprintf("eth%d", len(a.n.Links()))); err != nil {
			t.Fatal(err)
		}
	}
	r1.SetForwarding(true)
	r1.Table().Insert(stack.Route{Dst: netip.MustParsePrefix("ff00::/8"), Src: netip.MustParsePrefix("::/0"), Kind: stack.KindSignal})
	h := &installer{node: r1}
	sim := NewSim(clk)
	sim.AddNode(r1, h)

	src, grp := netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("ff3e::8000:7")
	for i := range 5 {
		clk.Schedule(simT0.Add(time.Duration(i)*10*time.Millisecond), func() {
			if err := hs.InjectData("eth0", src, grp, 64, 64); err != nil {
				t.Error(err)
			}
		})
	}
	if err := sim.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1ms no-route link 1"}, h.signals); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
	if got := hr.Received(src, grp); got.Packets != 4 || got.HopLimit != 63 {
		t.Errorf("hr.Received = %+v, want 4 packets with hop limit 63 (the first one signalled)", got)
	}
}

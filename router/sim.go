package router

import (
	"fmt"
	"slices"
	"time"

	"github.com/pim6d/pim6d/clock"
	"github.com/pim6d/pim6d/stack"
)

// maxTicksPerInstant bounds how often one handler may be ticked without the
// clock moving: a handler whose Tick leaves its deadline in the past would
// otherwise spin the simulation forever.
const maxTicksPerInstant = 1000

// Sim runs many handlers on one virtual clock, in the calling goroutine and
// without goroutines of its own, so a simulated network is deterministic: the
// same topology and inputs give the same run, packet for packet.
//
// RunUntil repeatedly fires the clock's next timer (a packet crossing a
// stack.MemNetwork segment, or a handler's deadline), then settles: for each
// node with something to do, in the order the nodes were added, it hands every
// event waiting on the node's channel to HandleEvent, then calls Tick if the
// node's deadline has come, and re-arms the node's deadline timer; it repeats
// until no node has anything left to do at this instant. Handlers see time
// only through the now they are passed, which is the clock's.
//
// Nodes added with AddNode tell the Sim when an event arrives (MemNode's
// SetNotify), so only busy nodes are visited; nodes added with Add are looked
// at after every step. Their events channels must be buffered: Sim looks at a
// channel's length and never blocks on it. A Sim is not safe for concurrent
// use.
type Sim struct {
	clk    *clock.Virtual
	nodes  []*simNode
	polled []int // nodes without notification, visited every pass
	dirty  []int // nodes marked since the last pass
}

type simNode struct {
	idx    int
	name   string
	events <-chan any
	h      Handler

	timer  *clock.VirtualTimer // fires at the handler's deadline
	armed  time.Time           // the deadline timer is pending for; zero if none
	due    bool                // the deadline timer fired
	marked bool                // in Sim.dirty

	lastTick time.Time
	ticksNow int // ticks at lastTick, for the runaway guard
}

// NewSim returns a simulation on clk.
func NewSim(clk *clock.Virtual) *Sim {
	return &Sim{clk: clk}
}

// Clock returns the simulation's clock.
func (s *Sim) Clock() *clock.Virtual { return s.clk }

// Add adds a node whose events (a buffered channel) feed h. The Sim checks
// the channel after every step of the clock.
func (s *Sim) Add(name string, events <-chan any, h Handler) {
	n := s.add(name, events, h)
	s.polled = append(s.polled, n.idx)
}

// AddNode adds an in-memory node driven by h. The Sim registers itself with
// the node's SetNotify, to visit it only when an event arrives.
func (s *Sim) AddNode(node *stack.MemNode, h Handler) {
	n := s.add(node.Name(), node.Events(), h)
	node.SetNotify(func() { s.mark(n) })
	s.mark(n) // events queued before it was added
}

func (s *Sim) add(name string, events <-chan any, h Handler) *simNode {
	n := &simNode{idx: len(s.nodes), name: name, events: events, h: h}
	n.timer = s.clk.Schedule(s.clk.Now(), func() {
		n.armed = time.Time{}
		n.due = true
		s.mark(n)
	})
	n.timer.Stop()
	s.nodes = append(s.nodes, n)
	s.rearm(n)
	return n
}

func (s *Sim) mark(n *simNode) {
	if !n.marked {
		n.marked = true
		s.dirty = append(s.dirty, n.idx)
	}
}

// RunFor runs the simulation for d of virtual time.
func (s *Sim) RunFor(d time.Duration) error {
	return s.RunUntil(s.clk.Now().Add(d))
}

// RunUntil runs the simulation until the clock reads end, handling everything
// that happens up to and including end. It fails only if a handler's Tick keeps
// leaving its deadline in the past.
func (s *Sim) RunUntil(end time.Time) error {
	if err := s.Settle(); err != nil {
		return err
	}
	for s.clk.Step(end) {
		if err := s.Settle(); err != nil {
			return err
		}
	}
	s.clk.AdvanceTo(end)
	return s.Settle()
}

// Settle handles, at the current time, every waiting event and due deadline,
// node by node in the order they were added, until there is nothing left to
// do. Tests call it after poking nodes directly (injecting data, flapping a
// link) to see the effect at once.
func (s *Sim) Settle() error {
	var batch []int
	for {
		batch = append(batch[:0], s.dirty...)
		s.dirty = s.dirty[:0]
		batch = append(batch, s.polled...)
		if len(batch) == 0 {
			return nil
		}
		slices.Sort(batch)
		batch = slices.Compact(batch)
		progressed := false
		now := s.clk.Now()
		for _, i := range batch {
			n := s.nodes[i]
			n.marked = false
			busy, err := s.visit(n, now)
			if err != nil {
				return err
			}
			progressed = progressed || busy
		}
		if !progressed && len(s.dirty) == 0 {
			return nil
		}
	}
}

// visit hands a node its waiting events, then ticks it if its deadline has
// come, and reports whether it did anything.
func (s *Sim) visit(n *simNode, now time.Time) (busy bool, err error) {
	for len(n.events) > 0 {
		ev, ok := <-n.events
		if !ok {
			break
		}
		n.h.HandleEvent(now, ev)
		busy = true
	}
	if !busy && !n.due {
		return false, nil
	}
	n.due = false
	if dl := n.h.NextDeadline(); !dl.IsZero() && !dl.After(now) {
		if err := n.guard(now); err != nil {
			return busy, err
		}
		n.h.Tick(now)
		busy = true
	}
	s.rearm(n)
	return busy, nil
}

// rearm points the node's deadline timer at the handler's deadline. A deadline
// already due marks the node, so the current settle ticks it.
func (s *Sim) rearm(n *simNode) {
	dl := n.h.NextDeadline()
	switch {
	case dl.IsZero():
		if !n.armed.IsZero() {
			n.timer.Stop()
			n.armed = time.Time{}
		}
	case !dl.After(s.clk.Now()):
		n.timer.Stop()
		n.armed = time.Time{}
		n.due = true
		s.mark(n)
	case !dl.Equal(n.armed):
		n.timer.ResetAt(dl)
		n.armed = dl
	}
}

func (n *simNode) guard(now time.Time) error {
	if !now.Equal(n.lastTick) {
		n.lastTick, n.ticksNow = now, 0
	}
	n.ticksNow++
	if n.ticksNow > maxTicksPerInstant {
		return fmt.Errorf("router sim: %s ticked %d times at %v: Tick leaves NextDeadline (%v) in the past",
			n.name, n.ticksNow-1, now, n.h.NextDeadline())
	}
	return nil
}

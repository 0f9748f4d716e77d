package pim

import (
	"errors"
	"github.com/pim6d/pim6d/internal/keyed"
	"net/netip"
	"time"

	"github.com/pim6d/pim6d/pim/wire"
)

// Send is one PIM message for the event loop to encode and send.
type Send struct {
	Interface int        // link to send on
	Src, Dst  netip.Addr // Src is the link-local address of Interface
	Message   wire.Message
}

// Router is the PIM core of one router. It is not safe for concurrent use:
// one goroutine owns it.
type Router struct {
	cfg Config
	now int64 // unix ns of the input being processed

	ifs    map[int]*iface
	routes *keyed.Table[sgKey, route] // by (S,G); (*,G) has S = ::
	groups map[[16]byte]*asmGroup     // ASM entries by group (olist_asm.go)
	timers timerHeap

	// Outputs collected during one input, handed out by Outbox.
	out     []Send
	changes []ForwardingChange
	// Capacity handed back by Recycle, for the next Outbox's queues.
	spareOut     []Send
	spareChanges []ForwardingChange

	dirty   []*route
	jp      map[jpKey]*jpBuilder // triggered Join/Prune being packed
	jpKeys  []jpKey              // jp in insertion order
	jpRound uint64               // flushes so far (dedups Prune(S,G,rpt) entries)
	// eomGroups: groups whose Join(*,G) put (S,G,rpt) states in the
	// temporary states during the Join/Prune being processed (§4.5.3).
	eomGroups []netip.Addr
	pacer     pacer
	scratch   []int
	joined    int // routes in upstream Joined state (sizes the pacer)

	drops      [numReasons]uint64
	codecDrops map[string]uint64
	stats      Stats
}

// New returns a Router with no interfaces.
func New(cfg Config) (*Router, error) {
	if cfg.RPF == nil {
		return nil, errors.New("pim: Config.RPF is required")
	}
	if cfg.Rand == nil {
		return nil, errors.New("pim: Config.Rand is required")
	}
	cfg.setDefaults()
	r := &Router{
		cfg:    cfg,
		ifs:    make(map[int]*iface),
		routes: keyed.New[sgKey, route](routeKey),
		groups: make(map[[16]byte]*asmGroup),
		jp:     make(map[jpKey]*jpBuilder),
	}
	r.pacer.t.kind = timerPacer
	r.pacer.t.owner = &r.pacer
	return r, nil
}

// Outbox returns the messages to send and the forwarding changes produced since
// the last call, and empties the queues. The caller owns the returned slices
// (the ForwardingChange slices inside are read-only); it may hand them back
// with Recycle once it is done with them.
func (r *Router) Outbox() ([]Send, []ForwardingChange) {
	out, ch := r.out, r.changes
	r.out, r.changes = r.spareOut, r.spareChanges
	r.spareOut, r.spareChanges = nil, nil
	return out, ch
}

// Recycle gives the Router back the slices of an Outbox call the caller has
// finished with, so that the next changes reuse their space: a caller that
// drains the Outbox after every input then allocates no queue per input.
func (r *Router) Recycle(sends []Send, changes []ForwardingChange) {
	clear(sends)
	clear(changes)
	if len(r.out) == 0 && cap(sends) > cap(r.out) {
		r.out = sends[:0]
	} else {
		r.spareOut = sends[:0]
	}
	if len(r.changes) == 0 && cap(changes) > cap(r.changes) {
		r.changes = changes[:0]
	} else {
		r.spareChanges = changes[:0]
	}
}

// NextDeadline returns when Tick must next be called (zero time: no timer runs).
func (r *Router) NextDeadline() time.Time {
	if len(r.timers) == 0 {
		return time.Time{}
	}
	return time.Unix(0, r.timers[0].when)
}

// Tick fires every timer due at now.
func (r *Router) Tick(now time.Time) {
	r.begin(now)
	for {
		t := r.timers.popDue(r.now)
		if t == nil {
			break
		}
		t.owner.expire(r, t)
	}
	r.finish()
}

func (r *Router) begin(now time.Time) { r.now = now.UnixNano() }

// finish runs after every input: it re-evaluates the routes the input touched
// (JoinDesired, assert predicates, olists), packs and emits the Join/Prune
// messages, and garbage-collects state that has gone back to NoInfo.
func (r *Router) finish() {
	// (*,G) entries first: their olist and JoinDesired(*,G) feed the (S,G)
	// entries of their group, which are marked for evaluation after them.
	for i := 0; i < len(r.dirty); i++ {
		if rt := r.dirty[i]; rt.wc {
			r.evaluate(rt)
			r.dirtyGroup(rt)
		}
	}
	// Evaluating one route can dirty others only through neighbours, never
	// recursively, but guard against growth while iterating anyway.
	for i := 0; i < len(r.dirty); i++ {
		r.evaluate(r.dirty[i])
	}
	// (*,G) entries first again, so that an (S,G) entry is emitted against
	// its (*,G) entry as it stays (or without it, when it is collected).
	for _, wcPass := range [2]bool{true, false} {
		for _, rt := range r.dirty {
			if rt.wc != wcPass || !rt.dirty {
				continue
			}
			rt.dirty = false
			if !r.collect(rt) {
				r.emitForwarding(rt)
			}
		}
	}
	clear(r.dirty)
	r.dirty = r.dirty[:0]
	r.pacer.drain(r)
	r.flushJoinPrune()
}

func (r *Router) markDirty(rt *route) {
	if !rt.dirty {
		rt.dirty = true
		r.dirty = append(r.dirty, rt)
	}
}

// after returns now + d in unix nanoseconds.
func (r *Router) after(d time.Duration) int64 { return r.now + int64(d) }

// randDuration returns a uniformly random duration in [0, d].
func (r *Router) randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(r.cfg.Rand.Int64N(int64(d) + 1))
}

func (r *Router) drop(reason Reason) { r.drops[reason]++ }

// Drops returns the count of inputs dropped for reason.
func (r *Router) Drops(reason Reason) uint64 { return r.drops[reason] }

// Stats returns the event counters.
func (r *Router) Stats() Stats { return r.stats }

// Receive handles one decoded PIM message that arrived on link ifindex from
// src to dst. Messages are validated (RFC 7761 §4.9: link-local source,
// ff02::d destination, from a neighbour where required); rejected ones are
// counted by reason and change no state.
func (r *Router) Receive(now time.Time, ifindex int, src, dst netip.Addr, m wire.Message) {
	r.begin(now)
	defer r.finish()
	ifc := r.ifs[ifindex]
	if ifc == nil {
		r.drop(ReasonUnknownInterface)
		return
	}
	src = src.WithZone("")
	dst = dst.WithZone("")
	switch m := m.(type) {
	case *wire.Hello, *wire.JoinPrune, *wire.Assert:
		if !src.IsLinkLocalUnicast() {
			r.drop(ReasonNotLinkLocal)
			return
		}
		if dst != AllPIMRouters {
			r.drop(ReasonBadDestination)
			return
		}
		if src == ifc.linkLocal {
			r.drop(ReasonOwnMessage)
			return
		}
		switch m := m.(type) {
		case *wire.Hello:
			r.receiveHello(ifc, src, m)
		case *wire.JoinPrune:
			r.receiveJoinPrune(ifc, src, m)
		case *wire.Assert:
			r.receiveAssert(ifc, src, m)
		}
	default:
		r.drop(ReasonUnsupportedType)
	}
}

// send queues a message on ifc to dst from our link-local address.
func (r *Router) send(ifc *iface, dst netip.Addr, m wire.Message) {
	r.out = append(r.out, Send{Interface: ifc.index, Src: ifc.linkLocal, Dst: dst, Message: m})
}

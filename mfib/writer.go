package mfib

import (
	"log/slog"
	"net/netip"
	"sync"

	"github.com/pim6d/pim6d/stack"
)

// The writer moves the table writes of the MFIB off the event loop. Writing a
// route (finding its slot, growing the host index, copying the route) is about
// a third of the event loop's time when a burst of joins arrives, and it
// needs nothing the control plane holds: the loop checks an entry, queues it
// and goes on with the next packet while the other core writes the table.
// Data still flows one way (protocol state → queue → table), and the writer
// keeps the order of the writes, so the table ends as the loop left it.
//
// The loop owns pending; Commit moves it to queued, which the writer takes
// whole. A Commit that finds more than maxQueued writes waiting blocks until
// the writer takes them, so a writer that falls behind slows the loop instead
// of growing the queue without end.

// maxQueued bounds the writes waiting for the writer (~64 B each).
const maxQueued = 1 << 16

// WithWriter makes Set and Delete queue their table writes for a goroutine of
// the MFIB's own; Commit hands them over, Sync waits for them. log, if not
// nil, hears of a write the table refused (which the checks in Set should
// make impossible).
func WithWriter(log *slog.Logger) Option {
	return func(m *MFIB) {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		w := &writer{m: m, log: log, max: maxQueued, wake: make(chan struct{}, 1), done: make(chan struct{})}
		w.cond = sync.NewCond(&w.mu)
		m.w = w
		go w.run()
	}
}

// write is one queued table write.
type write struct {
	src, grp [16]byte
	del      bool
	iif      int32
	flags    uint16
	oifs     int32 // oifs[oifs:oifs+n] of the batch
	n        int32
}

// batch is a run of writes with their OIF lists end to end.
type batch struct {
	writes []write
	oifs   []int
}

func (b *batch) reset() { b.writes, b.oifs = b.writes[:0], b.oifs[:0] }

type writer struct {
	m   *MFIB
	log *slog.Logger
	max int // writes queued beyond which Commit waits (maxQueued)

	pending batch // the loop's, since its last Commit

	mu       sync.Mutex
	cond     *sync.Cond // the writer took queued, or finished a batch
	queued   batch      // committed, not yet taken by the writer
	spare    batch      // the writer's last batch, handed back empty
	busy     bool       // the writer is writing a batch
	stopping bool
	failed   uint64 // writes the table refused

	wake chan struct{}
	done chan struct{}
}

func (w *writer) set(e Entry) {
	b := &w.pending
	wr := write{src: e.Source.As16(), grp: e.Group.As16(),
		iif: int32(e.IIF), flags: uint16(e.Flags), oifs: int32(len(b.oifs)), n: int32(len(e.OIFs))}
	b.oifs = append(b.oifs, e.OIFs...)
	b.writes = append(b.writes, wr)
}

func (w *writer) delete(k Key) {
	src := netip.IPv6Unspecified()
	if !k.Wildcard() {
		src = k.Source.WithZone("")
	}
	w.pending.writes = append(w.pending.writes, write{src: src.As16(), grp: k.Group.WithZone("").As16(), del: true})
}

// commit hands the pending writes to the writer goroutine.
func (w *writer) commit() {
	if len(w.pending.writes) == 0 {
		return
	}
	w.mu.Lock()
	for len(w.queued.writes) >= w.max && !w.stopping {
		w.cond.Wait()
	}
	if len(w.queued.writes) == 0 {
		// The writer took the last batch: swap instead of copying.
		w.queued, w.pending = w.pending, w.queued
	} else {
		base := int32(len(w.queued.oifs))
		w.queued.oifs = append(w.queued.oifs, w.pending.oifs...)
		for _, wr := range w.pending.writes {
			wr.oifs += base
			w.queued.writes = append(w.queued.writes, wr)
		}
	}
	w.mu.Unlock()
	w.pending.reset()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// sync waits until every committed write is in the table.
func (w *writer) sync() {
	w.commit()
	w.mu.Lock()
	for len(w.queued.writes) > 0 || w.busy {
		w.cond.Wait()
	}
	w.mu.Unlock()
}

// stop writes what is queued and ends the goroutine.
func (w *writer) stop() {
	w.sync()
	w.mu.Lock()
	w.stopping = true
	w.cond.Broadcast()
	w.mu.Unlock()
	close(w.wake)
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	for range w.wake {
		for {
			w.mu.Lock()
			if len(w.queued.writes) == 0 {
				w.mu.Unlock()
				break
			}
			b := w.queued
			w.queued, w.spare = w.spare, batch{}
			w.busy = true
			w.cond.Broadcast()
			w.mu.Unlock()

			failed := w.apply(&b)

			b.reset()
			w.mu.Lock()
			w.spare = b
			w.busy = false
			w.failed += failed
			w.cond.Broadcast()
			w.mu.Unlock()
		}
	}
}

// apply writes one batch to the table, in order.
func (w *writer) apply(b *batch) (failed uint64) {
	for i := range b.writes {
		wr := &b.writes[i]
		src := netip.AddrFrom16(wr.src)
		k := Key{Source: src, Group: netip.AddrFrom16(wr.grp)}
		if wr.del {
			w.m.remove(k)
			continue
		}
		e := Entry{Source: src, Group: k.Group, IIF: int(wr.iif), Flags: stack.RouteFlags(wr.flags)}
		if wr.n > 0 {
			e.OIFs = b.oifs[wr.oifs : wr.oifs+wr.n : wr.oifs+wr.n]
		}
		if err := w.m.write(e); err != nil {
			failed++
			w.log.Error("the table refused a forwarding entry", "entry", k.String(), "err", err)
		}
	}
	return failed
}

// Commit hands the writes queued since the last Commit to the writer (without
// a writer: nothing to do). The event loop calls it once per turn.
func (m *MFIB) Commit() {
	if m.w != nil {
		m.w.commit()
	}
}

// Sync waits until every write queued so far is in the table.
func (m *MFIB) Sync() {
	if m.w != nil {
		m.w.sync()
	}
}

// WriteErrors counts the writes the table refused in the writer (the checks
// in Set leave none that should be).
func (m *MFIB) WriteErrors() uint64 {
	if m.w == nil {
		return 0
	}
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	return m.w.failed
}

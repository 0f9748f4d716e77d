//go:build linux

package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// LinuxOptions configure NewLinux.
type LinuxOptions struct {
	Logger *slog.Logger // nil: discard
	// NetNS is the network namespace the stack works in: every socket it opens,
	// also later ones, is created there. Zero or -1: the current namespace.
	// The handle must stay open while the stack runs.
	NetNS netns.NsHandle
	Table *Table // nil: a new table
	// Forward runs the user-space multicast forwarder (Forwarder) on every up
	// multicast link, from Table; its data signals arrive as SignalEvents.
	Forward bool
	// ForwardPriority, when not 0, runs the forwarder's ring threads under
	// SCHED_FIFO with this priority (ForwarderOptions.Priority).
	ForwardPriority int
}

// Linux is the Stack of a Linux network namespace: links, addresses and IPv6
// main-table unicast routes mirrored from the kernel over netlink, PIM over a
// raw IPv6 socket, MLD received through AF_PACKET and sent through a raw
// ICMPv6 socket.
//
// The state found when NewLinux returns is in Links, Addrs and Table; Events
// reports changes from then on. Links lists every link, Up meaning
// administratively up with carrier; Addrs lists the IPv6 addresses usable as
// a source (not tentative, DAD not failed), without zones.
type Linux struct {
	log    *slog.Logger
	ns     netns.NsHandle
	table  *Table
	events chan any
	done   chan struct{}
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu    sync.RWMutex
	links map[int]Link
	addrs map[linuxAddrKey]Addr

	// Owned by the netlink goroutine (and NewLinux before it starts).
	nlEvents *nlConn
	nlDump   *nlConn
	routes   *routeMirror
	joined   map[int]bool // links whose control-packet memberships are in place

	pim  *lxSocket // raw IPv6, protocol 103
	icmp *lxSocket // raw ICMPv6, send only
	mld  *lxSocket // AF_PACKET, receives MLD

	stats linuxCounters

	fwd            *Forwarder // nil unless LinuxOptions.Forward
	signalsDropped atomic.Uint64
}

type linuxAddrKey struct {
	link int
	addr netip.Addr
}

// LinuxStats counts what the Linux stack received, dropped (by reason) and
// how often it had to re-list the kernel's state.
type LinuxStats struct {
	PIMReceived, MLDReceived uint64
	DropMalformed            uint64 // IPv6 or extension headers did not parse
	DropNotMLD               uint64 // passed the kernel filter but is no MLD message
	DropFragment             uint64 // MLD in fragments (RFC 3810 messages are never fragmented)
	DropTruncated            uint64 // larger than the receive buffer
	DropNoPacketInfo         uint64 // PIM without arrival link/destination ancillary data
	Resyncs                  uint64 // netlink overflows or receive errors recovered by re-listing
}

type linuxCounters struct {
	pimReceived, mldReceived                 atomic.Uint64
	dropMalformed, dropNotMLD, dropFragment  atomic.Uint64
	dropTruncated, dropNoPacketInfo, resyncs atomic.Uint64
}

// eventBuffer is the Events channel's capacity. When the consumer falls this
// far behind, the readers wait, and the kernel's socket buffers absorb (or
// drop) what comes meanwhile.
const eventBuffer = 4096

var _ Stack = (*Linux)(nil)

// NewLinux opens the stack in opts.NetNS: it subscribes to netlink, lists
// links, addresses and routes (filling the table), opens the control-packet
// sockets and joins the control groups on every up multicast link. ctx bounds
// only this setup; Close ends the stack.
func NewLinux(ctx context.Context, opts LinuxOptions) (l *Linux, err error) {
	l = &Linux{
		log:    opts.Logger,
		ns:     opts.NetNS,
		table:  opts.Table,
		events: make(chan any, eventBuffer),
		done:   make(chan struct{}),
		links:  make(map[int]Link),
		addrs:  make(map[linuxAddrKey]Addr),
		routes: newRouteMirror(),
		joined: make(map[int]bool),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.log = l.log.With("subsys", "stack")
	if l.table == nil {
		l.table = NewTable()
	}
	defer func() {
		if err != nil {
			l.closeAll()
		}
	}()
	// Subscribe before listing, so no change falls between the two.
	if l.nlEvents, err = openNetlink(l.ns, nlGroups); err != nil {
		return nil, err
	}
	if l.nlDump, err = openNetlink(l.ns, 0); err != nil {
		return nil, err
	}
	if err := l.openControlSockets(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := l.resync(false); err != nil {
		return nil, fmt.Errorf("list kernel state: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Forward {
		l.fwd, err = NewForwarder(ForwarderOptions{Table: l.table, Logger: opts.Logger, NetNS: l.ns, Signal: l.emitSignal, Priority: opts.ForwardPriority})
		if err != nil {
			return nil, err
		}
		l.fwd.SetLinks(l.Links())
	}
	l.wg.Add(3)
	go l.netlinkLoop()
	go l.pimLoop()
	go l.mldLoop()
	return l, nil
}

// Links returns the current links, by index.
func (l *Linux) Links() []Link {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Link, 0, len(l.links))
	for _, lk := range l.links {
		out = append(out, lk)
	}
	slices.SortFunc(out, func(a, b Link) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// Addrs returns the current usable IPv6 addresses, by link and address.
func (l *Linux) Addrs() []Addr {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Addr, 0, len(l.addrs))
	for _, a := range l.addrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Addr) int {
		if c := cmp.Compare(a.LinkIndex, b.LinkIndex); c != 0 {
			return c
		}
		return a.Prefix.Addr().Compare(b.Prefix.Addr())
	})
	return out
}

// Table returns the routing table the stack mirrors kernel routes into.
func (l *Linux) Table() *Table { return l.table }

// Events delivers LinkEvent, AddrEvent, RouteEvent and PacketEvent values. It
// is closed after Close.
func (l *Linux) Events() <-chan any { return l.events }

// Stats returns the stack's counters.
func (l *Linux) Stats() LinuxStats {
	c := &l.stats
	return LinuxStats{
		PIMReceived: c.pimReceived.Load(), MLDReceived: c.mldReceived.Load(),
		DropMalformed: c.dropMalformed.Load(), DropNotMLD: c.dropNotMLD.Load(),
		DropFragment: c.dropFragment.Load(), DropTruncated: c.dropTruncated.Load(),
		DropNoPacketInfo: c.dropNoPacketInfo.Load(), Resyncs: c.resyncs.Load(),
	}
}

// Close closes every socket, stops the goroutines and closes Events. It is
// safe to call more than once.
func (l *Linux) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = l.closeAll()
		l.wg.Wait()
		close(l.events)
	})
	return l.closeErr
}

func (l *Linux) closeAll() error {
	var errs []error
	if l.fwd != nil {
		errs = append(errs, l.fwd.Close())
	}
	for _, c := range []*nlConn{l.nlEvents, l.nlDump} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	for _, s := range []*lxSocket{l.pim, l.icmp, l.mld} {
		if s != nil {
			errs = append(errs, s.close())
		}
	}
	return errors.Join(errs...)
}

func (l *Linux) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// emitSignal delivers a data signal without blocking the forwarder: when the
// control plane is behind, the signal is dropped and counted (signals repeat).
func (l *Linux) emitSignal(s DataSignal) {
	select {
	case l.events <- SignalEvent{Signal: s}:
	default:
		l.signalsDropped.Add(1)
	}
}

// ForwarderStats returns the forwarder's counters (zero when not forwarding).
func (l *Linux) ForwarderStats() ForwarderStats {
	if l.fwd == nil {
		return ForwarderStats{}
	}
	return l.fwd.Stats()
}

// emit delivers ev unless the stack is closing.
func (l *Linux) emit(ev any) bool {
	select {
	case l.events <- ev:
		return true
	case <-l.done:
		return false
	}
}

// netlinkLoop applies kernel notifications to the mirror and reports them.
func (l *Linux) netlinkLoop() {
	defer l.wg.Done()
	for {
		msgs, err := l.nlEvents.recv()
		if l.closed() {
			return
		}
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				l.log.Warn("netlink receive buffer overflowed; re-listing links, addresses and routes")
			} else {
				l.log.Warn("netlink receive failed; re-listing", "err", err)
				select { // do not spin on a persistent error
				case <-time.After(100 * time.Millisecond):
				case <-l.done:
					return
				}
			}
			l.stats.resyncs.Add(1)
			if err := l.nlEvents.discardQueued(); err != nil {
				l.log.Warn("netlink: discarding queued notifications failed", "err", err)
			}
			if err := l.resync(true); err != nil && !l.closed() {
				l.log.Error("re-listing kernel state failed", "err", err)
			}
			continue
		}
		var evs []any
		linksChanged := false
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.RTM_NEWLINK, unix.RTM_DELLINK:
				lk, ok, err := parseLinkMsg(m.Data)
				if err != nil {
					l.log.Warn("bad netlink link message", "err", err)
				}
				if ok {
					evs, linksChanged = l.applyLink(evs, lk, m.Header.Type == unix.RTM_DELLINK, linksChanged)
				}
			case unix.RTM_NEWADDR, unix.RTM_DELADDR:
				a, usable, ok, err := parseAddrMsg(m.Data)
				if err != nil {
					l.log.Warn("bad netlink address message", "err", err)
				}
				if ok {
					evs = l.applyAddr(evs, a, usable && m.Header.Type == unix.RTM_NEWADDR)
				}
			case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
				kr, ok, err := parseRouteMsg(m.Data)
				if err != nil {
					l.log.Warn("bad netlink route message", "err", err)
				}
				if !ok {
					continue
				}
				if m.Header.Type == unix.RTM_NEWROUTE {
					l.routes.add(kr, m.Header.Flags&unix.NLM_F_REPLACE != 0)
				} else {
					l.routes.remove(kr)
				}
			}
		}
		for _, ev := range l.routes.flush(l.table, l.log) {
			evs = append(evs, ev)
		}
		if linksChanged && l.fwd != nil {
			l.fwd.SetLinks(l.Links())
		}
		if linksChanged {
			// Next hops through a link that went down are marked dead (or come
			// back) without a route message: list the routes again.
			if rev, err := l.resyncRoutes(); err != nil {
				if !l.closed() {
					l.log.Warn("re-listing routes after a link change failed", "err", err)
				}
			} else {
				evs = append(evs, rev...)
			}
		}
		for _, ev := range evs {
			if !l.emit(ev) {
				return
			}
		}
	}
}

// applyLink records a link message and appends its events. linksChanged
// becomes true when a link went up, down or away.
func (l *Linux) applyLink(evs []any, lk Link, deleted, linksChanged bool) ([]any, bool) {
	l.mu.Lock()
	old, had := l.links[lk.Index]
	var gone []Addr
	if deleted {
		delete(l.links, lk.Index)
		for k, a := range l.addrs {
			if k.link == lk.Index {
				gone = append(gone, a)
				delete(l.addrs, k)
			}
		}
	} else {
		l.links[lk.Index] = lk
	}
	l.mu.Unlock()
	for _, a := range gone {
		evs = append(evs, AddrEvent{Addr: a, Deleted: true})
	}
	switch {
	case deleted && had:
		delete(l.joined, lk.Index) // the kernel dropped the memberships with the link
		return append(evs, LinkEvent{Link: old, Deleted: true}), true
	case deleted:
		return evs, linksChanged
	}
	l.joinControlGroups(lk)
	if had && sameLink(old, lk) {
		return evs, linksChanged
	}
	return append(evs, LinkEvent{Link: lk}), linksChanged || (had && old.Up != lk.Up)
}

func sameLink(a, b Link) bool {
	return a.Index == b.Index && a.Name == b.Name && a.MTU == b.MTU && a.Up == b.Up &&
		a.Multicast == b.Multicast && a.Loopback == b.Loopback && string(a.HardwareAddr) == string(b.HardwareAddr)
}

// applyAddr records an address that is present (and usable) or not.
func (l *Linux) applyAddr(evs []any, a Addr, present bool) []any {
	k := linuxAddrKey{a.LinkIndex, a.Prefix.Addr()}
	l.mu.Lock()
	old, had := l.addrs[k]
	if present {
		l.addrs[k] = a
	} else {
		delete(l.addrs, k)
	}
	l.mu.Unlock()
	switch {
	case present && (!had || old != a):
		return append(evs, AddrEvent{Addr: a})
	case !present && had:
		return append(evs, AddrEvent{Addr: old, Deleted: true})
	}
	return evs
}

// resync lists links, addresses and routes and brings the mirror in line,
// emitting events for what changed when report is set.
func (l *Linux) resync(report bool) error {
	linkMsgs, err := l.nlDump.dump(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return err
	}
	addrMsgs, err := l.nlDump.dump(unix.RTM_GETADDR, unix.AF_INET6)
	if err != nil {
		return err
	}
	var evs []any
	links := make(map[int]Link)
	for _, b := range linkMsgs {
		lk, ok, err := parseLinkMsg(b)
		if err != nil {
			l.log.Warn("bad netlink link message", "err", err)
		}
		if ok {
			links[lk.Index] = lk
		}
	}
	l.mu.RLock()
	var goneLinks []Link
	for idx, lk := range l.links {
		if _, ok := links[idx]; !ok {
			goneLinks = append(goneLinks, lk)
		}
	}
	l.mu.RUnlock()
	for _, lk := range goneLinks {
		evs, _ = l.applyLink(evs, lk, true, false)
	}
	for _, lk := range links {
		evs, _ = l.applyLink(evs, lk, false, false)
	}
	addrs := make(map[linuxAddrKey]Addr)
	for _, b := range addrMsgs {
		a, usable, ok, err := parseAddrMsg(b)
		if err != nil {
			l.log.Warn("bad netlink address message", "err", err)
		}
		if ok && usable {
			addrs[linuxAddrKey{a.LinkIndex, a.Prefix.Addr()}] = a
		}
	}
	l.mu.RLock()
	var goneAddrs []Addr
	for k, a := range l.addrs {
		if _, ok := addrs[k]; !ok {
			goneAddrs = append(goneAddrs, a)
		}
	}
	l.mu.RUnlock()
	for _, a := range goneAddrs {
		evs = l.applyAddr(evs, a, false)
	}
	for _, a := range addrs {
		evs = l.applyAddr(evs, a, true)
	}
	rev, err := l.resyncRoutes()
	if err != nil {
		return err
	}
	evs = append(evs, rev...)
	if report {
		for _, ev := range evs {
			if !l.emit(ev) {
				return nil
			}
		}
	}
	return nil
}

// resyncRoutes lists the IPv6 routes and returns the events for what changed.
func (l *Linux) resyncRoutes() ([]any, error) {
	msgs, err := l.nlDump.dump(unix.RTM_GETROUTE, unix.AF_INET6)
	if err != nil {
		return nil, err
	}
	var all []kernelRoute
	for _, b := range msgs {
		kr, ok, err := parseRouteMsg(b)
		if err != nil {
			l.log.Warn("bad netlink route message", "err", err)
		}
		if ok {
			all = append(all, kr)
		}
	}
	l.routes.reset(all)
	var evs []any
	for _, ev := range l.routes.flush(l.table, l.log) {
		evs = append(evs, ev)
	}
	return evs, nil
}

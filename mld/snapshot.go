package mld

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6d/pim6d/internal/prefault"
)

// Snapshot is the state of one interface for pim6stat and the UI.
type Snapshot struct {
	LinkIndex      int
	Address        netip.Addr
	Version        Version
	Querier        bool
	QuerierAddress netip.Addr
	// OtherQuerierPresent is the time left on the Other Querier Present timer
	// (0 while we are querier); NextGeneralQuery the time to our next General
	// Query (0 while we are not).
	OtherQuerierPresent time.Duration
	NextGeneralQuery    time.Duration
	StartupQueriesLeft  int
	// Operational values: configured, or adopted from the querier's query.
	Robustness    int
	QueryInterval time.Duration
	Groups        []GroupSnapshot // sorted by group
	Sources       int             // source records over all groups
	Counters      Counters
}

// GroupSnapshot is one multicast address record.
type GroupSnapshot struct {
	Group netip.Addr
	Mode  FilterMode
	// Compat is Version1 while the group is in MLDv1 compatibility mode,
	// else Version2.
	Compat      Version
	FilterTimer time.Duration    // time left on the group timer (EXCLUDE mode)
	CompatTimer time.Duration    // time left on the Older Version Host Present timer
	QueriesLeft int              // Multicast Address Specific Queries still to send
	Sources     []SourceSnapshot // sorted by source
}

// SourceSnapshot is one source record. Timer 0 in EXCLUDE mode means the
// source is excluded.
type SourceSnapshot struct {
	Source      netip.Addr
	Timer       time.Duration
	Forwarded   bool
	QueriesLeft int
}

// Status returns the querier's state without the groups (Snapshot's
// Groups stay nil): cheap at any number of groups.
func (q *Querier) Status(now time.Time) Snapshot {
	n := q.rel(now)
	return Snapshot{
		LinkIndex:           q.linkIndex,
		Address:             q.addr,
		Version:             q.cfg.Version,
		Querier:             q.querier,
		QuerierAddress:      q.querierAddr,
		OtherQuerierPresent: q.otherQuerier.remaining(n),
		NextGeneralQuery:    q.general.remaining(n),
		StartupQueriesLeft:  q.startupLeft,
		Robustness:          q.rv,
		QueryInterval:       q.qi,
		Sources:             q.nsources,
		Counters:            q.counters,
	}
}

// Snapshot returns the interface's state at now, groups sorted.
func (q *Querier) Snapshot(now time.Time) Snapshot {
	sn := q.Capture(now)
	sn.SortGroups()
	return sn
}

// SnapshotSpace is memory for a Capture of many groups, allocated by the
// caller off the event loop (see pim.SnapshotSpace).
type SnapshotSpace struct {
	groups  []GroupSnapshot
	sources []SourceSnapshot
}

// NewSnapshotSpace returns space for a capture of up to groups groups and
// sources source records (see Status: Groups is nil there, Sources counts).
func NewSnapshotSpace(groups, sources int) *SnapshotSpace {
	sp := &SnapshotSpace{groups: make([]GroupSnapshot, 0, groups), sources: make([]SourceSnapshot, 0, sources)}
	prefault.Slice(sp.groups) // the page faults here, off the loop
	prefault.Slice(sp.sources)
	return sp
}

// GroupCount is the number of group records.
func (q *Querier) GroupCount() int { return q.groups.Len() }

// SourceCount is the number of source records over all groups.
func (q *Querier) SourceCount() int { return q.nsources }

// Capture returns the interface's state at now with the groups in no
// particular order (SortGroups sorts them), so that a caller on the event
// loop can leave the sorting of many groups for later. The source lists of
// all groups share one array.
func (q *Querier) Capture(now time.Time) Snapshot { return q.CaptureIn(now, nil) }

// CaptureIn is Capture into the caller's space (nil: allocate).
func (q *Querier) CaptureIn(now time.Time, sp *SnapshotSpace) Snapshot {
	sn := q.Status(now)
	n := q.rel(now)
	if sp == nil || cap(sp.groups) < q.groups.Len() || cap(sp.sources) < q.nsources {
		sp = NewSnapshotSpace(q.groups.Len(), q.nsources)
	}
	sn.Groups = sp.groups[:0]
	arena := sp.sources[:0]
	for g := range q.groups.All {
		gs := GroupSnapshot{
			Group:       g.address(),
			Mode:        g.mode,
			Compat:      Version2,
			FilterTimer: g.filter.remaining(n),
			QueriesLeft: int(g.groupQueries),
		}
		if g.x != nil {
			gs.CompatTimer = g.x.compat.remaining(n)
		}
		if q.v1Compat(g) {
			gs.Compat = Version1
		}
		from := len(arena)
		for s := range g.sources.all() {
			arena = append(arena, SourceSnapshot{
				Source:      s.address(),
				Timer:       s.timer.remaining(n),
				Forwarded:   g.mode == Include || s.timer.running(),
				QueriesLeft: int(s.rexmit),
			})
		}
		if len(arena) > from {
			gs.Sources = arena[from:len(arena):len(arena)]
		}
		sn.Groups = append(sn.Groups, gs)
	}
	return sn
}

// SortGroups sorts the groups, and each group's sources, by address.
func (sn *Snapshot) SortGroups() {
	for i := range sn.Groups {
		slices.SortFunc(sn.Groups[i].Sources, func(a, b SourceSnapshot) int { return a.Source.Compare(b.Source) })
	}
	slices.SortFunc(sn.Groups, func(a, b GroupSnapshot) int { return a.Group.Compare(b.Group) })
}

// Listener returns the current listener state of group, and whether there is
// any (false means INCLUDE {}).
func (q *Querier) Listener(group netip.Addr) (Listener, bool) {
	g := q.groups.Get(group.As16())
	if g == nil {
		return Listener{LinkIndex: q.linkIndex, Group: group.WithZone("")}, false
	}
	return q.listener(g), true
}

// Listeners returns the listener state of every group, sorted by group: what
// PIM needs to (re)build its view of this interface, e.g. after a restart of
// the PIM side.
func (q *Querier) Listeners() []Listener {
	ls := make([]Listener, 0, q.groups.Len())
	for g := range q.groups.All {
		ls = append(ls, q.listener(g))
	}
	slices.SortFunc(ls, func(a, b Listener) int { return a.Group.Compare(b.Group) })
	return ls
}

// SetAddress changes the link-local address queries are sent from. A router
// whose new address is lower than the current querier's takes over at once
// (§7.6.2).
func (q *Querier) SetAddress(now time.Time, addr netip.Addr, out *Output) error {
	if !addr.IsLinkLocalUnicast() {
		return errNotLinkLocal(addr)
	}
	n := q.rel(now)
	addr = addr.WithZone("")
	q.addr = addr
	if q.querier || addr.Less(q.querierAddr) {
		wasQuerier := q.querier
		q.querier, q.querierAddr = true, addr
		q.timers.stop(&q.otherQuerier)
		if !wasQuerier {
			q.rv, q.qi = q.cfg.Robustness, q.cfg.QueryInterval
			q.sendGeneralQuery(n, out)
		}
	}
	q.flush(out)
	return nil
}

// SetConfig applies new settings (a SIGHUP reload) without dropping state.
// Timers already running keep their deadlines; new values apply from their
// next restart. Limits are enforced for new state only.
func (q *Querier) SetConfig(now time.Time, cfg Config, out *Output) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	n := q.rel(now)
	old := q.cfg
	q.cfg = cfg.WithDefaults()
	q.llqcSet = cfg.LastListenerQueryCount != 0
	if q.querier {
		q.rv, q.qi = q.cfg.Robustness, q.cfg.QueryInterval
		if old.QueryInterval != q.cfg.QueryInterval && q.general.running() && q.general.at > n+q.qi {
			q.timers.set(&q.general, n+q.qi)
		}
	}
	q.flush(out)
	return nil
}

// Close forgets every group, reporting each as gone (an interface that went
// down or stopped running MLD).
func (q *Querier) Close(out *Output) {
	for g := range q.groups.All {
		q.deleteGroup(g)
	}
	slices.SortFunc(q.dirty, func(a, b *group) int { return a.address().Compare(b.address()) })
	q.timers.stop(&q.general)
	q.timers.stop(&q.otherQuerier)
	q.flush(out)
}

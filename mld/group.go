package mld

import (
	"net/netip"
	"slices"
	"time"
)

// group is the router's Multicast Address Record for one address on the
// interface (RFC 3810 §7.2): filter mode, filter (group) timer, source
// records, and the MLDv1 compatibility timer.
type group struct {
	ip      [16]byte // the multicast address (address() gives it as a netip.Addr)
	sources sourceSet
	filter  timer       // Multicast Address Timer: runs only in EXCLUDE mode (§7.2.3)
	x       *groupExtra // nil until the group needs one of its rarer timers
	spare   *source     // the source record allocated with the group, until used

	srcQueries   int32 // sources with a retransmission count above zero
	mode         FilterMode
	groupQueries uint8 // Multicast Address Specific Queries still to send
	dirty        bool  // listener state changed since the last flush
	deleted      bool
	// reportedMode and the sources' reported bits are the listener state of
	// the last ListenerChange; x.gone lists the sources reported then whose
	// records were deleted since. Together they give ListenerChange.Was, so
	// the caller needs no copy of every listener state to find what changed.
	reportedMode FilterMode
}

// groupExtra is the part of a group record most groups never use (MLDv1
// hosts, specific-query retransmissions, deleted reported sources), kept
// apart so that the common record stays small.
type groupExtra struct {
	compat timer // Older Version Host Present timer (§8.3.2)
	rexmit timer // next retransmission of specific queries (§7.6.3)
	gone   []netip.Addr
}

// extra returns g's rarer state, creating it on first use.
func (g *group) extra() *groupExtra {
	if g.x == nil {
		g.x = &groupExtra{}
		g.x.compat = timer{kind: timerCompat, g: g}
		g.x.rexmit = timer{kind: timerRexmit, g: g}
	}
	return g.x
}

// groupAlloc is a group with room for its first source: most groups have one
// (an SSM receiver's (S,G)), and one allocation instead of three is what
// taking in 100,000 of them costs least.
type groupAlloc struct {
	g     group
	first source
	list  [1]*source
}

// source is a source record (RFC 3810 §7.2). In EXCLUDE mode a stopped timer
// means the source is in the "excluded" list Y: traffic from it is not
// forwarded.
type source struct {
	ip       [16]byte // the source address (address() gives it as a netip.Addr)
	timer    timer
	rexmit   uint8  // retransmissions of source-specific queries left (§7.6.3.2)
	reported bool   // listed in the last ListenerChange of its group
	mark     uint32 // set-membership generation, see Querier.mark
}

// address is the group's multicast address. (Kept as 16 bytes: a netip.Addr
// is 24 and holds a pointer, and a group with its first source then fits a
// 176-byte allocation instead of 192.)
func (g *group) address() netip.Addr { return netip.AddrFrom16(g.ip) }

// groupKey is the key a group is indexed by.
func groupKey(g *group) [16]byte { return g.ip }

// address is the source's address.
func (s *source) address() netip.Addr { return netip.AddrFrom16(s.ip) }

// v1Compat reports whether the group is in MLDv1 compatibility mode.
func (q *Querier) v1Compat(g *group) bool {
	return q.cfg.Version == Version1 || (g.x != nil && g.x.compat.running())
}

// newGroup creates a record in INCLUDE {} (the state of every group nobody
// reported, §7.4), unless the interface is at MaxGroups.
func (q *Querier) newGroup(addr netip.Addr) *group {
	if q.cfg.MaxGroups > 0 && q.groups.Len() >= q.cfg.MaxGroups {
		q.counters.Ignored[IgnoreGroupLimit]++
		return nil
	}
	ga := &groupAlloc{}
	g := &ga.g
	g.ip = addr.As16()
	g.spare = &ga.first
	g.sources.list = ga.list[:0]
	g.filter = timer{kind: timerGroup, g: g}
	q.groups.Put(g)
	return g
}

func (q *Querier) deleteGroup(g *group) {
	for s := range g.sources.all() {
		q.timers.stop(&s.timer)
		if s.reported {
			x := g.extra()
			x.gone = append(x.gone, s.address())
		}
	}
	q.nsources -= g.sources.len()
	g.sources = sourceSet{}
	q.timers.stop(&g.filter)
	if g.x != nil {
		q.timers.stop(&g.x.compat)
		q.timers.stop(&g.x.rexmit)
	}
	q.groups.Delete(g.ip)
	g.deleted = true
	q.markDirty(g)
}

// deleteIfEmpty removes a group left in INCLUDE {} (§7.2.3, §7.5).
func (q *Querier) deleteIfEmpty(g *group) {
	if g.mode == Include && g.sources.len() == 0 && !g.deleted {
		q.deleteGroup(g)
	}
}

func (q *Querier) markDirty(g *group) {
	if !g.dirty {
		g.dirty = true
		q.dirty = append(q.dirty, g)
	}
}

// setSource arms src's timer at deadline (creating the record if needed,
// within MaxSources); at < 0 stops it, which in EXCLUDE mode puts the source
// on the excluded list. It returns nil when the source was refused.
func (q *Querier) setSource(g *group, addr netip.Addr, at time.Duration) *source {
	s := g.sources.get(addr)
	if s == nil {
		if q.cfg.MaxSources > 0 && q.nsources >= q.cfg.MaxSources {
			q.counters.Ignored[IgnoreSourceLimit]++
			return nil
		}
		if s = g.spare; s != nil {
			g.spare = nil
			*s = source{ip: addr.As16()}
		} else {
			s = &source{ip: addr.As16()}
		}
		s.timer = timer{kind: timerSource, g: g, s: s}
		g.sources.add(s)
		q.nsources++
		if g.mode == Include || at < 0 {
			q.markDirty(g) // INCLUDE gained a source, or EXCLUDE gained an excluded one
		}
	} else if g.mode == Exclude && s.timer.running() != (at >= 0) {
		q.markDirty(g) // moved between the requested and the excluded list
	}
	if at < 0 {
		q.timers.stop(&s.timer)
	} else {
		q.timers.set(&s.timer, at)
	}
	return s
}

func (q *Querier) deleteSource(g *group, s *source) {
	if g.mode == Include || !s.timer.running() {
		q.markDirty(g)
	}
	q.timers.stop(&s.timer)
	if s.rexmit > 0 {
		g.srcQueries--
	}
	g.sources.remove(s)
	q.nsources--
	if s.reported {
		x := g.extra()
		x.gone = append(x.gone, s.address())
	}
}

// markSet marks the existing sources of g listed in srcs with a fresh
// generation, so "in B" / "not in B" is one comparison.
func (q *Querier) markSet(g *group, srcs []netip.Addr) uint32 {
	q.mark++
	if q.mark == 0 { // wrapped: clear stale marks
		for s := range g.sources.all() {
			s.mark = 0
		}
		q.mark = 1
	}
	for _, a := range srcs {
		if s := g.sources.get(a); s != nil {
			s.mark = q.mark
		}
	}
	return q.mark
}

// handleV1Report: RFC 3810 §8.3.2: an MLDv1 Report is IS_EX({}) and puts the
// group in MLDv1 mode for the Older Version Host Present Timeout.
func (q *Querier) handleV1Report(n time.Duration, addr netip.Addr, out *Output) {
	addr = addr.WithZone("")
	if !validGroup(addr) {
		q.counters.Ignored[IgnoreGroup]++
		return
	}
	if isSSM(q.cfg.SSMRange, addr) {
		q.counters.Ignored[IgnoreSSMASM]++ // RFC 4604 §2.2: no ASM join in the SSM range
		return
	}
	if g := q.applyRecord(n, ModeIsExclude, addr, nil, out); g != nil {
		q.timers.set(&g.extra().compat, n+q.ovhpi())
	}
}

// handleV1Done: RFC 3810 §8.3.2: an MLDv1 Done is TO_IN({}).
func (q *Querier) handleV1Done(n time.Duration, addr netip.Addr, out *Output) {
	addr = addr.WithZone("")
	if !validGroup(addr) {
		q.counters.Ignored[IgnoreGroup]++
		return
	}
	if isSSM(q.cfg.SSMRange, addr) {
		q.counters.Ignored[IgnoreSSMASM]++
		return
	}
	q.applyRecord(n, ChangeToInclude, addr, nil, out)
}

// handleRecord checks one MLDv2 Multicast Address Record and applies it.
func (q *Querier) handleRecord(n time.Duration, t RecordType, addr netip.Addr, srcs []netip.Addr, out *Output) {
	addr = addr.WithZone("")
	if t < ModeIsInclude || t > BlockOldSources {
		q.counters.Ignored[IgnoreRecordType]++ // RFC 3810 §5.2.12: unknown types are ignored
		return
	}
	if !validGroup(addr) {
		q.counters.Ignored[IgnoreGroup]++
		return
	}
	for _, s := range srcs {
		if !validSourceAddr(s) {
			q.counters.Ignored[IgnoreBadSource]++
			return
		}
	}
	if (t == ModeIsExclude || t == ChangeToExclude) && isSSM(q.cfg.SSMRange, addr) {
		// RFC 4604 §2.2: EXCLUDE-mode requests for SSM addresses are ignored.
		q.counters.Ignored[IgnoreSSMASM]++
		return
	}
	q.applyRecord(n, t, addr, srcs, out)
}

// applyRecord runs the router state transitions of RFC 3810 §7.4.1 (current
// state records) and §7.4.2 (filter mode and source list changes). It returns
// the group record, or nil when there is none afterwards.
func (q *Querier) applyRecord(n time.Duration, t RecordType, addr netip.Addr, srcs []netip.Addr, out *Output) *group {
	g := q.groups.Get(addr.As16())
	if g == nil {
		// A group nobody reported is INCLUDE {}: only records that add
		// sources or switch to EXCLUDE create state.
		switch t {
		case ModeIsExclude, ChangeToExclude:
		case ModeIsInclude, AllowNewSources, ChangeToInclude:
			if len(srcs) == 0 {
				return nil
			}
		default:
			return nil
		}
		if g = q.newGroup(addr); g == nil {
			return nil
		}
	}
	if q.v1Compat(g) {
		// RFC 3810 §8.3.2: in MLDv1 compatibility mode BLOCK records are
		// ignored, and so are the source lists of TO_EX records.
		switch {
		case t == BlockOldSources:
			q.counters.Ignored[IgnoreCompatBlock]++
			return g
		case t == ChangeToExclude && len(srcs) > 0:
			q.counters.Ignored[IgnoreCompatBlock]++
			srcs = nil
		}
	}
	mali := n + q.mali()
	if g.mode == Include {
		q.includeRecord(n, g, t, srcs, mali, out)
	} else {
		q.excludeRecord(n, g, t, srcs, mali, out)
	}
	q.deleteIfEmpty(g)
	if g.deleted {
		return nil
	}
	return g
}

// includeRecord: router state INCLUDE (A), record with sources B.
func (q *Querier) includeRecord(n time.Duration, g *group, t RecordType, b []netip.Addr, mali time.Duration, out *Output) {
	switch t {
	case ModeIsInclude, AllowNewSources:
		// §7.4.1 INCLUDE (A) IS_IN (B) -> INCLUDE (A+B); (B)=MALI
		// §7.4.2 INCLUDE (A) ALLOW (B) -> INCLUDE (A+B); (B)=MALI
		for _, a := range b {
			q.setSource(g, a, mali)
		}
	case ChangeToInclude:
		// §7.4.2 INCLUDE (A) TO_IN (B) -> INCLUDE (A+B); (B)=MALI; Send Q(MA,A-B)
		m := q.markSet(g, b)
		q.picked = q.picked[:0]
		for s := range g.sources.all() {
			if s.mark != m {
				q.picked = append(q.picked, s)
			}
		}
		for _, a := range b {
			q.setSource(g, a, mali)
		}
		q.sendSourceQuery(n, g, q.picked, out)
	case BlockOldSources:
		// §7.4.2 INCLUDE (A) BLOCK (B) -> INCLUDE (A); Send Q(MA,A*B)
		q.picked = q.picked[:0]
		for _, a := range b {
			if s := g.sources.get(a); s != nil && !slices.Contains(q.picked, s) {
				q.picked = append(q.picked, s)
			}
		}
		q.sendSourceQuery(n, g, q.picked, out)
	case ModeIsExclude, ChangeToExclude:
		// §7.4.1 INCLUDE (A) IS_EX (B) -> EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); MAT=MALI
		// §7.4.2 INCLUDE (A) TO_EX (B) -> EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B);
		//        Send Q(MA,A*B); MAT=MALI
		m := q.markSet(g, b)
		q.picked = q.picked[:0]
		for s := range g.sources.all() {
			if s.mark != m {
				q.deleteSource(g, s)
			} else {
				q.picked = append(q.picked, s) // A*B keeps its timers
			}
		}
		g.mode = Exclude
		q.markDirty(g)
		q.timers.set(&g.filter, mali)
		for _, a := range b {
			if g.sources.get(a) == nil {
				q.setSource(g, a, -1) // B-A, timer 0: excluded
			}
		}
		if t == ChangeToExclude {
			q.sendSourceQuery(n, g, q.picked, out)
		}
	}
}

// excludeRecord: router state EXCLUDE (X, Y), record with sources A.
func (q *Querier) excludeRecord(n time.Duration, g *group, t RecordType, a []netip.Addr, mali time.Duration, out *Output) {
	switch t {
	case ModeIsInclude, AllowNewSources:
		// §7.4.1 EXCLUDE (X,Y) IS_IN (A) -> EXCLUDE (X+A, Y-A); (A)=MALI
		// §7.4.2 EXCLUDE (X,Y) ALLOW (A) -> EXCLUDE (X+A, Y-A); (A)=MALI
		for _, s := range a {
			q.setSource(g, s, mali)
		}
	case ModeIsExclude, ChangeToExclude:
		// §7.4.1 EXCLUDE (X,Y) IS_EX (A) -> EXCLUDE (A-Y, Y*A); (A-X-Y)=MALI;
		//        Delete (X-A); Delete (Y-A); MAT=MALI
		// §7.4.2 EXCLUDE (X,Y) TO_EX (A) -> EXCLUDE (A-Y, Y*A); (A-X-Y)=MAT;
		//        Delete (X-A); Delete (Y-A); Send Q(MA,A-Y); MAT=MALI
		m := q.markSet(g, a)
		for s := range g.sources.all() {
			if s.mark != m {
				q.deleteSource(g, s)
			}
		}
		newAt := mali
		if t == ChangeToExclude {
			newAt = g.filter.at
		}
		for _, addr := range a {
			if g.sources.get(addr) == nil {
				q.setSource(g, addr, newAt)
			}
		}
		if t == ChangeToExclude {
			q.picked = q.picked[:0]
			for _, addr := range a {
				if s := g.sources.get(addr); s != nil && s.timer.running() && !slices.Contains(q.picked, s) {
					q.picked = append(q.picked, s) // A-Y
				}
			}
			q.sendSourceQuery(n, g, q.picked, out)
		}
		q.timers.set(&g.filter, mali)
	case ChangeToInclude:
		// §7.4.2 EXCLUDE (X,Y) TO_IN (A) -> EXCLUDE (X+A, Y-A); (A)=MALI;
		//        Send Q(MA,X-A); Send Q(MA)
		m := q.markSet(g, a)
		q.picked = q.picked[:0]
		for s := range g.sources.all() {
			if s.mark != m && s.timer.running() {
				q.picked = append(q.picked, s) // X-A
			}
		}
		for _, s := range a {
			q.setSource(g, s, mali)
		}
		q.sendSourceQuery(n, g, q.picked, out)
		q.sendGroupQuery(n, g, out)
	case BlockOldSources:
		// §7.4.2 EXCLUDE (X,Y) BLOCK (A) -> EXCLUDE (X+(A-Y), Y); (A-X-Y)=MAT;
		//        Send Q(MA,A-Y)
		q.picked = q.picked[:0]
		for _, addr := range a {
			s := g.sources.get(addr)
			if s == nil {
				s = q.setSource(g, addr, g.filter.at)
			}
			if s != nil && s.timer.running() && !slices.Contains(q.picked, s) {
				q.picked = append(q.picked, s)
			}
		}
		q.sendSourceQuery(n, g, q.picked, out)
	}
}

// sourceTimerExpired: RFC 3810 §7.2.3 (table of source timer meanings): in
// INCLUDE mode the source record is deleted, and with it the group when it was
// the last; in EXCLUDE mode the source joins the excluded list.
func (q *Querier) sourceTimerExpired(n time.Duration, g *group, s *source) {
	if g.mode == Include {
		q.deleteSource(g, s)
		q.deleteIfEmpty(g)
		return
	}
	q.markDirty(g) // timer now 0: excluded
}

// groupTimerExpired: RFC 3810 §7.5: the filter timer of an EXCLUDE-mode
// record expired: switch to INCLUDE with the sources whose timers run; drop
// the excluded ones; drop the record when none remain.
func (q *Querier) groupTimerExpired(n time.Duration, g *group) {
	if g.mode != Exclude {
		return
	}
	for s := range g.sources.all() {
		if !s.timer.running() {
			q.deleteSource(g, s)
		}
	}
	g.mode = Include
	q.markDirty(g)
	q.deleteIfEmpty(g)
}

// listener returns the forwarding view of g (RFC 3810 §6.3).
func (q *Querier) listener(g *group) Listener {
	l, _ := q.listenerIn(g, nil)
	return l
}

// listenerIn is listener with the source list appended to arena (returned
// grown) and the Listener's Sources a full slice of that part.
func (q *Querier) listenerIn(g *group, arena []netip.Addr) (Listener, []netip.Addr) {
	l := Listener{LinkIndex: q.linkIndex, Group: g.address(), Mode: g.mode}
	if g.deleted {
		l.Mode = Include
		return l, arena
	}
	from := len(arena)
	for s := range g.sources.all() {
		if listed(g, s) {
			arena = append(arena, s.address())
		}
	}
	l.Sources = carveSorted(arena, from)
	return l, arena
}

// carveSorted returns arena[from:] sorted, capped so that appending to it
// cannot overwrite what follows; nil when empty.
func carveSorted(arena []netip.Addr, from int) []netip.Addr {
	if len(arena) == from {
		return nil
	}
	part := arena[from:len(arena):len(arena)]
	slices.SortFunc(part, netip.Addr.Compare)
	return part
}

// listed reports whether s is in g's listener source list: requested in
// INCLUDE mode, excluded (timer stopped) in EXCLUDE mode.
func listed(g *group, s *source) bool {
	return !g.deleted && (g.mode == Include || !s.timer.running())
}

// reportedIn returns the listener state of g's last ListenerChange (its
// sources appended to arena, returned grown) and marks the current state as
// reported.
func (q *Querier) reportedIn(g *group, arena []netip.Addr) (Listener, []netip.Addr) {
	was := Listener{LinkIndex: q.linkIndex, Group: g.address(), Mode: g.reportedMode}
	from := len(arena)
	if g.x != nil {
		arena = append(arena, g.x.gone...)
		g.x.gone = nil
	}
	for s := range g.sources.all() {
		if s.reported {
			arena = append(arena, s.address())
		}
		s.reported = listed(g, s)
	}
	was.Sources = carveSorted(arena, from)
	g.reportedMode = g.mode
	if g.deleted {
		g.reportedMode = Include
	}
	return was, arena
}

// flush appends a change for each group whose listener state changed. The
// changes' source lists share out's address array.
func (q *Querier) flush(out *Output) {
	for i, g := range q.dirty {
		g.dirty = false
		var ch ListenerChange
		ch.Listener, out.addrs = q.listenerIn(g, out.addrs)
		ch.Was, out.addrs = q.reportedIn(g, out.addrs)
		out.Changes = append(out.Changes, ch)
		q.dirty[i] = nil
	}
	q.dirty = q.dirty[:0]
}

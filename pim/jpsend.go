package pim

import (
	"net/netip"

	"github.com/pim6d/pim6d/pim/wire"
)

// Join/Prune sizes for IPv6 (RFC 7761 §4.9.5, §4.9.1): PIM header, Encoded-
// Unicast upstream neighbour, reserved + group count + holdtime; per group an
// Encoded-Group and the two counts; per source an Encoded-Source.
const (
	ipv6HeaderLen   = 40
	jpHeaderLen     = 4 + 2 + 16 + 4
	jpGroupLen      = 4 + 16 + 4
	jpSourceLen     = 4 + 16
	jpMaxGroups     = 255
	jpMaxSourceRefs = 0xffff
)

// jpKey identifies one Join/Prune being packed: the link and the upstream
// neighbour it is addressed to.
type jpKey struct {
	ifindex  int
	upstream netip.Addr
}

// jpBuilder packs the (S,G) entries for one upstream neighbour.
type jpBuilder struct {
	ifc    *iface
	groups []wire.JoinPruneGroup
	index  map[netip.Addr]int
}

// addEntry adds Join (join) or Prune of rt — (S,G), or (*,G) encoded as the
// RP with the WC and RPT bits (§4.9.5.1) — to the message for upstream on ifc;
// flushJoinPrune packs and sends them when the current input is done. A
// Join(*,G) carries the group's Prune(S,G,rpt) entries along (§4.5.8, §4.5.10).
func (r *Router) addEntry(ifc *iface, upstream netip.Addr, rt *route, join bool) {
	es := wire.EncodedSource{Addr: rt.src, MaskLen: 128, Sparse: true}
	if rt.wc {
		es = wire.EncodedSource{Addr: r.rpOfWC(rt), MaskLen: 128, Sparse: true, WC: true, RPT: true}
	}
	r.addSource(ifc, upstream, rt.grp, es, join)
	if rt.wc && join {
		r.addRptPrunes(ifc, upstream, rt)
	}
}

// addRptEntry adds Join(S,G,rpt) or Prune(S,G,rpt) of rt (S with the RPT bit,
// §4.9.5.1) to the message for upstream on ifc.
func (r *Router) addRptEntry(ifc *iface, upstream netip.Addr, rt *route, join bool) {
	r.addSource(ifc, upstream, rt.grp, wire.EncodedSource{Addr: rt.src, MaskLen: 128, Sparse: true, RPT: true}, join)
}

func (r *Router) addSource(ifc *iface, upstream netip.Addr, g netip.Addr, es wire.EncodedSource, join bool) {
	k := jpKey{ifc.index, upstream}
	b := r.jp[k]
	if b == nil {
		b = &jpBuilder{ifc: ifc, index: make(map[netip.Addr]int)}
		r.jp[k] = b
		r.jpKeys = append(r.jpKeys, k)
	}
	i, ok := b.index[g]
	if !ok {
		i = len(b.groups)
		b.index[g] = i
		b.groups = append(b.groups, wire.JoinPruneGroup{Group: wire.EncodedGroup{Addr: g, MaskLen: 128}})
	}
	grp := &b.groups[i]
	if join {
		grp.Joins = append(grp.Joins, es)
		r.stats.JoinEntriesSent++
	} else {
		grp.Prunes = append(grp.Prunes, es)
		r.stats.PruneEntriesSent++
	}
}

// flushJoinPrune sends the packed messages, each preceded by an owed Hello.
func (r *Router) flushJoinPrune() {
	if len(r.jpKeys) == 0 {
		return
	}
	r.jpRound++
	holdtime := holdtimeSeconds(r.cfg.JoinPruneHoldtime)
	for _, k := range r.jpKeys {
		b := r.jp[k]
		delete(r.jp, k)
		if r.ifs[k.ifindex] != b.ifc {
			continue // the interface went away meanwhile
		}
		r.payHelloDebt(b.ifc)
		for _, m := range packJoinPrune(k.upstream, holdtime, b.groups, b.ifc.mtu-ipv6HeaderLen) {
			r.stats.JoinPrunesSent++
			r.send(b.ifc, AllPIMRouters, m)
		}
	}
	r.jpKeys = r.jpKeys[:0]
}

// packJoinPrune splits groups into as few Join/Prune messages as fit in
// maxLen bytes each (§4.9.5: a group whose sources do not fit continues in the
// next message).
func packJoinPrune(upstream netip.Addr, holdtime uint16, groups []wire.JoinPruneGroup, maxLen int) []*wire.JoinPrune {
	if maxLen < jpHeaderLen+jpGroupLen+jpSourceLen {
		maxLen = jpHeaderLen + jpGroupLen + jpSourceLen
	}
	var msgs []*wire.JoinPrune
	cur := &wire.JoinPrune{UpstreamNeighbor: upstream, Holdtime: holdtime}
	size := jpHeaderLen
	emit := func() {
		msgs = append(msgs, cur)
		cur = &wire.JoinPrune{UpstreamNeighbor: upstream, Holdtime: holdtime}
		size = jpHeaderLen
	}
	for _, g := range groups {
		joins, prunes := g.Joins, g.Prunes
		for len(joins)+len(prunes) > 0 {
			if len(cur.Groups) > 0 && (size+jpGroupLen+jpSourceLen > maxLen || len(cur.Groups) == jpMaxGroups) {
				emit()
			}
			room := (maxLen - size - jpGroupLen) / jpSourceLen
			nj := min(len(joins), room, jpMaxSourceRefs)
			np := min(len(prunes), room-nj, jpMaxSourceRefs)
			cur.Groups = append(cur.Groups, wire.JoinPruneGroup{Group: g.Group, Joins: joins[:nj:nj], Prunes: prunes[:np:np]})
			size += jpGroupLen + (nj+np)*jpSourceLen
			joins, prunes = joins[nj:], prunes[np:]
		}
	}
	if len(cur.Groups) > 0 {
		msgs = append(msgs, cur)
	}
	return msgs
}

// joinPruneLen is the encoded length of m (for tests and MTU checks).
func joinPruneLen(m *wire.JoinPrune) int {
	n := jpHeaderLen
	for _, g := range m.Groups {
		n += jpGroupLen + (len(g.Joins)+len(g.Prunes))*jpSourceLen
	}
	return n
}

// pacer spreads periodic Join refreshes: Join Timers that expire at the same
// moment queue here and go out at most perSlot entries per PaceInterval,
// sized so that every joined entry can be refreshed within half a t_periodic.
// Because each entry's Join Timer restarts when its Join is actually sent,
// entries that were joined in one burst drift apart and stay spread.
type pacer struct {
	t       timer
	queue   []*route
	head    int
	slotEnd int64
	left    int
}

func (p *pacer) expire(*Router, *timer) {} // the drain in finish does the work

func (p *pacer) enqueue(r *Router, rt *route) {
	if rt.queued {
		return
	}
	rt.queued = true
	p.queue = append(p.queue, rt)
}

func (p *pacer) perSlot(r *Router) int {
	half := int64(r.cfg.JoinPrunePeriod / 2)
	n := int(int64(r.joined) * int64(r.cfg.PaceInterval) / max(half, 1))
	return max(n+1, r.cfg.MinPaceEntries)
}

func (p *pacer) drain(r *Router) {
	if p.head == len(p.queue) {
		return
	}
	if r.now >= p.slotEnd {
		p.slotEnd = r.now + int64(r.cfg.PaceInterval)
		p.left = p.perSlot(r)
	}
	for p.left > 0 && p.head < len(p.queue) {
		rt := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if !rt.queued {
			continue // suppressed, overridden or deleted while waiting
		}
		rt.queued = false
		if rt.up != upJoined {
			continue
		}
		r.sendPeriodicJoin(rt)
		p.left--
	}
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
		r.timers.stop(&p.t)
		return
	}
	if p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	r.timers.set(&p.t, p.slotEnd)
}

func (p *pacer) reset(r *Router) {
	clear(p.queue)
	p.queue, p.head = p.queue[:0], 0
	r.timers.stop(&p.t)
}

// Pending returns how many periodic refreshes wait in the pacer.
func (p *pacer) pending() int { return len(p.queue) - p.head }

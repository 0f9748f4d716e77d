package mld

import (
	"net/netip"
	"slices"
	"time"
)

// sendGroupQuery is the table action "Send Q(MA)" (RFC 3810 §7.6.3.1): lower
// the group timer to LLQT, send a Multicast Address Specific Query now and
// LLQC-1 more every LLQI. Only the querier sends; the others lower their
// timers when they hear its query (§7.6.1).
func (q *Querier) sendGroupQuery(n time.Duration, g *group, out *Output) {
	if !q.querier {
		return
	}
	if llqt := n + q.llqt(); g.filter.running() && g.filter.at > llqt {
		q.timers.set(&g.filter, llqt)
	}
	g.groupQueries = uint8(q.llqc())
	q.emitGroupQuery(n, g, out)
	q.armRetransmit(n, g)
}

// emitGroupQuery sends one Multicast Address Specific Query, with the S flag
// set when the group timer is still above LLQT (§7.6.3.1): a report arrived
// since the first query, and other routers must not lower their timers.
func (q *Querier) emitGroupQuery(n time.Duration, g *group, out *Output) {
	if g.groupQueries == 0 {
		return
	}
	g.groupQueries--
	q.emitQuery(out, g.address(), &Query{
		V1:                 q.cfg.Version == Version1,
		MaxRespCode:        q.maxRespCode(q.cfg.LastListenerQueryInterval),
		Group:              g.address(),
		SuppressRouterSide: q.cfg.Version != Version1 && g.filter.remaining(n) > q.llqt(),
		QRV:                q.qrv(),
		QQIC:               EncodeQQIC(q.qi),
	})
}

// sendSourceQuery is the table action "Send Q(MA,X)" (RFC 3810 §7.6.3.2):
// lower the timers of the sources in X to LLQT, give each LLQC
// retransmissions, and send a Multicast Address and Source Specific Query now.
func (q *Querier) sendSourceQuery(n time.Duration, g *group, xs []*source, out *Output) {
	if !q.querier || len(xs) == 0 || q.cfg.Version == Version1 {
		return
	}
	llqt := n + q.llqt()
	count := uint8(q.llqc())
	for _, s := range xs {
		if s.timer.running() && s.timer.at > llqt {
			q.timers.set(&s.timer, llqt)
		}
		if s.rexmit == 0 {
			g.srcQueries++
		}
		s.rexmit = count
	}
	q.emitSourceQueries(n, g, xs, out)
	q.armRetransmit(n, g)
}

// emitSourceQueries sends the sources of xs that still have retransmissions
// left, split as §7.6.3.2 says: those whose timers exceed LLQT in a query
// with the S flag set, the others in one with it clear; each source sent
// loses one retransmission.
func (q *Querier) emitSourceQueries(n time.Duration, g *group, xs []*source, out *Output) {
	llqt := n + q.llqt()
	clearS := q.queryBuf[:0]
	var setS []netip.Addr
	for _, s := range xs {
		if s.rexmit == 0 {
			continue
		}
		s.rexmit--
		if s.rexmit == 0 {
			g.srcQueries--
		}
		if s.timer.running() && s.timer.at > llqt {
			setS = append(setS, s.address())
		} else {
			clearS = append(clearS, s.address())
		}
	}
	q.emitSourceQueryList(g, clearS, false, out)
	q.emitSourceQueryList(g, setS, true, out)
	q.queryBuf = clearS[:0]
}

// emitSourceQueryList sends srcs in as many queries as the minimum MTU needs.
func (q *Querier) emitSourceQueryList(g *group, srcs []netip.Addr, suppress bool, out *Output) {
	slices.SortFunc(srcs, netip.Addr.Compare)
	for len(srcs) > 0 {
		k := min(len(srcs), maxQuerySources)
		q.emitQuery(out, g.address(), &Query{
			MaxRespCode:        q.maxRespCode(q.cfg.LastListenerQueryInterval),
			Group:              g.address(),
			SuppressRouterSide: suppress,
			QRV:                q.qrv(),
			QQIC:               EncodeQQIC(q.qi),
			Sources:            srcs[:k],
		})
		srcs = srcs[k:]
	}
}

func (q *Querier) armRetransmit(n time.Duration, g *group) {
	if (g.groupQueries > 0 || g.srcQueries > 0) && (g.x == nil || !g.x.rexmit.running()) {
		q.timers.set(&g.extra().rexmit, n+q.cfg.LastListenerQueryInterval)
	}
}

// retransmit sends the pending specific queries of g (§7.6.3).
func (q *Querier) retransmit(n time.Duration, g *group, out *Output) {
	if !q.querier {
		// we lost the election meanwhile: the querier asks now
		g.groupQueries = 0
		for s := range g.sources.all() {
			s.rexmit = 0
		}
		g.srcQueries = 0
		return
	}
	q.emitGroupQuery(n, g, out)
	if g.srcQueries > 0 {
		q.picked = q.picked[:0]
		for s := range g.sources.all() {
			if s.rexmit > 0 {
				q.picked = append(q.picked, s)
			}
		}
		q.emitSourceQueries(n, g, q.picked, out)
	}
	q.armRetransmit(n, g)
}

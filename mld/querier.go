package mld

import (
	"fmt"
	"github.com/pim6d/pim6d/internal/keyed"
	"net/netip"
	"time"

	"github.com/pim6d/pim6d/stack"
)

// Querier is the MLD router state of one interface: querier election, the
// queries it sends, and per-group listener state (RFC 3810 §6, §7, §8). It is
// not safe for concurrent use; one event loop owns it.
type Querier struct {
	cfg       Config
	llqcSet   bool // LastListenerQueryCount was configured, not derived from the robustness
	linkIndex int
	addr      netip.Addr // our link-local address, zone stripped

	epoch  time.Time // internal deadlines count from here
	timers timerHeap

	// Querier election (§7.6.2).
	querier      bool
	querierAddr  netip.Addr
	general      timer // next General Query, while querier
	otherQuerier timer // Other Querier Present timer, while not
	startupLeft  int   // startup queries still to send (§7.6.2, §9.7)

	// Operational robustness and query interval: the configured ones, or the
	// querier's QRV and QQI while another router is querier (§5.1.8, §5.1.9).
	rv int
	qi time.Duration

	groups   *keyed.Table[[16]byte, group] // by address
	nsources int                           // source records over all groups, for MaxSources
	dirty    []*group
	mark     uint32 // generation for set operations on a group's sources

	counters Counters

	// scratch buffers reused across packets so parsing allocates nothing.
	query    Query
	report   Report
	srcBuf   []netip.Addr
	picked   []*source
	queryBuf []netip.Addr
}

// NewQuerier returns the querier of the link linkIndex whose link-local
// address is addr, started at now: it considers itself querier and sends
// Startup Query Count General Queries Startup Query Interval apart, the first
// after cfg.Jitter(Startup Query Interval) (RFC 3810 §7.6.2, §9.6, §9.7).
func NewQuerier(cfg Config, linkIndex int, addr netip.Addr, now time.Time) (*Querier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !addr.IsLinkLocalUnicast() {
		return nil, errNotLinkLocal(addr)
	}
	q := &Querier{
		cfg:       cfg.WithDefaults(),
		llqcSet:   cfg.LastListenerQueryCount != 0,
		linkIndex: linkIndex,
		addr:      addr.WithZone(""),
		epoch:     now,
		groups:    keyed.New[[16]byte, group](groupKey),
	}
	q.general.kind = timerGeneralQuery
	q.otherQuerier.kind = timerOtherQuerier
	q.rv, q.qi = q.cfg.Robustness, q.cfg.QueryInterval
	q.querier, q.querierAddr = true, q.addr
	q.startupLeft = q.cfg.StartupQueryCount
	var delay time.Duration
	if q.cfg.Jitter != nil {
		delay = max(0, min(q.cfg.Jitter(q.cfg.StartupQueryInterval), q.cfg.StartupQueryInterval))
	}
	q.timers.set(&q.general, delay)
	return q, nil
}

// rel converts a wall time to the querier's internal clock.
func (q *Querier) rel(now time.Time) time.Duration { return now.Sub(q.epoch) }

// Timer values, RFC 3810 §9.
func (q *Querier) mali() time.Duration { // §9.4 Multicast Address Listening Interval
	return time.Duration(q.rv)*q.qi + q.cfg.QueryResponseInterval
}
func (q *Querier) oqpi() time.Duration { // §9.5 Other Querier Present Timeout
	return time.Duration(q.rv)*q.qi + q.cfg.QueryResponseInterval/2
}
func (q *Querier) ovhpi() time.Duration { // §9.13 Older Version Host Present Timeout
	return time.Duration(q.rv)*q.qi + q.cfg.QueryResponseInterval
}
func (q *Querier) llqc() int { // §9.9 Last Listener Query Count
	if q.llqcSet {
		return q.cfg.LastListenerQueryCount
	}
	return q.rv
}
func (q *Querier) llqt() time.Duration { // §9.10 Last Listener Query Time
	return time.Duration(q.llqc()) * q.cfg.LastListenerQueryInterval
}

// LinkIndex returns the interface the querier serves.
func (q *Querier) LinkIndex() int { return q.linkIndex }

// IsQuerier reports whether this router is the querier on its link.
func (q *Querier) IsQuerier() bool { return q.querier }

// QuerierAddress returns the address of the link's querier (ours when we are).
func (q *Querier) QuerierAddress() netip.Addr { return q.querierAddr }

// Counters returns a copy of the interface's counters.
func (q *Querier) Counters() Counters { return q.counters }

// NextDeadline returns when Tick must next be called; ok is false when no
// timer is armed.
func (q *Querier) NextDeadline() (deadline time.Time, ok bool) {
	t := q.timers.peek()
	if t == nil {
		return time.Time{}, false
	}
	return q.epoch.Add(t.at), true
}

// Tick fires every timer due at or before now.
func (q *Querier) Tick(now time.Time, out *Output) {
	n := q.rel(now)
	for {
		t := q.timers.peek()
		if t == nil || t.at > n {
			break
		}
		q.timers.stop(t)
		q.fire(n, t, out)
	}
	q.flush(out)
}

func (q *Querier) fire(n time.Duration, t *timer, out *Output) {
	switch t.kind {
	case timerGeneralQuery:
		q.sendGeneralQuery(n, out)
	case timerOtherQuerier:
		// RFC 3810 §7.6.2: the Other Querier Present timer expired: become
		// querier again, with our own settings, and query at once.
		q.querier, q.querierAddr = true, q.addr
		q.rv, q.qi = q.cfg.Robustness, q.cfg.QueryInterval
		q.sendGeneralQuery(n, out)
	case timerGroup:
		q.groupTimerExpired(n, t.g)
	case timerCompat:
		// RFC 3810 §8.3.2: no MLDv1 listener heard for the Older Version Host
		// Present Timeout: the address returns to MLDv2 mode.
	case timerRexmit:
		q.retransmit(n, t.g, out)
	case timerSource:
		q.sourceTimerExpired(n, t.g, t.s)
	}
}

// sendGeneralQuery sends a General Query and arms the next one: Startup Query
// Interval apart while startup queries remain, Query Interval after (§7.6.2).
func (q *Querier) sendGeneralQuery(n time.Duration, out *Output) {
	if !q.querier {
		return
	}
	q.emitQuery(out, allNodes, &Query{
		V1:          q.cfg.Version == Version1,
		MaxRespCode: q.maxRespCode(q.cfg.QueryResponseInterval),
		QRV:         q.qrv(),
		QQIC:        EncodeQQIC(q.qi),
	})
	next := q.qi
	if q.startupLeft > 0 {
		q.startupLeft--
		if q.startupLeft > 0 {
			next = q.cfg.StartupQueryInterval
		}
	}
	q.timers.set(&q.general, n+next)
}

// qrv is the QRV field: the robustness variable, 0 when it exceeds 7 (§5.1.8).
func (q *Querier) qrv() uint8 {
	if q.cfg.Version == Version1 || q.rv > 7 {
		return 0
	}
	return uint8(q.rv)
}

// maxRespCode encodes a response delay in the interface's query version.
func (q *Querier) maxRespCode(d time.Duration) uint16 {
	if q.cfg.Version == Version1 {
		return uint16(min(d.Milliseconds(), 65535)) // RFC 2710 §3.4: plain milliseconds
	}
	return EncodeMaxRespCode(d)
}

// emitQuery appends a checksummed query from our address to dst.
func (q *Querier) emitQuery(out *Output, dst netip.Addr, m *Query) {
	q.counters.QueriesSent++
	out.Packets = append(out.Packets, stack.OutPacket{
		LinkIndex:   q.linkIndex,
		Src:         q.addr,
		Dst:         dst,
		HopLimit:    1,
		RouterAlert: true,
		Proto:       protoICMPv6,
		Payload:     Marshal(m, q.addr, dst),
	})
}

// HandlePacket processes one received MLD packet. Packets that fail
// validation are counted by DropReason and change nothing.
func (q *Querier) HandlePacket(now time.Time, p stack.Packet, out *Output) {
	q.Tick(now, out) // timers due before the packet fire first
	n := q.rel(now)
	q.counters.Received++
	if r := q.handle(n, &p, out); r != DropNone {
		q.counters.Dropped[r]++
	}
	q.flush(out)
}

func (q *Querier) handle(n time.Duration, p *stack.Packet, out *Output) DropReason {
	t, r := check(p)
	if r != DropNone {
		return r
	}
	b := p.Payload
	switch t {
	case TypeQuery:
		if err := parseQuery(&q.query, b); err != nil {
			return DropMalformed
		}
		if p.Src.WithZone("") == q.addr {
			return DropOwnQuery
		}
		if q.query.V1 {
			// An MLDv1 router is on the link: RFC 3810 §8.3.1 wants the
			// interface configured for MLDv1. We count it (operators see it
			// in the counters) and it still takes part in the election.
			q.counters.V1Queries++
		}
		q.counters.Queries++
		q.handleQuery(n, p.Src.WithZone(""), &q.query)
	case TypeV1Report, TypeV1Done:
		g, err := parseV1(b)
		if err != nil {
			return DropMalformed
		}
		if q.cfg.Version == Version2 {
			return DropVersion
		}
		q.counters.Records++
		if t == TypeV1Report {
			q.counters.V1Reports++
			q.handleV1Report(n, g, out)
		} else {
			q.counters.V1Dones++
			q.handleV1Done(n, g, out)
		}
	case TypeV2Report:
		var err error
		if q.srcBuf, err = parseReport(&q.report, b, q.srcBuf); err != nil {
			return DropMalformed
		}
		if q.cfg.Version == Version1 {
			return DropVersion
		}
		q.counters.V2Reports++
		for i := range q.report.Records {
			rec := &q.report.Records[i]
			q.counters.Records++
			q.handleRecord(n, rec.Type, rec.Group, rec.Sources, out)
		}
	}
	return DropNone
}

// handleQuery applies querier election (§7.6.2) and the timer updates of
// §7.6.1 for a valid query from another router.
func (q *Querier) handleQuery(n time.Duration, src netip.Addr, m *Query) {
	// RFC 3810 §7.6.2: a query from a lower address makes that router the
	// querier; we stay quiet for the Other Querier Present Interval.
	if src.Less(q.addr) && !(!q.querier && q.querierAddr.Less(src)) {
		if q.querier {
			q.querier = false
			q.timers.stop(&q.general)
			q.startupLeft = 0
		}
		q.querierAddr = src
		if !m.V1 {
			// §5.1.8, §5.1.9: non-queriers adopt the querier's QRV and QQI
			// unless zero.
			if m.QRV != 0 {
				q.rv = int(m.QRV)
			}
			if qi := m.QueryInterval(); qi != 0 {
				q.qi = qi
			}
		}
		q.timers.set(&q.otherQuerier, n+q.oqpi())
	}
	// RFC 3810 §7.6.1: a specific query with the S flag clear lowers the
	// timers it asks about to the Last Listener Query Time.
	if m.SuppressRouterSide || m.IsGeneral() {
		return
	}
	g := q.groups.Get(m.Group.As16())
	if g == nil {
		return
	}
	llqt := n + q.llqt()
	if len(m.Sources) == 0 {
		if g.mode == Exclude && g.filter.at > llqt {
			q.timers.set(&g.filter, llqt)
		}
		return
	}
	for _, a := range m.Sources {
		if s := g.sources.get(a); s != nil && s.timer.running() && s.timer.at > llqt {
			q.timers.set(&s.timer, llqt)
		}
	}
}

func errNotLinkLocal(addr netip.Addr) error {
	return fmt.Errorf("mld: querier address %v is not link-local (RFC 3810 §5.1.14)", addr)
}

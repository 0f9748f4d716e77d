package router

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6d/pim6d/config"
	"github.com/pim6d/pim6d/mfib"
	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim"
	"github.com/pim6d/pim6d/rp"
	"github.com/pim6d/pim6d/stack"
)

// Core is the router: it owns the MLD queriers (one per interface), the PIM
// core and the mfib, and wires them: packets → protocol state → forwarding
// routes. It does no I/O of its own beyond stack.Send, and is driven by one
// goroutine (the daemon's loop or a simulation) through HandleEvent and Tick.
type Core struct {
	st  stack.Stack
	cfg *config.Config
	log *slog.Logger

	pim  *pim.Router
	mfib *mfib.MFIB

	ifs     map[int]*coreIface // by link index: the links pim6d runs on
	nextMif int
	mifs    map[int]int // link index → mif index (stable for the run)

	// membershipBuf is reused for the membership changes handed to PIM
	// (which does not keep them).
	membershipBuf []pim.LocalMembership

	rps     *rp.Table // group-to-RP mappings (static, Embedded-RP)
	mldOut  mld.Output
	started time.Time
	errs    map[string]uint64 // send and install errors by kind
}

type coreIface struct {
	link      stack.Link
	cfg       config.Interface
	mif       int
	linkLocal netip.Addr
	secondary []netip.Addr
	querier   *mld.Querier // nil when MLD is off (no link-local address yet)
	pimOn     bool
	pimCfg    config.InterfacePIM // the settings PIM runs with on this link
}

// CoreOption changes how NewCore builds a Core.
type CoreOption func(*coreOptions)

type coreOptions struct {
	rand      *mrand.Rand
	fibWriter bool
}

// WithRand makes the Core draw its randomness (PIM Generation IDs, jittered
// delays) from r, so that a simulation can be replayed exactly. By default it
// is seeded from crypto/rand.
func WithRand(r *mrand.Rand) CoreOption { return func(o *coreOptions) { o.rand = r } }

// WithFIBWriter makes the forwarding routes be written to the table by a
// goroutine of the mfib's own (mfib.WithWriter), so that a burst of joins
// costs the event loop only the protocol work: the table catches up on the
// other core, in the same order. Simulations leave it off: then a route is
// in the table when HandleEvent returns.
func WithFIBWriter() CoreOption { return func(o *coreOptions) { o.fibWriter = true } }

// NewCore starts the router on the stack's current links.
func NewCore(now time.Time, st stack.Stack, cfg *config.Config, log *slog.Logger, opts ...CoreOption) (*Core, error) {
	var o coreOptions
	for _, f := range opts {
		f(&o)
	}
	if o.rand == nil {
		var seed [16]byte
		rand.Read(seed[:])
		o.rand = mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Core{
		st: st, cfg: cfg, log: log.With("subsystem", "router"),
		ifs: map[int]*coreIface{}, mifs: map[int]int{},
		started: now,
		errs:    map[string]uint64{},
	}
	c.rps = rp.NewTable()
	if err := c.setStaticRPs(cfg); err != nil {
		return nil, err
	}
	p, err := pim.New(pim.Config{
		RPF:             c.rpf,
		RP:              c.rpOf,
		Rand:            o.rand,
		IsSSM:           cfg.InSSMRange,
		JoinPrunePeriod: cfg.PIM.JoinPrunePeriod,
		KeepalivePeriod: cfg.PIM.Keepalive,
	})
	if err != nil {
		return nil, err
	}
	c.pim = p
	var mopts []mfib.Option
	if o.fibWriter {
		mopts = append(mopts, mfib.WithWriter(c.log))
	}
	c.mfib, err = mfib.New(st.Table(), cfg.SSMRange, mopts...)
	if err != nil {
		return nil, err
	}
	c.reconcile(now)
	c.flush(now)
	return c, nil
}

// rpOf is RP(G) (RFC 7761 §4.7): Embedded-RP for ff7x::/12 groups, else the
// configured static RPs (longest group match, priority, hash).
func (c *Core) rpOf(g netip.Addr) (netip.Addr, bool) {
	e, ok := c.rps.Lookup(g)
	return e.RP, ok
}

// setStaticRPs replaces the static part of the RP table with cfg's.
func (c *Core) setStaticRPs(cfg *config.Config) error {
	var es []rp.Entry
	for _, s := range cfg.StaticRP {
		groups := s.Groups
		if len(groups) == 0 {
			groups = []netip.Prefix{netip.MustParsePrefix("ff00::/8")}
		}
		for _, g := range groups {
			es = append(es, rp.Entry{Group: g, RP: s.Address, Origin: rp.OriginStatic})
		}
	}
	if err := c.rps.ReplaceOrigin(rp.OriginStatic, es); err != nil {
		return fmt.Errorf("static RPs: %w", err)
	}
	return nil
}

// rpf answers PIM's RPF question from the one routing table (RFC 7761 §4.5:
// the MRIB is the unicast table here).
func (c *Core) rpf(addr netip.Addr) (ifindex int, nexthop netip.Addr, metricPref, metric uint32, ok bool) {
	r, found := c.st.Table().RPF(addr, 0)
	if !found || r.Kind != stack.KindUnicast || len(r.NextHops) == 0 {
		return 0, netip.Addr{}, 0, 0, false
	}
	nh := r.NextHops[0]
	// Connected routes are preferred to routed ones in Assert (§4.6.3 compares
	// the route's preference first).
	pref := uint32(0)
	if nh.Gateway.IsValid() && !nh.Gateway.IsUnspecified() {
		pref = 1
	}
	return nh.LinkIndex, nh.Gateway, pref, r.Metric, true
}

// HandleEvent handles one stack event at now.
func (c *Core) HandleEvent(now time.Time, ev any) {
	switch ev := ev.(type) {
	case stack.LinkEvent, stack.AddrEvent:
		c.reconcile(now)
	case stack.RouteEvent:
		if ev.Route.Kind == stack.KindUnicast {
			// RFC 7761 §4.5.7: RPF'(S,G) may change with the unicast routes.
			c.pim.RouteChanged(now, ev.Route.Dst)
		}
	case stack.PacketEvent:
		c.packet(now, ev.Packet)
	case stack.SignalEvent:
		c.pim.DataSignal(now, ev.Signal)
	}
	c.flush(now)
}

func (c *Core) packet(now time.Time, p stack.Packet) {
	ifc := c.ifs[p.LinkIndex]
	if ifc == nil {
		c.errs["packet-on-disabled-interface"]++
		return
	}
	switch p.Proto {
	case stack.ProtoICMPv6:
		if ifc.querier != nil {
			ifc.querier.HandlePacket(now, p, &c.mldOut)
		}
	case stack.ProtoPIM:
		if ifc.pimOn {
			c.pim.ReceivePacket(now, p)
		}
	}
}

// Tick runs the timers that are due.
func (c *Core) Tick(now time.Time) {
	for _, ifc := range c.ifs {
		if ifc.querier != nil {
			if d, ok := ifc.querier.NextDeadline(); ok && !d.After(now) {
				ifc.querier.Tick(now, &c.mldOut)
			}
		}
	}
	if d := c.pim.NextDeadline(); !d.IsZero() && !d.After(now) {
		c.pim.Tick(now)
	}
	c.flush(now)
}

// StateEntries counts the protocol state the core holds: PIM routes, MLD
// groups and MLD source records (counter reads, no walk). pim6d watches it
// to tell a heap that grows with new state from one that grows with passing
// garbage (a snapshot answer being built).
func (c *Core) StateEntries() int {
	s := c.summary()
	return s.Routes + s.Groups + s.Sources
}

// NextDeadline is the earliest timer of MLD and PIM (zero: none).
func (c *Core) NextDeadline() time.Time {
	next := c.pim.NextDeadline()
	for _, ifc := range c.ifs {
		if ifc.querier == nil {
			continue
		}
		if d, ok := ifc.querier.NextDeadline(); ok && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}

// reconcile starts and stops MLD and PIM on links so that they run exactly on
// the links the configuration enables, with their current addresses.
func (c *Core) reconcile(now time.Time) {
	links := c.st.Links()
	addrs := c.st.Addrs()
	want := map[int]config.Interface{}
	byIndex := map[int]stack.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
		if ifc, ok := c.cfg.Interface(l); ok {
			want[l.Index] = ifc
		}
	}
	for idx, ifc := range c.ifs {
		if _, ok := want[idx]; !ok {
			c.stopInterface(now, ifc)
		}
	}
	// In link index order, not map order: new interfaces take mif numbers in
	// the system's interface order (as KAME's pim6dd does), the same on every run.
	for _, idx := range slices.Sorted(maps.Keys(want)) {
		icfg := want[idx]
		ll, secondary := linkAddresses(addrs, idx)
		ifc := c.ifs[idx]
		if ifc == nil {
			mif, ok := c.mifs[idx]
			if !ok {
				mif = c.nextMif
				c.nextMif++
				c.mifs[idx] = mif
			}
			ifc = &coreIface{link: byIndex[idx], cfg: icfg, mif: mif}
			c.ifs[idx] = ifc
			c.log.Info("interface enabled", "interface", ifc.link.Name, "index", idx, "mif", mif)
		}
		ifc.link = byIndex[idx]
		ifc.cfg = icfg
		c.updateInterface(now, ifc, ll, secondary)
	}
}

func linkAddresses(addrs []stack.Addr, link int) (ll netip.Addr, secondary []netip.Addr) {
	for _, a := range addrs {
		if a.LinkIndex != link {
			continue
		}
		ip := a.Prefix.Addr().WithZone("")
		switch {
		case ip.IsLinkLocalUnicast():
			if !ll.IsValid() || ip.Less(ll) {
				ll = ip
			}
		case ip.IsGlobalUnicast():
			secondary = append(secondary, ip)
		}
	}
	slices.SortFunc(secondary, netip.Addr.Compare)
	return ll, secondary
}

// updateInterface brings one interface's MLD querier and PIM state in line
// with its addresses. Both need the link-local address: it is the source of
// every MLD and PIM message (RFC 3810 §5, RFC 7761 §4.3.1).
func (c *Core) updateInterface(now time.Time, ifc *coreIface, ll netip.Addr, secondary []netip.Addr) {
	if !ll.IsValid() {
		if ifc.querier != nil || ifc.pimOn {
			c.log.Warn("interface lost its link-local address; MLD and PIM paused", "interface", ifc.link.Name)
			c.stopProtocols(now, ifc)
		}
		return
	}
	mcfg := c.mldConfig(ifc.cfg.MLD)
	if ifc.querier == nil {
		q, err := mld.NewQuerier(mcfg, ifc.link.Index, ll, now)
		if err != nil {
			c.log.Error("cannot start MLD", "interface", ifc.link.Name, "err", err)
		} else {
			ifc.querier = q
			q.Tick(now, &c.mldOut)
			c.log.Info("MLD querier started", "interface", ifc.link.Name, "address", ll, "version", ifc.cfg.MLD.Version)
		}
	} else if ll != ifc.linkLocal {
		if err := ifc.querier.SetAddress(now, ll, &c.mldOut); err != nil {
			c.log.Error("MLD address change", "interface", ifc.link.Name, "err", err)
		}
	}
	pin := pim.Interface{Index: ifc.link.Index, Name: ifc.link.Name, MTU: ifc.link.MTU, LinkLocal: ll, Secondary: secondary,
		DRPriority: ifc.cfg.PIM.DRPriority, HelloPeriod: ifc.cfg.PIM.HelloPeriod,
		PropagationDelay: ifc.cfg.PIM.PropagationDelay, OverrideInterval: ifc.cfg.PIM.OverrideInterval}
	switch {
	case !ifc.cfg.PIM.Enable:
		if ifc.pimOn {
			c.pim.RemoveInterface(now, ifc.link.Index)
			ifc.pimOn = false
		}
	case !ifc.pimOn:
		c.pim.AddInterface(now, pin)
		ifc.pimOn = true
		c.log.Info("PIM started", "interface", ifc.link.Name, "address", ll, "secondary", secondary)
	case ll != ifc.linkLocal || !slices.Equal(secondary, ifc.secondary) || ifc.cfg.PIM != ifc.pimCfg:
		c.pim.UpdateInterface(now, pin)
	}
	ifc.linkLocal, ifc.secondary, ifc.pimCfg = ll, secondary, ifc.cfg.PIM
}

func (c *Core) mldConfig(m config.MLD) mld.Config {
	mc := mld.Config{
		Robustness:                m.Robustness,
		QueryInterval:             m.QueryInterval,
		QueryResponseInterval:     m.QueryResponseInterval,
		LastListenerQueryInterval: m.LastListenerQueryInterval,
		MaxGroups:                 m.MaxGroups,
		MaxSources:                m.MaxSources,
		SSMRange:                  c.cfg.SSMRange,
	}
	switch m.Version {
	case config.MLDv1:
		mc.Version = mld.Version1
	case config.MLDv2:
		mc.Version = mld.Version2
	}
	return mc
}

func (c *Core) stopProtocols(now time.Time, ifc *coreIface) {
	if ifc.querier != nil {
		ifc.querier.Close(&c.mldOut) // reports every group gone
		ifc.querier = nil
	}
	if ifc.pimOn {
		c.pim.RemoveInterface(now, ifc.link.Index)
		ifc.pimOn = false
	}
	ifc.linkLocal = netip.Addr{}
}

func (c *Core) stopInterface(now time.Time, ifc *coreIface) {
	c.stopProtocols(now, ifc)
	delete(c.ifs, ifc.link.Index)
	c.log.Info("interface disabled", "interface", ifc.link.Name, "index", ifc.link.Index)
}

// flush sends what the cores produced and applies their state changes, until
// nothing more comes (MLD changes feed PIM, PIM changes feed the mfib).
func (c *Core) flush(now time.Time) {
	if len(c.mldOut.Packets) > 0 || len(c.mldOut.Changes) > 0 {
		for _, p := range c.mldOut.Packets {
			c.send(p)
		}
		if ms := c.memberships(c.mldOut.Changes); len(ms) > 0 {
			c.pim.SetLocalMemberships(now, ms)
		}
		c.mldOut.Reset()
	}
	sends, changes := c.pim.Outbox()
	for _, s := range sends {
		p, err := s.Packet()
		if err != nil {
			c.errs["pim-encode"]++
			c.log.Error("cannot encode PIM message", "type", s.Message.Type(), "err", err)
			continue
		}
		c.send(p)
	}
	for _, ch := range changes {
		c.install(ch)
	}
	c.mfib.Commit()
	c.pim.Recycle(sends, changes)
}

func (c *Core) send(p stack.OutPacket) {
	if err := c.st.Send(p); err != nil {
		c.errs["send"]++
		c.log.Debug("send failed", "link", p.LinkIndex, "dst", p.Dst, "err", err)
	}
}

// memberships turns MLD listener state changes (each the whole new state of
// a link's group and the state reported before it) into PIM's per-(S,G) and
// (*,G) membership changes (RFC 7761 §4.1.6 local_receiver_include /
// local_receiver_exclude). Old and new source lists are sorted and walked
// together, so a change costs O(sources) and the Core keeps no copy of MLD's
// state.
func (c *Core) memberships(changes []mld.ListenerChange) []pim.LocalMembership {
	out := c.membershipBuf[:0]
	for i := range changes {
		old, l := changes[i].Was, changes[i].Listener
		if w0, w1 := wildcardMode(old), wildcardMode(l); w0 != w1 {
			out = append(out, pim.LocalMembership{Interface: l.LinkIndex, Group: l.Group, Source: netip.IPv6Unspecified(), Mode: w1})
		}
		os, ns := old.Sources, l.Sources
		for i, j := 0, 0; i < len(os) || j < len(ns); {
			var s netip.Addr
			inOld, inNew := false, false
			switch {
			case j >= len(ns) || (i < len(os) && os[i].Less(ns[j])):
				s, inOld = os[i], true
				i++
			case i >= len(os) || ns[j].Less(os[i]):
				s, inNew = ns[j], true
				j++
			default:
				s, inOld, inNew = os[i], true, true
				i++
				j++
			}
			if m0, m1 := sourceMode(old, inOld), sourceMode(l, inNew); m0 != m1 {
				out = append(out, pim.LocalMembership{Interface: l.LinkIndex, Group: l.Group, Source: s, Mode: m1})
			}
		}
	}
	c.membershipBuf = out[:0]
	return out
}

// sourceMode is the membership of one source that is (listed) or is not in a
// listener state's source list.
func sourceMode(l mld.Listener, listed bool) pim.MembershipMode {
	switch {
	case !l.Group.IsValid() || !listed:
		return pim.MembershipNone // EXCLUDE mode: covered by (*,G)
	case l.Mode == mld.Exclude:
		return pim.MembershipExclude
	default:
		return pim.MembershipInclude
	}
}

// wildcardMode is the (*,G) membership of a listener state: EXCLUDE mode
// means any source is wanted.
func wildcardMode(l mld.Listener) pim.MembershipMode {
	if l.Group.IsValid() && l.Mode == mld.Exclude {
		return pim.MembershipInclude
	}
	return pim.MembershipNone
}

// install applies one PIM forwarding change to the table through the mfib.
func (c *Core) install(ch pim.ForwardingChange) {
	k := mfib.Key{Source: ch.Source, Group: ch.Group}
	if ch.Deleted {
		c.mfib.Delete(k)
		if c.debug() {
			c.log.Debug("forwarding entry removed", "entry", k.String())
		}
		return
	}
	flags := stack.RouteFlags(0)
	if ch.Flags&pim.FlagNotifyData != 0 {
		flags |= stack.FlagNotifyData
	}
	if ch.Flags&pim.FlagNotifyWrongIIF != 0 {
		flags |= stack.FlagNotifyWrongIIF
	}
	flags |= stack.RouteFlags(uint8(ch.Flags)) << 8 // PIM's own bits (six), kept for display in the route's high byte
	if err := c.mfib.Set(mfib.Entry{Source: ch.Source, Group: ch.Group, IIF: ch.IIF, OIFs: ch.OIFs, Flags: flags}); err != nil {
		c.errs["mfib"]++
		c.log.Error("cannot install forwarding entry", "entry", k.String(), "err", err)
		return
	}
	if c.debug() {
		c.log.Debug("forwarding entry", "entry", k.String(), "iif", ch.IIF, "oifs", ch.OIFs, "upstream", ch.Upstream)
	}
}

// debug reports whether debug logs are wanted: the arguments of a per-entry
// log line cost more to build than the entry's installation.
func (c *Core) debug() bool { return c.log.Enabled(context.Background(), slog.LevelDebug) }

// Reconfigure applies a reloaded configuration: interfaces start or stop and
// MLD settings change without losing state.
func (c *Core) Reconfigure(now time.Time, cfg *config.Config) {
	c.cfg = cfg
	if err := c.setStaticRPs(cfg); err != nil {
		c.log.Error("static RPs refused, keeping the old ones", "err", err)
	} else {
		// RFC 7761 §4.5.6: RP(G) may have changed: (*,G) entries re-resolve
		// their RPF toward it (an invalid prefix means "every entry").
		c.pim.RouteChanged(now, netip.Prefix{})
	}
	for _, ifc := range c.ifs {
		if ifc.querier != nil {
			if icfg, ok := cfg.Interface(ifc.link); ok {
				if err := ifc.querier.SetConfig(now, c.mldConfig(icfg.MLD), &c.mldOut); err != nil {
					c.log.Error("MLD reconfiguration refused", "interface", ifc.link.Name, "err", err)
				}
			}
		}
	}
	c.reconcile(now)
	c.flush(now)
}

// Close stops PIM (Hello with holdtime 0, RFC 7761 §4.3.1) and MLD and removes
// every forwarding route.
func (c *Core) Close(now time.Time) error {
	c.pim.Shutdown(now)
	for _, ifc := range c.ifs {
		if ifc.querier != nil {
			ifc.querier.Close(&c.mldOut)
			ifc.querier = nil
		}
	}
	c.mldOut.Packets = nil // no queries after shutdown
	sends, _ := c.pim.Outbox()
	var errs []error
	for _, s := range sends {
		p, err := s.Packet()
		if err == nil {
			err = c.st.Send(p)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	c.mfib.Close()
	if len(errs) > 0 {
		return fmt.Errorf("shutdown hellos: %w", errors.Join(errs...))
	}
	return nil
}

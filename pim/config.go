package pim

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// Protocol timer defaults, RFC 7761 §4.11.
const (
	// DefaultHelloPeriod is Hello_Period: "Periodic interval for Hello messages."
	DefaultHelloPeriod = 30 * time.Second
	// DefaultTriggeredHelloDelay is Triggered_Hello_Delay: "Randomized interval
	// for initial Hello message on bootup or triggered Hello message to a
	// rebooting neighbor."
	DefaultTriggeredHelloDelay = 5 * time.Second
	// DefaultJoinPrunePeriod is t_periodic: "Period between Join/Prune messages."
	DefaultJoinPrunePeriod = 60 * time.Second
	// DefaultPropagationDelay is Propagation_delay_default (§4.11): 0.5 s.
	DefaultPropagationDelay = 500 * time.Millisecond
	// DefaultOverrideInterval is t_override_default (§4.11): 2.5 s.
	DefaultOverrideInterval = 2500 * time.Millisecond
	// DefaultAssertTime is Assert_Time: "Period after last assert before assert
	// state is timed out."
	DefaultAssertTime = 180 * time.Second
	// DefaultAssertOverrideInterval is Assert_Override_Interval: "Short interval
	// before an assert timeout where the assert winner resends an Assert message."
	DefaultAssertOverrideInterval = 3 * time.Second
	// DefaultKeepalivePeriod is Keepalive_Period: "Period after last (S,G) data
	// packet during which (S,G) Join state will be maintained even in the absence
	// of (S,G) Join messages."
	DefaultKeepalivePeriod = 210 * time.Second
	// DefaultDRPriority is the DR priority we announce (§4.9.2: default 1).
	DefaultDRPriority = 1
)

// AllPIMRouters is ff02::d, where link-scoped PIM messages are sent.
var AllPIMRouters = netip.MustParseAddr("ff02::d")

// RPFFunc answers the RPF question for an address (RFC 7761 §4.5 MRIB):
// the interface toward it, the next hop (invalid or unspecified when the
// address is directly connected), and the route's preference and metric for
// Assert (§4.6.3). The daemon backs it with stack.Table.RPF.
type RPFFunc func(addr netip.Addr) (ifindex int, nexthop netip.Addr, metricPref, metric uint32, ok bool)

// RPFunc maps a group to its RP (RFC 7761 §4.7); ok is false when the group
// has no RP. The (*,G) machines root their tree at it (router.Core backs it
// with the static and Embedded-RP mappings of package rp).
type RPFunc func(group netip.Addr) (rp netip.Addr, ok bool)

// Config is the router-wide configuration. Zero fields take the defaults.
type Config struct {
	// RPF resolves sources (required).
	RPF RPFFunc
	// RP maps groups to RPs (optional).
	RP RPFunc
	// Rand supplies Generation IDs and randomized delays (required; the
	// daemon seeds it from crypto/rand, tests with fixed seeds).
	Rand *rand.Rand
	// IsSSM reports whether a group is in the SSM range; DefaultIsSSM (ff3x::/32)
	// when nil.
	IsSSM func(group netip.Addr) bool

	HelloPeriod         time.Duration // Hello_Period
	TriggeredHelloDelay time.Duration // Triggered_Hello_Delay
	// HelloHoldtime is the holdtime we announce; 3.5 × HelloPeriod when zero.
	HelloHoldtime time.Duration
	DRPriority    uint32 // announced DR priority; 1 when zero

	JoinPrunePeriod time.Duration // t_periodic
	// JoinPruneHoldtime is the holdtime we put in Join/Prune messages;
	// 3.5 × t_periodic when zero (§4.11 J/P_HoldTime).
	JoinPruneHoldtime time.Duration

	PropagationDelay time.Duration // Propagation_Delay we announce (LAN Prune Delay)
	OverrideInterval time.Duration // Override_Interval we announce
	// DisableTracking clears the T bit we announce: by default we set it
	// (we can do without join suppression), §4.3.3.
	DisableTracking bool

	AssertTime             time.Duration
	AssertOverrideInterval time.Duration
	KeepalivePeriod        time.Duration

	// PaceInterval is the slot length of the periodic Join/Prune pacer and
	// MinPaceEntries the entries it may send per slot at least; per slot it
	// sends enough for all joined entries to be refreshed in half a t_periodic.
	// Defaults: 50 ms and 64 entries (1,280 entries/s at least).
	PaceInterval   time.Duration
	MinPaceEntries int
}

// DefaultIsSSM reports whether g is in the IPv6 SSM range ff3x::/32
// (RFC 4607 §1, RFC 3306 §6: flags P=1 T=1, plen 0, network prefix 0).
func DefaultIsSSM(g netip.Addr) bool {
	if !g.Is6() {
		return false
	}
	b := g.As16()
	return b[0] == 0xff && b[1]&0xf0 == 0x30 && b[2] == 0 && b[3] == 0 &&
		b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0 && b[10] == 0 && b[11] == 0
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HelloPeriod, DefaultHelloPeriod)
	def(&c.TriggeredHelloDelay, DefaultTriggeredHelloDelay)
	def(&c.HelloHoldtime, c.HelloPeriod*7/2)
	def(&c.JoinPrunePeriod, DefaultJoinPrunePeriod)
	def(&c.JoinPruneHoldtime, c.JoinPrunePeriod*7/2)
	def(&c.PropagationDelay, DefaultPropagationDelay)
	def(&c.OverrideInterval, DefaultOverrideInterval)
	def(&c.AssertTime, DefaultAssertTime)
	def(&c.AssertOverrideInterval, DefaultAssertOverrideInterval)
	def(&c.KeepalivePeriod, DefaultKeepalivePeriod)
	def(&c.PaceInterval, 50*time.Millisecond)
	if c.MinPaceEntries == 0 {
		c.MinPaceEntries = 64
	}
	if c.DRPriority == 0 {
		c.DRPriority = DefaultDRPriority
	}
	if c.IsSSM == nil {
		c.IsSSM = DefaultIsSSM
	}
}

// holdtimeSeconds converts a duration to a 16-bit holdtime field, saturating
// below 0xffff (which means "forever").
func holdtimeSeconds(d time.Duration) uint16 {
	s := int64(d / time.Second)
	if s >= 0xffff {
		return 0xfffe
	}
	if s < 0 {
		return 0
	}
	return uint16(s)
}

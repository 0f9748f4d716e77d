package mld

import (
	"fmt"
	"net/netip"
	"time"
)

// Version selects which MLD versions an interface speaks.
type Version uint8

const (
	// VersionAny runs MLDv2 and serves MLDv1 listeners in compatibility mode
	// (RFC 3810 §8.3.2). The default.
	VersionAny Version = 0
	// Version1 runs MLDv1 only (RFC 2710; RFC 3810 §8.3.1, for links that
	// have MLDv1 routers): v1 queries, v2 reports ignored.
	Version1 Version = 1
	// Version2 runs MLDv2 only: MLDv1 reports and Dones are ignored.
	Version2 Version = 2
)

func (v Version) String() string {
	switch v {
	case VersionAny:
		return "any"
	case Version1:
		return "v1"
	case Version2:
		return "v2"
	}
	return fmt.Sprintf("version(%d)", uint8(v))
}

// Protocol defaults, RFC 3810 §9.
const (
	DefaultRobustness                = 2                      // §9.1
	DefaultQueryInterval             = 125 * time.Second      // §9.2
	DefaultQueryResponseInterval     = 10 * time.Second       // §9.3
	DefaultLastListenerQueryInterval = 1 * time.Second        // §9.8
	minInterval                      = 100 * time.Millisecond // guards against a zero-interval query storm
)

// DefaultSSMRange returns ff3x::/32 (RFC 4607 §1, RFC 3306): ff30::/32
// through ff3f::/32, one prefix per scope.
func DefaultSSMRange() []netip.Prefix {
	ps := make([]netip.Prefix, 16)
	for i := range ps {
		var a [16]byte
		a[0], a[1] = 0xff, 0x30|byte(i)
		ps[i] = netip.PrefixFrom(netip.AddrFrom16(a), 32)
	}
	return ps
}

// Config holds the per-interface settings. Zero fields take the RFC 3810
// §9 defaults (see WithDefaults).
type Config struct {
	Version Version
	// Robustness is the Robustness Variable (§9.1); at least 1.
	Robustness int
	// QueryInterval between General Queries (§9.2).
	QueryInterval time.Duration
	// QueryResponseInterval is the Maximum Response Delay of General Queries
	// (§9.3); less than QueryInterval.
	QueryResponseInterval time.Duration
	// LastListenerQueryInterval is the Maximum Response Delay of specific
	// queries and the gap between their retransmissions (§9.8).
	LastListenerQueryInterval time.Duration
	// LastListenerQueryCount is how many specific queries are sent (§9.9);
	// default Robustness.
	LastListenerQueryCount int
	// StartupQueryInterval (§9.6, default QueryInterval/4) and
	// StartupQueryCount (§9.7, default Robustness).
	StartupQueryInterval time.Duration
	StartupQueryCount    int
	// MaxGroups and MaxSources bound the state of the interface: a record for
	// a new group beyond MaxGroups, or a new source beyond MaxSources (all
	// groups together), is refused and counted. 0 means no limit.
	MaxGroups  int
	MaxSources int
	// SSMRange lists the SSM group ranges; nil means DefaultSSMRange, an empty
	// non-nil slice means no SSM range. ASM joins for these groups are ignored
	// and counted (RFC 4604 §2.2).
	SSMRange []netip.Prefix
	// Jitter returns a random delay in [0, max) for the first startup query,
	// so routers started together do not query in lockstep. nil: no delay.
	Jitter func(max time.Duration) time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Robustness == 0 {
		c.Robustness = DefaultRobustness
	}
	if c.QueryInterval == 0 {
		c.QueryInterval = DefaultQueryInterval
	}
	if c.QueryResponseInterval == 0 {
		c.QueryResponseInterval = DefaultQueryResponseInterval
	}
	if c.LastListenerQueryInterval == 0 {
		c.LastListenerQueryInterval = DefaultLastListenerQueryInterval
	}
	if c.LastListenerQueryCount == 0 {
		c.LastListenerQueryCount = c.Robustness
	}
	if c.StartupQueryInterval == 0 {
		c.StartupQueryInterval = c.QueryInterval / 4
	}
	if c.StartupQueryCount == 0 {
		c.StartupQueryCount = c.Robustness
	}
	if c.SSMRange == nil {
		c.SSMRange = DefaultSSMRange()
	}
	return c
}

// Validate reports the first setting that cannot work, after defaults.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Version > Version2:
		return fmt.Errorf("mld: version %d: want 1, 2 or 0 (any)", c.Version)
	case c.Robustness < 1 || c.Robustness > 255:
		return fmt.Errorf("mld: robustness %d: want 1..255", c.Robustness)
	case c.QueryInterval < minInterval || c.QueryInterval > maxQQISeconds*time.Second:
		return fmt.Errorf("mld: query interval %v: want %v..%v", c.QueryInterval, minInterval, maxQQISeconds*time.Second)
	case c.QueryResponseInterval < minInterval || c.QueryResponseInterval >= c.QueryInterval:
		return fmt.Errorf("mld: query response interval %v: want at least %v and less than the query interval %v (RFC 3810 §9.3)",
			c.QueryResponseInterval, minInterval, c.QueryInterval)
	case c.QueryResponseInterval > maxMaxRespDelayMs*time.Millisecond:
		return fmt.Errorf("mld: query response interval %v exceeds the largest Maximum Response Code", c.QueryResponseInterval)
	case c.LastListenerQueryInterval < minInterval || c.LastListenerQueryInterval > maxMaxRespDelayMs*time.Millisecond:
		return fmt.Errorf("mld: last listener query interval %v: want %v..%v", c.LastListenerQueryInterval, minInterval, maxMaxRespDelayMs*time.Millisecond)
	case c.Version == Version1 && (c.QueryResponseInterval > 65535*time.Millisecond || c.LastListenerQueryInterval > 65535*time.Millisecond):
		return fmt.Errorf("mld: MLDv1 Maximum Response Delay is at most 65.535s")
	case c.LastListenerQueryCount < 1 || c.LastListenerQueryCount > 255:
		return fmt.Errorf("mld: last listener query count %d: want 1..255", c.LastListenerQueryCount)
	case c.StartupQueryInterval < minInterval:
		return fmt.Errorf("mld: startup query interval %v: want at least %v", c.StartupQueryInterval, minInterval)
	case c.StartupQueryCount < 1:
		return fmt.Errorf("mld: startup query count %d: want at least 1", c.StartupQueryCount)
	case c.MaxGroups < 0 || c.MaxSources < 0:
		return fmt.Errorf("mld: negative limit (groups %d, sources %d)", c.MaxGroups, c.MaxSources)
	}
	for _, p := range c.SSMRange {
		if !p.IsValid() || !p.Addr().Is6() || !p.Addr().IsMulticast() || p.Bits() < 8 {
			return fmt.Errorf("mld: SSM range %v is not an IPv6 multicast prefix", p)
		}
	}
	return nil
}

// isSSM reports whether group is in one of the SSM ranges.
func isSSM(ranges []netip.Prefix, group netip.Addr) bool {
	for _, p := range ranges {
		if p.Contains(group) {
			return true
		}
	}
	return false
}

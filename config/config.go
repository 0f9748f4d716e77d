package config

import (
	"log/slog"
	"net/netip"
	"time"
)

// Config is pim6d's configuration.
type Config struct {
	// Source is the file the configuration came from; empty for the embedded default.
	Source string

	LogLevel      slog.Level
	ControlSocket string

	// SSMRange holds the group prefixes of the source-specific multicast range
	// (RFC 4607 §1: ff3x::/32). Groups inside it only get (S,G) state.
	SSMRange []netip.Prefix

	// AllInterfaces runs pim6d on every up, multicast-capable, non-loopback
	// interface, with the settings of Interfaces for those listed there.
	// When false, only the interfaces listed in Interfaces run.
	AllInterfaces bool
	Interfaces    []Interface

	PIM PIM

	// StaticRP maps group ranges to rendezvous points (for PIM-SM outside the SSM range).
	StaticRP []StaticRP
}

// Interface holds the settings of one interface.
type Interface struct {
	Name   string
	Enable bool
	MLD    MLD
	PIM    InterfacePIM
}

// MLDVersion selects the MLD version a querier speaks.
type MLDVersion int

const (
	// MLDAny is MLDv2 with MLDv1 compatibility (RFC 3810 §8).
	MLDAny MLDVersion = iota
	// MLDv1 speaks only MLDv1 (RFC 2710).
	MLDv1
	// MLDv2 speaks only MLDv2 and ignores MLDv1 reports.
	MLDv2
)

func (v MLDVersion) String() string {
	switch v {
	case MLDv1:
		return "1"
	case MLDv2:
		return "2"
	}
	return "any"
}

// MLD holds an interface's MLD querier settings (RFC 3810 §9).
type MLD struct {
	Version                   MLDVersion
	Robustness                int           // RFC 3810 §9.1: default 2
	QueryInterval             time.Duration // §9.2: default 125 s
	QueryResponseInterval     time.Duration // §9.3: default 10 s
	LastListenerQueryInterval time.Duration // §9.8: default 1 s
	MaxGroups                 int           // 0: no limit
	MaxSources                int           // per group; 0: no limit
}

// InterfacePIM holds an interface's PIM settings (RFC 7761 §4.11).
type InterfacePIM struct {
	Enable           bool
	DRPriority       uint32        // §4.3.2: default 1
	HelloPeriod      time.Duration // §4.11 Hello_Period: 30 s
	PropagationDelay time.Duration // §4.11 Propagation_Delay: 500 ms
	OverrideInterval time.Duration // §4.11 t_override default: 2500 ms
}

// PIM holds router-wide PIM settings (RFC 7761 §4.11).
type PIM struct {
	JoinPrunePeriod time.Duration // t_periodic: 60 s
	Keepalive       time.Duration // Keepalive_Period: 210 s
}

// StaticRP is a rendezvous point for a set of group ranges.
type StaticRP struct {
	Address netip.Addr
	Groups  []netip.Prefix // default ff00::/8
}

// Defaults, from the RFCs the settings come from.
const (
	DefaultLogLevel      = slog.LevelInfo
	DefaultControlSocket = "/run/pim6d/pim6d.sock"
)

// DefaultSSMRange returns ff30::/32 … ff3f::/32: every ff3x::/32 (RFC 4607 §1,
// RFC 3306 §6), the 16 values of the scope nibble.
func DefaultSSMRange() []netip.Prefix {
	ps := make([]netip.Prefix, 16)
	for x := range 16 {
		ps[x] = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xff, 0x30 | byte(x)}), 32)
	}
	return ps
}

// DefaultMLD returns the RFC 3810 §9 defaults.
func DefaultMLD() MLD {
	return MLD{
		Version:                   MLDAny,
		Robustness:                2,
		QueryInterval:             125 * time.Second,
		QueryResponseInterval:     10 * time.Second,
		LastListenerQueryInterval: time.Second,
	}
}

// DefaultInterfacePIM returns the RFC 7761 §4.11 defaults.
func DefaultInterfacePIM() InterfacePIM {
	return InterfacePIM{
		Enable:           true,
		DRPriority:       1,
		HelloPeriod:      30 * time.Second,
		PropagationDelay: 500 * time.Millisecond,
		OverrideInterval: 2500 * time.Millisecond,
	}
}

// DefaultInterface returns the settings of an interface nobody configured.
func DefaultInterface(name string) Interface {
	return Interface{Name: name, Enable: true, MLD: DefaultMLD(), PIM: DefaultInterfacePIM()}
}

// DefaultPIM returns the RFC 7761 §4.11 router-wide defaults.
func DefaultPIM() PIM {
	return PIM{JoinPrunePeriod: 60 * time.Second, Keepalive: 210 * time.Second}
}

// Default returns the embedded configuration used when there is no file: every
// up, multicast-capable, non-loopback interface with the defaults above.
func Default() *Config {
	return &Config{
		LogLevel:      DefaultLogLevel,
		ControlSocket: DefaultControlSocket,
		SSMRange:      DefaultSSMRange(),
		AllInterfaces: true,
		PIM:           DefaultPIM(),
	}
}

// InSSMRange reports whether group is in the SSM range.
func (c *Config) InSSMRange(group netip.Addr) bool {
	for _, p := range c.SSMRange {
		if p.Contains(group) {
			return true
		}
	}
	return false
}

package wire

import "net/netip"

// Type is the PIM message type (RFC 7761 §4.9).
type Type uint8

// PIMv2 message types, RFC 7761 §4.9 and RFC 5059 (Bootstrap, C-RP-Adv).
const (
	TypeHello          Type = 0
	TypeRegister       Type = 1
	TypeRegisterStop   Type = 2
	TypeJoinPrune      Type = 3
	TypeBootstrap      Type = 4
	TypeAssert         Type = 5
	TypeGraft          Type = 6 // PIM-DM only; parsed as unknown and counted
	TypeGraftAck       Type = 7
	TypeCandidateRPAdv Type = 8
)

// Message is one decoded PIM message: *Hello, *Register, *RegisterStop,
// *JoinPrune, *Bootstrap, *Assert or *CandidateRPAdv.
type Message interface{ Type() Type }

// Hello option types, RFC 7761 §4.9.2 and the IANA registry.
const (
	OptHoldtime      = 1
	OptLANPruneDelay = 2
	OptDRPriority    = 19
	OptGenerationID  = 20
	OptAddressList   = 24 // the Address List option KAME proposed for IPv6 (seed 000)
)

// LANPruneDelay is Hello option 2 (RFC 7761 §4.9.2). Times in milliseconds.
type LANPruneDelay struct {
	TrackingSupport  bool // the T bit: join suppression may be disabled
	PropagationDelay uint16
	OverrideInterval uint16
}

// Hello is a PIM Hello (RFC 7761 §4.9.2). Options the sender did not include have
// their Has* field false (or a nil pointer / empty list).
type Hello struct {
	Holdtime      uint16 // seconds; 0xffff = never time out, 0 = time out now
	HasHoldtime   bool
	DRPriority    uint32
	HasDRPriority bool
	GenerationID  uint32
	HasGenID      bool
	LANPruneDelay *LANPruneDelay
	// AddressList holds the secondary addresses of option 24 (global addresses
	// of the interface the Hello was sent on), RFC 7761 §4.3.4.
	AddressList []netip.Addr
}

// EncodedGroup is an Encoded-Group address (RFC 7761 §4.9.1).
type EncodedGroup struct {
	Addr       netip.Addr
	MaskLen    uint8
	Bidir      bool // B bit
	AdminScope bool // Z bit
}

// EncodedSource is an Encoded-Source address (RFC 7761 §4.9.1).
type EncodedSource struct {
	Addr    netip.Addr
	MaskLen uint8
	Sparse  bool // S bit, always 1 for PIM-SM
	WC      bool // W bit: wildcard, the (*,G) entry (source is the RP)
	RPT     bool // R bit: sent up the RP tree
}

// JoinPruneGroup is one group block of a Join/Prune message.
type JoinPruneGroup struct {
	Group  EncodedGroup
	Joins  []EncodedSource
	Prunes []EncodedSource
}

// JoinPrune is a PIM Join/Prune (RFC 7761 §4.9.5).
type JoinPrune struct {
	UpstreamNeighbor netip.Addr
	Holdtime         uint16 // seconds
	Groups           []JoinPruneGroup
}

// Assert is a PIM Assert (RFC 7761 §4.9.6).
type Assert struct {
	Group            EncodedGroup
	Source           netip.Addr // :: for a (*,G) assert
	RPT              bool       // R bit
	MetricPreference uint32     // 31 bits
	Metric           uint32
}

// Register is a PIM Register (RFC 7761 §4.9.3). Packet is the encapsulated IPv6
// packet; its checksum covers only the PIM header (§4.9).
type Register struct {
	Border bool // B bit
	Null   bool // N bit: Null-Register
	Packet []byte
}

// RegisterStop is a PIM Register-Stop (RFC 7761 §4.9.4).
type RegisterStop struct {
	Group  EncodedGroup
	Source netip.Addr // :: means all sources of the group
}

// BootstrapRP is one RP of a Bootstrap group block (RFC 5059 §4.1).
type BootstrapRP struct {
	Addr     netip.Addr
	Holdtime uint16
	Priority uint8
}

// BootstrapGroup is one group block of a Bootstrap message.
type BootstrapGroup struct {
	Group       EncodedGroup
	RPCount     uint8 // total RPs for the prefix across fragments
	FragRPCount uint8 // RPs in this fragment (len(RPs) when marshalled)
	RPs         []BootstrapRP
}

// Bootstrap is a PIM Bootstrap Message (RFC 5059 §4.1).
type Bootstrap struct {
	NoForward   bool // the No-Forward bit in the PIM header (RFC 5059 §3.2)
	FragmentTag uint16
	HashMaskLen uint8
	BSRPriority uint8
	BSRAddress  netip.Addr
	Groups      []BootstrapGroup
}

// CandidateRPAdv is a Candidate-RP-Advertisement (RFC 5059 §4.2).
type CandidateRPAdv struct {
	Priority uint8
	Holdtime uint16
	RP       netip.Addr
	Groups   []EncodedGroup // empty: all multicast groups
}

func (*Hello) Type() Type          { return TypeHello }
func (*Register) Type() Type       { return TypeRegister }
func (*RegisterStop) Type() Type   { return TypeRegisterStop }
func (*JoinPrune) Type() Type      { return TypeJoinPrune }
func (*Bootstrap) Type() Type      { return TypeBootstrap }
func (*Assert) Type() Type         { return TypeAssert }
func (*CandidateRPAdv) Type() Type { return TypeCandidateRPAdv }

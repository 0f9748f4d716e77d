package api

import (
	"math"
	"time"
)

// Version is the version of the control protocol and of the snapshot schema.
// Adding a key keeps the version; renaming or removing one, or changing the
// meaning of a value, makes a new one.
const Version = 1

// Seconds is a duration in seconds, carried as a JSON number. Timers that are
// not running are 0 unless a field says otherwise.
type Seconds float64

// Secs converts d to Seconds, rounded to the millisecond so that snapshots
// stay short and compare equal after a JSON round trip.
func Secs(d time.Duration) Seconds {
	return Seconds(math.Round(float64(d)/float64(time.Millisecond)) / 1000)
}

// Until is the time left from now until a timer's deadline t, for the timer
// fields: 0 when t is the zero time (timer not running) or already past.
func Until(now, t time.Time) Seconds {
	if t.IsZero() || !t.After(now) {
		return 0
	}
	return Secs(t.Sub(now))
}

// Since is the age of something that started at t, for uptime and "last"
// fields: 0 when t is the zero time.
func Since(now, t time.Time) Seconds {
	if t.IsZero() || t.After(now) {
		return 0
	}
	return Secs(now.Sub(t))
}

// Duration converts s back to a time.Duration.
func (s Seconds) Duration() time.Duration {
	return time.Duration(math.Round(float64(s) * float64(time.Second)))
}

// Snapshot is the daemon's whole state at one instant. Every list is present
// in the JSON (possibly empty); Sections says which of them were asked for.
type Snapshot struct {
	Version  int       `json:"version"`  // schema version, = Version
	Daemon   string    `json:"daemon"`   // name and version of the daemon, e.g. "pim6d 0.1.0"
	TakenAt  time.Time `json:"taken_at"` // when the snapshot was taken (RFC 3339)
	Sections []Section `json:"sections"` // the sections this snapshot carries

	Interfaces []Interface `json:"interfaces"`
	Neighbors  []Neighbor  `json:"neighbors"`
	Queriers   []Querier   `json:"queriers"`
	Groups     []Group     `json:"groups"`
	Routes     []Route     `json:"routes"`
	RPSet      []RP        `json:"rp_set"`
	BSR        *BSR        `json:"bsr"` // null when no BSR is known
	Timers     []Timer     `json:"timers"`
	Summary    Summary     `json:"summary"` // all zero unless asked for
}

// Summary counts the state the other sections list.
type Summary struct {
	Groups  int `json:"groups"`  // MLD listener states: (interface, group) pairs
	Sources int `json:"sources"` // MLD source records, over all of them
	Routes  int `json:"routes"`  // PIM routing entries, (*,G) and (S,G) (an (S,G)'s (S,G,rpt) state is part of it)
	// Installed counts the forwarding routes pim6d has in the routing
	// table. pim6d's table writer (--fib-writer) installs them a moment
	// after the protocol state that decides them.
	Installed int `json:"installed"`
}

// Interface flags, in the order KAME's pim6stat printed them.
const (
	IfRegister   = "REGISTER"   // the register mif (PIM Register encapsulation)
	IfDisabled   = "DISABLED"   // multicast routing disabled on the interface
	IfNoListener = "NOLISTENER" // MLD disabled on the interface
	IfDown       = "DOWN"       // link down
	IfPIM        = "PIM"        // has PIM neighbours
	IfQuerier    = "QRY"        // this router is the MLD querier
	IfNoNeighbor = "NO-NBR"     // no PIM neighbours
	IfDR         = "DR"         // this router is the PIM DR
)

// InterfaceFlagOrder lists the interface flags in their canonical order.
var InterfaceFlagOrder = []string{IfRegister, IfDisabled, IfNoListener, IfDown, IfPIM, IfQuerier, IfNoNeighbor, IfDR}

// Interface is one multicast interface (a "mif").
type Interface struct {
	Name string `json:"name"`
	// Index is the mif index: the interface's position (from 0) in the
	// one-character-per-mif strings of the routing table.
	Index int `json:"index"`
	// IfIndex is the operating system's link index (the scope id of the
	// interface's link-local addresses).
	IfIndex   int      `json:"ifindex"`
	Addresses []string `json:"addresses"` // "address/prefixlen", link-local first
	GenID     uint32   `json:"gen_id"`    // the Generation ID this router sends in its Hellos
	// DRPriority is the DR priority this router advertises on the interface.
	DRPriority uint32 `json:"dr_priority"`
	// DR is the address of the elected DR on the link ("" if none).
	DR         string   `json:"dr"`
	Flags      []string `json:"flags"`       // subset of InterfaceFlagOrder
	HelloTimer Seconds  `json:"hello_timer"` // until the next PIM Hello
	QueryTimer Seconds  `json:"query_timer"` // until the next MLD General Query
	// MLDVersions are the MLD versions the interface may speak (1, 2).
	MLDVersions []int `json:"mld_versions"`
}

// Neighbor is a PIM neighbour.
type Neighbor struct {
	Interface string `json:"interface"`
	Address   string `json:"address"` // link-local source of its Hellos
	// Secondary are the addresses of its Hello Address List option.
	Secondary []string `json:"secondary"`
	// DRPriority and GenID are null when the neighbour's Hellos do not carry
	// the option.
	DRPriority *uint32 `json:"dr_priority"`
	GenID      *uint32 `json:"gen_id"`
	Holdtime   Seconds `json:"holdtime"` // as advertised
	// Expires is the time left before the neighbour times out; -1 when its
	// holdtime is 0xffff (never).
	Expires Seconds `json:"expires"`
	Uptime  Seconds `json:"uptime"`
	DR      bool    `json:"dr"` // elected DR on its link
}

// Querier is the MLD querier of one interface.
type Querier struct {
	Interface string  `json:"interface"`
	Address   string  `json:"address"`
	Self      bool    `json:"self"`    // this router is the querier
	Version   int     `json:"version"` // MLD version of its queries
	Timer     Seconds `json:"timer"`   // Other Querier Present timer (0 when Self)
	Last      Seconds `json:"last"`    // how long it has been the querier
}

// Group filter modes (RFC 3810 §7.2).
const (
	ModeInclude = "include"
	ModeExclude = "exclude"
)

// Group is the listener state of one multicast address on one interface.
type Group struct {
	Interface string  `json:"interface"`
	Group     string  `json:"group"`
	Mode      string  `json:"mode"`    // ModeInclude or ModeExclude
	Version   int     `json:"version"` // compatibility mode: 1 (MLDv1 host present) or 2
	Timer     Seconds `json:"timer"`   // filter timer (Group Timer)
	// CompatTimer is the Older Version Host Present timer (0 when not running).
	CompatTimer Seconds `json:"compat_timer"`
	// Sources are the source records, sorted; in exclude mode those with a
	// zero timer are the blocked ones.
	Sources      []string           `json:"sources"`
	SourceTimers map[string]Seconds `json:"source_timers"` // by source address
	Uptime       Seconds            `json:"uptime"`
	LastReporter string             `json:"last_reporter"` // "" if unknown
}

// Route kinds.
const (
	KindSG    = "sg"     // (S,G)
	KindG     = "g"      // (*,G)
	KindSGRpt = "sg_rpt" // (S,G,rpt)
	KindRP    = "rp"     // (*,*,RP)
)

// Route flags, as KAME's pim6stat named them.
const (
	RouteSPT      = "SPT"      // iif toward the source (SPT bit)
	RouteWC       = "WC"       // wildcard: (*,G)
	RouteRP       = "RP"       // iif toward the RP
	Route1ST      = "1ST"      // first-hop router for a directly connected source
	RouteReg      = "REG"      // registering to the RP
	RouteIIFReg   = "IIF_REG"  // iif is the register mif (we are the RP)
	RouteNullOIF  = "NULL_OIF" // empty olist
	RouteCache    = "CACHE"    // installed in the forwarding table
	RouteAsserted = "ASSERTED" // an assert is in progress or lost
	RouteRegSupp  = "REG_SUPP" // register suppressed (Register-Stop received)
	RouteSG       = "SG"       // source-specific entry
	RoutePMBR     = "PMBR"     // PIM multicast border router
)

// RouteFlagOrder lists the route flags in their canonical order.
var RouteFlagOrder = []string{RouteSPT, RouteWC, RouteRP, Route1ST, RouteReg, RouteIIFReg, RouteNullOIF, RouteCache, RouteAsserted, RouteRegSupp, RouteSG, RoutePMBR}

// Route is one multicast routing entry.
type Route struct {
	Kind   string `json:"kind"`   // KindSG, KindG, KindSGRpt or KindRP
	Source string `json:"source"` // "::" for (*,G) and (*,*,RP)
	Group  string `json:"group"`  // "::" for (*,*,RP)
	RP     string `json:"rp"`     // "" when no RP is known (SSM)
	// IIF is the name of the incoming interface ("" if none); Upstream the
	// RPF neighbour on it ("" if none, e.g. a directly connected source).
	IIF      string   `json:"iif"`
	Upstream string   `json:"upstream"`
	OIFs     []string `json:"oifs"` // outgoing interfaces: the immediate olist
	Flags    []string `json:"flags"`
	Packets  uint64   `json:"packets"`
	Bytes    uint64   `json:"bytes"`

	// The oif sets that make up OIFs (RFC 7761 §4.1.6), by interface name.
	Joined   []string `json:"joined"`   // downstream Join state
	Pruned   []string `json:"pruned"`   // downstream Prune state
	Leaves   []string `json:"leaves"`   // local listeners (MLD)
	Asserted []string `json:"asserted"` // assert lost

	EntryTimer        Seconds `json:"entry_timer"`         // expiry / keepalive timer
	JoinPruneTimer    Seconds `json:"join_prune_timer"`    // upstream Join Timer
	RegisterStopTimer Seconds `json:"register_stop_timer"` // Register-Stop timer
	AssertTimer       Seconds `json:"assert_timer"`
	// OIFTimers are the per-interface Expiry Timers of downstream state.
	OIFTimers map[string]Seconds `json:"oif_timers"`
}

// RP is one RP of the RP-set with the group ranges it serves.
type RP struct {
	Address string `json:"rp"`
	// Upstream is the RPF neighbour toward the RP and Interface the interface
	// it is on; both "" when the RP is this router or unreachable.
	Upstream  string    `json:"upstream"`
	Interface string    `json:"interface"`
	Self      bool      `json:"self"`
	Origin    string    `json:"origin"` // "static", "bsr" or "embedded"
	Groups    []RPGroup `json:"groups"`
}

// RPGroup is a group prefix an RP serves.
type RPGroup struct {
	Prefix   string  `json:"prefix"`
	Priority int     `json:"priority"`
	Hold     Seconds `json:"hold"`    // holdtime as advertised (0 for static)
	Expires  Seconds `json:"expires"` // time left (KAME's "Age" column)
}

// BSR is the current bootstrap router.
type BSR struct {
	Address     string  `json:"address"`
	Priority    int     `json:"priority"`
	HashMaskLen int     `json:"hash_mask_len"`
	Self        bool    `json:"self"`
	Timeout     Seconds `json:"timeout"` // Bootstrap Timer
}

// Timer is a pending timer of the event loop.
type Timer struct {
	ID      uint64  `json:"id"`
	Name    string  `json:"name"` // what fires, e.g. "pim hello eth0"
	Expires Seconds `json:"expires"`
}

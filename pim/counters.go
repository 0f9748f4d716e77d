package pim

// Reason says why an input was dropped or ignored; Snapshot reports a count
// per reason.
type Reason uint8

const (
	ReasonUnknownInterface           Reason = iota + 1 // message on an interface PIM does not run on
	ReasonNotLinkLocal                                 // Hello/Join-Prune/Assert from a non-link-local source (§4.9)
	ReasonBadDestination                               // link-scoped message not sent to ff02::d
	ReasonOwnMessage                                   // our own multicast looped back
	ReasonNotNeighbor                                  // Join/Prune or Assert from a router we have no Hello from (§4.5, §4.6)
	ReasonUnsupportedType                              // a message type this core does not handle (Register, BSR, ...)
	ReasonBadGroup                                     // group not multicast, or a group range (mask < 128)
	ReasonBadSource                                    // source not a unicast address, or a source range
	ReasonWildcardSSM                                  // (*,G) join/prune for an SSM group (RFC 4607 §2, RFC 7761 §4.8)
	ReasonRptSSM                                       // (S,G,rpt) join/prune for an SSM group
	ReasonASMUnsupported                               // no longer counted: (S,G,rpt) is implemented (kept for the numbering)
	ReasonAssertNoState                                // Assert for an (S,G) we hold no state for
	ReasonAssertWildcard                               // Assert with source :: but the RPT bit clear (§4.9.6)
	ReasonLocalMembershipSSMWildcard                   // MLD (*,G) listener for an SSM group (RFC 4604 §2.2.1)
	ReasonNoRP                                         // (*,G) request for a group without an RP
	ReasonWrongRP                                      // (*,G) Join/Prune naming another RP than RP(G) (§4.5.1)
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonUnknownInterface:           "unknown-interface",
	ReasonNotLinkLocal:               "not-link-local",
	ReasonBadDestination:             "bad-destination",
	ReasonOwnMessage:                 "own-message",
	ReasonNotNeighbor:                "not-neighbor",
	ReasonUnsupportedType:            "unsupported-type",
	ReasonBadGroup:                   "bad-group",
	ReasonBadSource:                  "bad-source",
	ReasonWildcardSSM:                "wildcard-in-ssm-range",
	ReasonRptSSM:                     "rpt-in-ssm-range",
	ReasonASMUnsupported:             "asm-unsupported",
	ReasonAssertNoState:              "assert-no-state",
	ReasonAssertWildcard:             "assert-wildcard",
	ReasonLocalMembershipSSMWildcard: "local-any-source-in-ssm-range",
	ReasonNoRP:                       "no-rp",
	ReasonWrongRP:                    "wrong-rp",
}

func (r Reason) String() string {
	if r < numReasons && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "unknown"
}

// Stats are event counters (not drops) kept alongside the drop counters.
type Stats struct {
	HellosSent, HellosReceived        uint64
	JoinPrunesSent, JoinPrunesRecv    uint64
	JoinEntriesRecv, PruneEntriesRecv uint64
	JoinEntriesSent, PruneEntriesSent uint64
	AssertsSent, AssertsReceived      uint64
	NeighborRestarts                  uint64 // GenID changes (§4.3.1)
	NeighborExpiries                  uint64
}

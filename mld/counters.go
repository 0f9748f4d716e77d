package mld

import "fmt"

// DropReason says why a received packet was discarded without touching state.
type DropReason uint8

// Drop reasons.
const (
	DropNone          DropReason = iota
	DropNotICMPv6                // Packet.Proto is not 58
	DropNotMLD                   // an ICMPv6 type that is not MLD
	DropHopLimit                 // hop limit is not 1 (RFC 3810 §5.1.14, §5.2.13; RFC 2710 §3)
	DropNoRouterAlert            // no Router Alert hop-by-hop option (RFC 3810 §5, RFC 2710 §3)
	DropSource                   // source not link-local (:: allowed for v2 reports only; §5.1.14, §5.2.13)
	DropChecksum                 // ICMPv6 checksum does not verify
	DropMalformed                // lengths or counts do not fit (§5.1, §5.2, §8.1)
	DropVersion                  // a message of a version the interface is configured not to speak
	DropOwnQuery                 // our own query, looped back
	numDropReasons
)

var dropNames = [...]string{
	DropNone:          "none",
	DropNotICMPv6:     "not-icmpv6",
	DropNotMLD:        "not-mld",
	DropHopLimit:      "hop-limit",
	DropNoRouterAlert: "no-router-alert",
	DropSource:        "bad-source",
	DropChecksum:      "checksum",
	DropMalformed:     "malformed",
	DropVersion:       "version",
	DropOwnQuery:      "own-query",
}

func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("drop(%d)", uint8(r))
}

// DropReasons lists every reason a packet can be dropped for, in order.
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, numDropReasons-1)
	for r := DropNone + 1; r < numDropReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// Counters counts what an interface received, sent, dropped and refused.
type Counters struct {
	Received    uint64                   // packets handed to HandlePacket
	Dropped     [numDropReasons]uint64   // by DropReason
	Queries     uint64                   // valid queries received (v1 and v2)
	V1Queries   uint64                   // of which MLDv1: an MLDv1 router is on the link (§8.3.1)
	V1Reports   uint64                   // valid MLDv1 reports
	V1Dones     uint64                   // valid MLDv1 Dones
	V2Reports   uint64                   // valid MLDv2 reports
	Records     uint64                   // records of valid v2 reports (and v1 messages) processed
	QueriesSent uint64                   // queries this interface produced
	Ignored     [numIgnoreReasons]uint64 // records ignored, by IgnoreReason
}

// Drops returns the count for one reason.
func (c *Counters) Drops(r DropReason) uint64 {
	if r >= numDropReasons {
		return 0
	}
	return c.Dropped[r]
}

// IgnoredFor returns the count for one reason.
func (c *Counters) IgnoredFor(r IgnoreReason) uint64 {
	if r >= numIgnoreReasons {
		return 0
	}
	return c.Ignored[r]
}

// IgnoreReason says why a record (or a part of one) inside a valid packet had
// no effect.
type IgnoreReason uint8

// Ignore reasons.
const (
	IgnoreNone        IgnoreReason = iota
	IgnoreRecordType               // unknown record type (RFC 3810 §5.2.12: ignored)
	IgnoreGroup                    // not a multicast address, or scope below link-local, or ff02::1
	IgnoreSSMASM                   // EXCLUDE-mode record or MLDv1 message for an SSM group (RFC 4604 §2.2)
	IgnoreGroupLimit               // a new group beyond MaxGroups, refused
	IgnoreSourceLimit              // a new source beyond MaxSources, refused
	IgnoreCompatBlock              // BLOCK (or TO_EX sources) while the group is in MLDv1 mode (§8.3.2)
	IgnoreBadSource                // a record listing a multicast or unspecified source
	numIgnoreReasons
)

var ignoreNames = [...]string{
	IgnoreNone:        "none",
	IgnoreRecordType:  "record-type",
	IgnoreGroup:       "bad-group",
	IgnoreSSMASM:      "ssm-asm",
	IgnoreGroupLimit:  "group-limit",
	IgnoreSourceLimit: "source-limit",
	IgnoreCompatBlock: "v1-compat",
	IgnoreBadSource:   "bad-source",
}

func (r IgnoreReason) String() string {
	if int(r) < len(ignoreNames) {
		return ignoreNames[r]
	}
	return fmt.Sprintf("ignore(%d)", uint8(r))
}

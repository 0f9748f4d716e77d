// Package wire is the PIMv2 codec for IPv6 (RFC 7761 §4.9, RFC 5059 §4): the
// message structs, Parse for what we receive and Marshal for what we send, with
// checksums over the IPv6 pseudo-header.
//
// # Receiving
//
// The stack hands over a stack.Packet. Validate (or ValidateLinkScoped /
// ValidateUnicast) checks its addressing against RFC 7761 §4.9: Hello,
// Join/Prune and Assert only from a link-local source to ff02::d with hop
// limit 1; Register, Register-Stop and C-RP-Adv between global addresses.
// Parse then checks the version, type and checksum and decodes the body into
// *Hello, *Register, *RegisterStop, *JoinPrune, *Bootstrap, *Assert or
// *CandidateRPAdv. Every error is a *ParseError naming the message type, the
// field and the byte offset, wrapping a sentinel (ErrTruncated,
// ErrBadChecksum, ErrUnknownType, ...); DropReason turns it into a counter
// name. Parse is bounded: counts are checked against the bytes left before
// anything is allocated, and it never panics (FuzzParse).
//
// # Sending
//
// Marshal(src, dst, m) returns the message with its checksum; Append does the
// same into a caller's buffer without allocating. Len(m) is the encoded
// length, and JoinPruneHeaderLen, JoinPruneGroupLen and EncodedSourceLen let a
// sender pack Join/Prune messages into an MTU. GroupOf, SourceOf, WildcardRP
// and RPTSource build the encoded addresses of (S,G), (*,G) and (S,G,rpt)
// entries; NullRegister builds a Null-Register.
//
// IPv6 only: an Encoded-Unicast, -Group or -Source address with another
// family is ErrBadAddressFamily, and with a non-native encoding (e.g. the
// join attributes of RFC 5384) ErrBadEncoding.
package wire

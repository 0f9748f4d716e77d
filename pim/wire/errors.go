package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors. Parse and Marshal wrap them in a *ParseError that names the
// message type, the field and the byte offset, so callers test with errors.Is
// and count drops by DropReason.
var (
	ErrTruncated        = errors.New("truncated")
	ErrBadVersion       = errors.New("bad PIM version")
	ErrBadChecksum      = errors.New("bad checksum")
	ErrUnknownType      = errors.New("unknown message type")
	ErrBadAddressFamily = errors.New("bad address family")
	ErrBadEncoding      = errors.New("bad encoding type")
	ErrBadMaskLen       = errors.New("bad mask length")
	ErrBadOption        = errors.New("bad hello option length")
	ErrTooMany          = errors.New("too many entries for the field")
	ErrTooLong          = errors.New("message too long")
	ErrBadValue         = errors.New("value out of range")
	ErrNilMessage       = errors.New("nil message")

	// Validation (validate.go).
	ErrNotPIM         = errors.New("not a PIM packet")
	ErrSourceNotLL    = errors.New("source is not link-local")
	ErrBadDestination = errors.New("bad destination address")
	ErrBadHopLimit    = errors.New("hop limit is not 1")
	ErrBadSource      = errors.New("bad source address")
)

// ParseError is the error Parse and Marshal return: what went wrong (Err, one of
// the sentinels above), in which message type, which field, at which byte offset
// from the start of the PIM header.
type ParseError struct {
	Type   Type
	Field  string
	Offset int
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("pim %s: %s at offset %d: %v", e.Type, e.Field, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func perr(t Type, field string, off int, err error) error {
	return &ParseError{Type: t, Field: field, Offset: off, Err: err}
}

// dropReasons maps each sentinel to the short name used as a drop counter key.
var dropReasons = []struct {
	err  error
	name string
}{
	{ErrTruncated, "truncated"},
	{ErrBadVersion, "bad-version"},
	{ErrBadChecksum, "bad-checksum"},
	{ErrUnknownType, "unknown-type"},
	{ErrBadAddressFamily, "bad-address-family"},
	{ErrBadEncoding, "bad-encoding"},
	{ErrBadMaskLen, "bad-mask-len"},
	{ErrBadOption, "bad-option"},
	{ErrTooMany, "too-many"},
	{ErrTooLong, "too-long"},
	{ErrBadValue, "bad-value"},
	{ErrNilMessage, "nil-message"},
	{ErrNotPIM, "not-pim"},
	{ErrSourceNotLL, "source-not-link-local"},
	{ErrBadDestination, "bad-destination"},
	{ErrBadHopLimit, "bad-hop-limit"},
	{ErrBadSource, "bad-source"},
}

// DropReason returns a short, stable name for err (for example "bad-checksum")
// to count dropped packets by reason; "other" for an error not from this package.
func DropReason(err error) string {
	for _, r := range dropReasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// String names the message type as RFC 7761 §4.9 does.
func (t Type) String() string {
	switch t {
	case TypeHello:
		return "Hello"
	case TypeRegister:
		return "Register"
	case TypeRegisterStop:
		return "Register-Stop"
	case TypeJoinPrune:
		return "Join/Prune"
	case TypeBootstrap:
		return "Bootstrap"
	case TypeAssert:
		return "Assert"
	case TypeGraft:
		return "Graft"
	case TypeGraftAck:
		return "Graft-Ack"
	case TypeCandidateRPAdv:
		return "Candidate-RP-Advertisement"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

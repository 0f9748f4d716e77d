package api

import (
	"errors"
	"fmt"
)

// DefaultSocketPath is where pim6d listens and pim6stat connects by default.
const DefaultSocketPath = "/run/pim6d/pim6d.sock"

// Ops a request may name.
const (
	OpHello    = "hello"    // version check; the response carries Daemon
	OpSnapshot = "snapshot" // the response carries Snapshot
)

// Request is one line a client sends.
type Request struct {
	Version  int      `json:"version"`
	Op       string   `json:"op"`
	Sections []string `json:"sections,omitempty"` // for OpSnapshot; empty = all
}

// Response is one line the server sends back.
type Response struct {
	Version  int       `json:"version"`
	OK       bool      `json:"ok"`
	Daemon   string    `json:"daemon,omitempty"`
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	Error    *Error    `json:"error,omitempty"`
}

// Error codes of a failed response.
const (
	CodeBadRequest      = "bad_request"      // not JSON, unknown op or section, ...
	CodeTooLarge        = "too_large"        // request line over the size limit
	CodeVersionMismatch = "version_mismatch" // the request's version is not Version
	CodeUnavailable     = "unavailable"      // the daemon could not take a snapshot
	CodeInternal        = "internal"         // a bug in the daemon
)

// Error is the error of a failed response. It is also the error the client
// returns for it; Unwrap maps version mismatches to ErrVersionMismatch.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("pim6d: %s (%s)", e.Message, e.Code) }

// Unwrap lets errors.Is(err, ErrVersionMismatch) match a version mismatch.
func (e *Error) Unwrap() error {
	if e.Code == CodeVersionMismatch {
		return ErrVersionMismatch
	}
	return nil
}

// Errors the client wraps so that a caller can tell the operator what is wrong.
var (
	// ErrNotRunning: no socket at the path, or nobody listening on it.
	ErrNotRunning = errors.New("pim6d is not running")
	// ErrPermission: the socket (or its directory) is not accessible to us.
	ErrPermission = errors.New("permission denied")
	// ErrVersionMismatch: client and daemon speak different protocol versions.
	ErrVersionMismatch = errors.New("control protocol version mismatch")
	// ErrInUse: Listen found a live daemon answering on the socket.
	ErrInUse = errors.New("control socket in use by a running daemon")
)

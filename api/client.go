package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Client talks to pim6d over its control socket. It is not safe for
// concurrent use.
type Client struct {
	path   string
	conn   *net.UnixConn
	lim    limitReader
	dec    *json.Decoder
	w      *bufio.Writer
	daemon string

	// Timeout bounds each request (default 60 s); a context deadline that
	// comes sooner wins.
	Timeout time.Duration
	// MaxResponseBytes bounds one response (default 1 GiB).
	MaxResponseBytes int64
}

// helloTimeout bounds the version check of Dial.
const helloTimeout = 10 * time.Second

// Dial connects to the daemon at path and checks that it speaks this
// protocol version. Errors wrap ErrNotRunning (no socket, or nobody listening),
// ErrPermission (the socket or its directory is not ours to use) or
// ErrVersionMismatch.
func Dial(path string) (*Client, error) {
	return DialContext(context.Background(), path)
}

// DialContext is Dial with a context for the connection and the version check.
func DialContext(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, dialError(path, err)
	}
	conn := nc.(*net.UnixConn)
	c := &Client{path: path, conn: conn, w: bufio.NewWriter(conn), Timeout: 60 * time.Second, MaxResponseBytes: 1 << 30}
	c.lim.r = bufio.NewReaderSize(conn, 64<<10)
	c.dec = json.NewDecoder(&c.lim)
	// Something that accepts but never answers is not a pim6d worth waiting
	// a minute for.
	hctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	resp, err := c.roundTrip(hctx, Request{Version: Version, Op: OpHello}, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.daemon = resp.Daemon
	return c, nil
}

// dialError names what went wrong in words an operator can act on.
func dialError(path string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: no control socket at %s (%w)", ErrNotRunning, path, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nobody listens on %s, a stale socket (%w)", ErrNotRunning, path, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: cannot connect to %s; run as root or as the daemon's user (%w)", ErrPermission, path, err)
	}
	return fmt.Errorf("connecting to pim6d at %s: %w", path, err)
}

// Daemon returns the daemon's name and version, as the hello op reported it.
func (c *Client) Daemon() string { return c.daemon }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Snapshot asks for the given sections (none means all).
func (c *Client) Snapshot(ctx context.Context, sections ...Section) (*Snapshot, error) {
	var snap Snapshot
	if err := c.snapshot(ctx, sections, &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

// SnapshotJSON is Snapshot as the daemon encoded it, for printing: keys this
// client does not know survive.
func (c *Client) SnapshotJSON(ctx context.Context, sections ...Section) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.snapshot(ctx, sections, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func (c *Client) snapshot(ctx context.Context, sections []Section, into any) error {
	req := Request{Version: Version, Op: OpSnapshot}
	for _, s := range sections {
		req.Sections = append(req.Sections, string(s))
	}
	resp, err := c.roundTrip(ctx, req, into)
	if err != nil {
		return err
	}
	if !resp.hasSnapshot {
		return fmt.Errorf("pim6d at %s sent a response without a snapshot", c.path)
	}
	return nil
}

// response is Response with the snapshot decoded straight into the caller's
// target (a *Snapshot or a *json.RawMessage).
type response struct {
	Version     int    `json:"version"`
	OK          bool   `json:"ok"`
	Daemon      string `json:"daemon"`
	Snapshot    any    `json:"snapshot"`
	Error       *Error `json:"error"`
	hasSnapshot bool
}

// roundTrip sends req and reads its response.
func (c *Client) roundTrip(ctx context.Context, req Request, snapshot any) (*response, error) {
	deadline := time.Now().Add(c.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	enc := json.NewEncoder(c.w)
	if err := enc.Encode(req); err != nil {
		return nil, c.ioError(ctx, "sending request", err)
	}
	if err := c.w.Flush(); err != nil {
		return nil, c.ioError(ctx, "sending request", err)
	}
	c.lim.n = c.MaxResponseBytes
	resp := response{Snapshot: snapshot}
	if snapshot == nil {
		resp.Snapshot = new(json.RawMessage) // tolerated and dropped
	}
	err := c.dec.Decode(&resp)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errResponseTooLarge):
		return nil, fmt.Errorf("pim6d response larger than %d bytes", c.MaxResponseBytes)
	case errors.As(err, &typeErr):
		// A daemon of another version may shape things differently: the
		// decoder kept going, so its version is known and is the real news.
		if resp.Version != Version {
			break
		}
		return nil, fmt.Errorf("pim6d sent a malformed response: %w", err)
	case err != nil:
		return nil, c.ioError(ctx, "reading response", err)
	}
	if resp.Version != Version {
		return nil, fmt.Errorf("%w: pim6d speaks control protocol version %d, this client speaks version %d", ErrVersionMismatch, resp.Version, Version)
	}
	if !resp.OK {
		if resp.Error == nil {
			return nil, &Error{Code: CodeInternal, Message: "request failed without an error"}
		}
		return nil, resp.Error
	}
	resp.hasSnapshot = snapshot != nil && !isNullSnapshot(resp.Snapshot)
	return &resp, nil
}

// isNullSnapshot reports whether the response carried no snapshot: the target
// was left untouched (or set to JSON null).
func isNullSnapshot(v any) bool {
	switch s := v.(type) {
	case *json.RawMessage:
		return len(*s) == 0 || string(*s) == "null"
	case *Snapshot:
		return s.Version == 0
	}
	return true
}

func (c *Client) ioError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	// The connection's deadline may fire a moment before ctx's own timer.
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return fmt.Errorf("%s: %w", what, context.DeadlineExceeded)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%s: pim6d closed the connection (%w)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

var errResponseTooLarge = errors.New("response too large")

// limitReader fails once more than n bytes have been read since n was set.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

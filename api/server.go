package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// Provider returns a snapshot of the daemon's state. The daemon takes it inside
// its event loop; WantSection(ctx, s) says which sections the client asked for,
// so the provider may skip the others. It must honour ctx's deadline, return a
// new Snapshot on every call (the server filters and normalises it in place)
// and may return an error when no snapshot can be taken (shutting down, busy).
type Provider func(ctx context.Context) (*Snapshot, error)

// ServeOptions tune the server; the zero value is usable.
type ServeOptions struct {
	// Daemon is the daemon's name and version, reported by the hello op and
	// set in snapshots that leave it empty.
	Daemon string
	// MaxRequestBytes bounds one request line (default 64 KiB).
	MaxRequestBytes int
	// IdleTimeout is how long a connection may stay without sending a
	// complete request (default 30 s).
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of one response (default 60 s).
	WriteTimeout time.Duration
	// ProviderTimeout bounds the Provider call (default 10 s).
	ProviderTimeout time.Duration
	// MaxConns bounds concurrent connections; more are refused with an
	// error response (default 16).
	MaxConns int
	// Logger receives connection-level errors (default: discarded).
	Logger *slog.Logger
	// ReleaseAbove: after answering with a snapshot of more entries (groups
	// plus routes) than this, the server hands the memory the answer used
	// back to the operating system at once (a forced GC and scavenge), so a
	// dump of a big router does not leave its RSS at twice its state for
	// minutes. 0 means never.
	ReleaseAbove int
}

func (o *ServeOptions) fill() {
	if o.Daemon == "" {
		o.Daemon = "pim6d"
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 64 << 10
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.ProviderTimeout <= 0 {
		o.ProviderTimeout = 10 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server answers control requests on a unix socket it has claimed.
type Server struct {
	path string
	opts ServeOptions
	ln   *net.UnixListener
	lock *os.File
	file os.FileInfo // our socket file, so that we remove only ours

	closeOnce sync.Once
	closeErr  error
}

// Serve claims the socket at path and answers requests with snapshots from p
// until ctx is cancelled; it then removes the socket and returns nil.
func Serve(ctx context.Context, path string, p Provider, opts ServeOptions) error {
	s, err := Listen(path, opts)
	if err != nil {
		return err
	}
	return s.Serve(ctx, p)
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers requests until ctx is cancelled, then closes every connection,
// waits for their handlers, removes the socket and returns nil. It returns an
// error only if accepting fails for good.
func (s *Server) Serve(ctx context.Context, p Provider) error {
	if p == nil {
		s.Close()
		return errors.New("api: Serve needs a Provider")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()

	var wg sync.WaitGroup
	slots := make(chan struct{}, s.opts.MaxConns)
	var serveErr error
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			// EMFILE and friends: back off instead of spinning.
			var errno syscall.Errno
			if errors.As(err, &errno) && (errno == syscall.EMFILE || errno == syscall.ENFILE || errno == syscall.ECONNABORTED || errno == syscall.EINTR) {
				s.opts.Logger.Warn("control socket accept", "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			serveErr = fmt.Errorf("api: accepting on %s: %w", s.path, err)
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			s.refuse(c, &Error{Code: CodeUnavailable, Message: fmt.Sprintf("too many control connections (limit %d); try again", s.opts.MaxConns)})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.handle(ctx, c, p)
		}()
	}
	cancel() // closes the connections still open (AfterFunc in handle)
	wg.Wait()
	if err := s.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

// Close stops listening and removes the socket (if it is still ours). Serve
// calls it on return; a caller that never calls Serve must call it.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.ln.Close()
		if fi, err := os.Lstat(s.path); err == nil && os.SameFile(fi, s.file) {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.closeErr = fmt.Errorf("api: removing %s: %w", s.path, err)
			}
		}
		if s.lock != nil {
			s.lock.Close() // releases the flock
		}
	})
	return s.closeErr
}

// refuse writes one error response and closes c, without waiting long.
func (s *Server) refuse(c *net.UnixConn, e *Error) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	writeResponse(c, &Response{Version: Version, Error: e})
	c.Close()
}

// handle answers the requests of one connection, one line at a time.
func (s *Server) handle(ctx context.Context, c *net.UnixConn, p Provider) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(s.opts.IdleTimeout))
		line, rerr := readLine(r, s.opts.MaxRequestBytes)
		if errors.Is(rerr, errTooLarge) {
			// The rest of the line is unread: answer, then hang up.
			s.refuse(c, &Error{Code: CodeTooLarge, Message: fmt.Sprintf("request longer than %d bytes", s.opts.MaxRequestBytes)})
			return
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			var ne net.Error
			if errors.As(rerr, &ne) && ne.Timeout() && ctx.Err() == nil {
				s.refuse(c, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("no complete request within %v", s.opts.IdleTimeout)})
			}
			return
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			resp := s.answer(ctx, line, p)
			c.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
			err := writeResponse(w, resp)
			if big := s.opts.ReleaseAbove > 0 && resp.Snapshot != nil &&
				len(resp.Snapshot.Groups)+len(resp.Snapshot.Routes) > s.opts.ReleaseAbove; big {
				resp = nil
				releaseMemory()
			}
			if err != nil {
				if ctx.Err() == nil {
					s.opts.Logger.Debug("control socket write", "err", err)
				}
				return
			}
		}
		if rerr != nil { // EOF after a last request without newline
			return
		}
	}
}

// answer turns one request line into a response; it never panics.
func (s *Server) answer(ctx context.Context, line []byte, p Provider) (resp *Response) {
	resp = &Response{Version: Version}
	fail := func(code, format string, args ...any) *Response {
		resp.OK = false
		resp.Snapshot = nil
		resp.Error = &Error{Code: code, Message: fmt.Sprintf(format, args...)}
		return resp
	}
	defer func() {
		if v := recover(); v != nil {
			s.opts.Logger.Error("control request panicked", "panic", v)
			resp = fail(CodeInternal, "internal error: %v", v)
		}
	}()

	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return fail(CodeBadRequest, "request is not a JSON object: %v", err)
	}
	if req.Version == 0 {
		return fail(CodeBadRequest, `request has no "version" (pim6d speaks control protocol version %d)`, Version)
	}
	if req.Version != Version {
		return fail(CodeVersionMismatch, "client speaks control protocol version %d, pim6d speaks version %d", req.Version, Version)
	}
	switch req.Op {
	case OpHello:
		resp.OK = true
		resp.Daemon = s.opts.Daemon
		return resp
	case OpSnapshot:
	case "":
		return fail(CodeBadRequest, `request has no "op" (want %q or %q)`, OpHello, OpSnapshot)
	default:
		return fail(CodeBadRequest, "unknown op %q (want %q or %q)", req.Op, OpHello, OpSnapshot)
	}
	sections, err := ParseSections(req.Sections)
	if err != nil {
		return fail(CodeBadRequest, "%v", err)
	}
	pctx, cancel := context.WithTimeout(WithSections(ctx, sections), s.opts.ProviderTimeout)
	defer cancel()
	snap, err := p(pctx)
	if err != nil {
		return fail(CodeUnavailable, "cannot take a snapshot: %v", err)
	}
	if snap == nil {
		return fail(CodeInternal, "provider returned no snapshot")
	}
	snap.Version = Version
	if snap.Daemon == "" {
		snap.Daemon = s.opts.Daemon
	}
	snap.Filter(sections)
	snap.Normalize()
	resp.OK = true
	resp.Snapshot = snap
	return resp
}

var errTooLarge = errors.New("line too long")

// releaseMemory returns freed heap memory to the operating system (a
// variable so that tests can count the calls).
var releaseMemory = debug.FreeOSMemory

// readLine reads up to and including '\n', at most max bytes before it.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		n := len(frag)
		if n > 0 && frag[n-1] == '\n' {
			n--
		}
		if len(line)+n > max {
			return nil, errTooLarge
		}
		line = append(line, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// writeResponse writes resp as one JSON line and flushes it.
func writeResponse(w io.Writer, resp *Response) error {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return err
	}
	return bw.Flush()
}

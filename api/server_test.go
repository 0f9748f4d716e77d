package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
)

func sampleProvider(ctx context.Context) (*api.Snapshot, error) { return apitest.Sample(), nil }

// socketPath returns a fresh socket path in a directory that does not exist
// yet (Listen must create it).
func socketPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "run", "pim6d.sock")
}

type running struct {
	path string
	stop func() error // cancels Serve and returns its error
}

func startServer(t *testing.T, path string, p api.Provider, opts api.ServeOptions) *running {
	t.Helper()
	srv, err := api.Listen(path, opts)
	if err != nil {
		t.Fatalf("Listen(%s): %v", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, p) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(5 * time.Second):
				serveErr = errors.New("Serve did not return within 5s of cancel")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return &running{path: path, stop: stop}
}

func dial(t *testing.T, path string) *api.Client {
	t.Helper()
	c, err := api.Dial(path)
	if err != nil {
		t.Fatalf("Dial(%s): %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a client that writes lines as given and reads responses.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func rawDial(t *testing.T, path string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("net.Dial(%s): %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, conn: c, r: bufio.NewReader(c)}
}

func (c *rawConn) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line)); err != nil {
		c.t.Fatalf("writing %q: %v", line, err)
	}
}

func (c *rawConn) recv() (*api.Response, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var resp api.Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("response %q is not JSON: %v", line, err)
	}
	return &resp, nil
}

func TestServeSnapshot(t *testing.T) {
	var mu sync.Mutex
	var asked []bool // WantSection(routes) per provider call
	provider := func(ctx context.Context) (*api.Snapshot, error) {
		mu.Lock()
		asked = append(asked, api.WantSection(ctx, api.SectionRoutes))
		mu.Unlock()
		return apitest.Sample(), nil
	}
	srv := startServer(t, socketPath(t), provider, api.ServeOptions{Daemon: "pim6d 9.9"})

	fi, err := os.Lstat(srv.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a socket with permissions 0600", fi.Mode())
	}

	c := dial(t, srv.path)
	if got := c.Daemon(); got != "pim6d 9.9" {
		t.Errorf("Daemon() = %q, want %q", got, "pim6d 9.9")
	}

	t.Run("all sections", func(t *testing.T) {
		got, err := c.Snapshot(context.Background())
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		want := apitest.Sample()
		want.Normalize()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Snapshot() (-want +got):\n%s", diff)
		}
	})
	t.Run("one section", func(t *testing.T) {
		got, err := c.Snapshot(context.Background(), api.SectionGroups)
		if err != nil {
			t.Fatalf("Snapshot(groups): %v", err)
		}
		if diff := cmp.Diff([]api.Section{api.SectionGroups}, got.Sections); diff != "" {
			t.Errorf("Snapshot(groups).Sections (-want +got):\n%s", diff)
		}
		if len(got.Groups) != len(apitest.Sample().Groups) || len(got.Routes) != 0 || len(got.Interfaces) != 0 || got.BSR != nil {
			t.Errorf("Snapshot(groups) = %d groups, %d routes, %d interfaces, bsr %v; want only the %d groups",
				len(got.Groups), len(got.Routes), len(got.Interfaces), got.BSR, len(apitest.Sample().Groups))
		}
	})
	mu.Lock()
	if diff := cmp.Diff([]bool{true, false}, asked); diff != "" {
		t.Errorf("provider's WantSection(routes) per call (-want +got):\n%s", diff)
	}
	mu.Unlock()
}

func TestServeRemovesSocketOnShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{})
	c := dial(t, srv.path) // an open connection must not hold up shutdown
	if err := srv.stop(); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	if _, err := os.Lstat(srv.path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after shutdown, Lstat(socket) error = %v, want not exist", err)
	}
	if _, err := c.Snapshot(context.Background()); err == nil {
		t.Errorf("Snapshot on a connection to a stopped server succeeded")
	}
	c.Close()
	// Every goroutine of the server is gone.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines after shutdown = %d, want <= %d (leak)", n, before)
	}
}

// staleSocket leaves a socket file nobody listens on, as a crashed daemon does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := socketPath(t)
	staleSocket(t, path)
	if _, err := api.Dial(path); !errors.Is(err, api.ErrNotRunning) {
		t.Fatalf("Dial(stale socket) error = %v, want ErrNotRunning", err)
	}
	srv := startServer(t, path, sampleProvider, api.ServeOptions{})
	c := dial(t, srv.path)
	if _, err := c.Snapshot(context.Background()); err != nil {
		t.Errorf("Snapshot after replacing a stale socket: %v", err)
	}
}

func TestListenRefusesLiveSocket(t *testing.T) {
	t.Run("another server", func(t *testing.T) {
		path := socketPath(t)
		first := startServer(t, path, sampleProvider, api.ServeOptions{})
		_, err := api.Listen(path, api.ServeOptions{})
		if !errors.Is(err, api.ErrInUse) {
			t.Fatalf("second Listen(%s) error = %v, want ErrInUse", path, err)
		}
		// The first server still answers.
		c := dial(t, first.path)
		if _, err := c.Snapshot(context.Background()); err != nil {
			t.Errorf("first server after a refused second Listen: %v", err)
		}
	})
	t.Run("a live listener without the lock", func(t *testing.T) {
		path := socketPath(t)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		_, err = api.Listen(path, api.ServeOptions{})
		if !errors.Is(err, api.ErrInUse) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Listen over a live socket error = %v, want ErrInUse naming %s", err, path)
		}
		if _, err := net.Dial("unix", path); err != nil {
			t.Errorf("the live socket was disturbed: %v", err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		path := socketPath(t)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := api.Listen(path, api.ServeOptions{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Listen over a regular file error = %v, want \"not a socket\"", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Errorf("regular file at the socket path was changed to %q", b)
		}
	})
}

func TestDialNotRunning(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"no socket", func(t *testing.T, path string) {}},
		{"stale socket", staleSocket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := socketPath(t)
			tc.setup(t, path)
			_, err := api.Dial(path)
			if !errors.Is(err, api.ErrNotRunning) || !strings.Contains(err.Error(), path) {
				t.Errorf("Dial error = %v, want ErrNotRunning naming %s", err, path)
			}
		})
	}
}

func TestDialPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root bypasses socket permissions; cmd/pim6stat's end-to-end test covers this as user nobody")
	}
	path := socketPath(t)
	startServer(t, path, sampleProvider, api.ServeOptions{})
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Dial(path); !errors.Is(err, api.ErrPermission) {
		t.Errorf("Dial(mode 0000 socket) error = %v, want ErrPermission", err)
	}
}

func TestVersionMismatch(t *testing.T) {
	t.Run("client newer than daemon", func(t *testing.T) {
		srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{})
		c := rawDial(t, srv.path)
		c.send(`{"version":2,"op":"snapshot"}` + "\n")
		resp, err := c.recv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.OK || resp.Error == nil || resp.Error.Code != api.CodeVersionMismatch || resp.Version != api.Version {
			t.Errorf("response to a version 2 request = %+v, want version %d, error code %q", resp, api.Version, api.CodeVersionMismatch)
		}
		if !errors.Is(resp.Error, api.ErrVersionMismatch) {
			t.Errorf("errors.Is(%v, ErrVersionMismatch) = false, want true", resp.Error)
		}
	})
	t.Run("daemon replaced by a newer one that reshaped the snapshot", func(t *testing.T) {
		path := socketPath(t)
		FakeDaemonFunc(t, path, func(req string) string {
			if strings.Contains(req, `"hello"`) {
				return `{"version":1,"ok":true,"daemon":"pim6d 1"}`
			}
			return `{"version":2,"ok":true,"snapshot":{"routes":{"sg":[]},"bsr":"none"}}`
		})
		c := dial(t, path)
		_, err := c.Snapshot(context.Background())
		if !errors.Is(err, api.ErrVersionMismatch) {
			t.Errorf("Snapshot from a version 2 daemon error = %v, want ErrVersionMismatch", err)
		}
	})
	t.Run("daemon newer than client", func(t *testing.T) {
		path := socketPath(t)
		FakeDaemon(t, path, `{"version":2,"ok":false,"error":{"code":"version_mismatch","message":"client speaks 1, pim6d speaks 2"}}`)
		_, err := api.Dial(path)
		if !errors.Is(err, api.ErrVersionMismatch) || !strings.Contains(err.Error(), "version 2") {
			t.Errorf("Dial(version 2 daemon) error = %v, want ErrVersionMismatch naming version 2", err)
		}
	})
}

// FakeDaemon listens at path and answers every request line with reply.
func FakeDaemon(t *testing.T, path, reply string) {
	t.Helper()
	FakeDaemonFunc(t, path, func(string) string { return reply })
}

// FakeDaemonFunc listens at path and answers each request line with
// reply(line).
func FakeDaemonFunc(t *testing.T, path string, reply func(req string) string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(reply(req) + "\n"))
				}
			}()
		}
	}()
}

func TestBadRequests(t *testing.T) {
	srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{MaxRequestBytes: 1024})
	for _, tc := range []struct {
		name     string
		line     string
		wantCode string
		wantMsg  string
	}{
		{"not JSON", "GET / HTTP/1.0\n", api.CodeBadRequest, "not a JSON object"},
		{"JSON array", "[1,2,3]\n", api.CodeBadRequest, "not a JSON object"},
		{"binary", "\x00\xff\x01\x02\n", api.CodeBadRequest, "not a JSON object"},
		{"no version", `{"op":"snapshot"}` + "\n", api.CodeBadRequest, `no "version"`},
		{"version of the wrong type", `{"version":"1","op":"snapshot"}` + "\n", api.CodeBadRequest, "not a JSON object"},
		{"no op", `{"version":1}` + "\n", api.CodeBadRequest, `no "op"`},
		{"unknown op", `{"version":1,"op":"reboot"}` + "\n", api.CodeBadRequest, `unknown op "reboot"`},
		{"unknown section", `{"version":1,"op":"snapshot","sections":["mroutes"]}` + "\n", api.CodeBadRequest, `unknown section "mroutes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawDial(t, srv.path)
			c.send(tc.line)
			resp, err := c.recv()
			if err != nil {
				t.Fatalf("no response to %q: %v", tc.line, err)
			}
			if resp.OK || resp.Error == nil || resp.Error.Code != tc.wantCode || !strings.Contains(resp.Error.Message, tc.wantMsg) {
				t.Fatalf("response to %q = %+v (error %+v), want code %q with message containing %q", tc.line, resp, resp.Error, tc.wantCode, tc.wantMsg)
			}
			// The connection stays usable after a bad request.
			c.send(`{"version":1,"op":"hello"}` + "\n")
			if resp, err := c.recv(); err != nil || !resp.OK {
				t.Errorf("hello after a bad request = %+v, %v; want ok", resp, err)
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		c := rawDial(t, srv.path)
		c.send(`{"version":1,"op":"snapshot","sections":["` + strings.Repeat("x", 5000) + `"]}` + "\n")
		resp, err := c.recv()
		if err != nil {
			t.Fatalf("no response to an oversized request: %v", err)
		}
		if resp.Error == nil || resp.Error.Code != api.CodeTooLarge {
			t.Errorf("response to an oversized request = %+v, want code %q", resp, api.CodeTooLarge)
		}
		if _, err := c.recv(); err == nil {
			t.Errorf("connection still open after an oversized request, want it closed")
		}
	})
	t.Run("several requests on one connection, no final newline", func(t *testing.T) {
		c := rawDial(t, srv.path)
		c.send(`{"version":1,"op":"hello"}` + "\n\n" + `{"version":1,"op":"snapshot","sections":["bsr"]}`)
		c.conn.(*net.UnixConn).CloseWrite()
		for i := range 2 {
			if resp, err := c.recv(); err != nil || !resp.OK {
				t.Fatalf("response %d = %+v, %v; want ok", i, resp, err)
			}
		}
	})
	// The server survived all of it.
	if _, err := dial(t, srv.path).Snapshot(context.Background()); err != nil {
		t.Errorf("Snapshot after bad requests: %v", err)
	}
}

func TestIdleConnectionTimesOut(t *testing.T) {
	srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{IdleTimeout: 100 * time.Millisecond})
	c := rawDial(t, srv.path)
	c.send(`{"version":1,`) // never finished
	start := time.Now()
	resp, err := c.recv()
	if err != nil {
		t.Fatalf("no response from an idle timeout: %v", err)
	}
	if resp.Error == nil || !strings.Contains(resp.Error.Message, "no complete request") {
		t.Errorf("response to a stalled request = %+v, want an idle timeout error", resp)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle timeout took %v, want about 100ms", d)
	}
}

func TestProviderFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider api.Provider
		wantCode string
	}{
		{"error", func(context.Context) (*api.Snapshot, error) { return nil, errors.New("event loop stopped") }, api.CodeUnavailable},
		{"nil snapshot", func(context.Context) (*api.Snapshot, error) { return nil, nil }, api.CodeInternal},
		{"panic", func(context.Context) (*api.Snapshot, error) { panic("bug") }, api.CodeInternal},
		{"too slow", func(ctx context.Context) (*api.Snapshot, error) { <-ctx.Done(); return nil, ctx.Err() }, api.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, socketPath(t), tc.provider, api.ServeOptions{ProviderTimeout: 50 * time.Millisecond})
			c := dial(t, srv.path)
			_, err := c.Snapshot(context.Background())
			var apiErr *api.Error
			if !errors.As(err, &apiErr) || apiErr.Code != tc.wantCode {
				t.Fatalf("Snapshot error = %v, want an *api.Error with code %q", err, tc.wantCode)
			}
			// The server is still up.
			if _, err := api.Dial(srv.path); err != nil {
				t.Errorf("Dial after a provider failure: %v", err)
			}
		})
	}
}

func TestConnectionLimit(t *testing.T) {
	srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{MaxConns: 1})
	dial(t, srv.path) // holds the only slot
	c := rawDial(t, srv.path)
	resp, err := c.recv()
	if err != nil {
		t.Fatalf("no response over the connection limit: %v", err)
	}
	if resp.Error == nil || resp.Error.Code != api.CodeUnavailable || !strings.Contains(resp.Error.Message, "too many") {
		t.Errorf("response over the connection limit = %+v, want %q \"too many ...\"", resp, api.CodeUnavailable)
	}
}

func TestConcurrentClients(t *testing.T) {
	srv := startServer(t, socketPath(t), sampleProvider, api.ServeOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			c, err := api.Dial(srv.path)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range 20 {
				s, err := c.Snapshot(context.Background())
				if err != nil {
					errs <- err
					return
				}
				if len(s.Routes) != len(apitest.Sample().Routes) {
					errs <- fmt.Errorf("snapshot has %d routes, want %d", len(s.Routes), len(apitest.Sample().Routes))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClientContextCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := func(ctx context.Context) (*api.Snapshot, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return apitest.Sample(), nil
	}
	srv := startServer(t, socketPath(t), slow, api.ServeOptions{})
	c := dial(t, srv.path)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Snapshot(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Snapshot with an expiring context error = %v, want DeadlineExceeded", err)
	}
}

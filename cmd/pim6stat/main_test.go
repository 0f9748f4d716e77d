package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
	"github.com/pim6d/pim6d/api/report"
)

// serve runs a control server with the sample snapshot at a fresh socket.
func serve(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "pim6d.sock")
	srv, err := api.Listen(path, api.ServeOptions{Daemon: "pim6d test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ctx, func(context.Context) (*api.Snapshot, error) { return apitest.Sample(), nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

// fakeDaemon answers every request line at path with reply.
func fakeDaemon(t *testing.T, path, reply string) {
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
					if _, err := r.ReadBytes('\n'); err != nil {
						return
					}
					c.Write([]byte(reply + "\n"))
				}
			}()
		}
	}()
}

const versionTwoReply = `{"version":2,"ok":false,"error":{"code":"version_mismatch","message":"client speaks control protocol version 1, pim6d speaks version 2"}}`

func classic(t *testing.T, sections []api.Section) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, apitest.Sample(), sections); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func runIn(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunReport(t *testing.T) {
	path := serve(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no arguments: classic report", nil, classic(t, nil)},
		{"-r", []string{"-r"}, classic(t, []api.Section{api.SectionRoutes})},
		{"--routes", []string{"--routes"}, classic(t, []api.Section{api.SectionRoutes})},
		{"-i -n", []string{"-i", "-n"}, classic(t, []api.Section{api.SectionInterfaces, api.SectionNeighbors})},
		{"-q", []string{"-q"}, classic(t, []api.Section{api.SectionQueriers})},
		{"--groups", []string{"--groups"}, classic(t, []api.Section{api.SectionGroups})},
		{"-p", []string{"-p"}, classic(t, []api.Section{api.SectionRPSet, api.SectionBSR})},
		{"--timers", []string{"--timers"}, classic(t, []api.Section{api.SectionTimers})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, context.Background(), append([]string{"--socket", path}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("pim6stat %v = exit %d (%s), want 0", tc.args, code, stderr)
			}
			if diff := cmp.Diff(tc.want, stdout); diff != "" {
				t.Errorf("pim6stat %v output (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	path := serve(t)
	t.Run("everything", func(t *testing.T) {
		code, stdout, stderr := runIn(t, context.Background(), "--socket", path, "-j")
		if code != exitOK {
			t.Fatalf("pim6stat -j = exit %d (%s), want 0", code, stderr)
		}
		var got api.Snapshot
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("pim6stat -j output is not a snapshot: %v\n%s", err, stdout)
		}
		want := apitest.Sample()
		want.Normalize()
		if diff := cmp.Diff(want, &got); diff != "" {
			t.Errorf("pim6stat -j snapshot (-want +got):\n%s", diff)
		}
	})
	t.Run("one section", func(t *testing.T) {
		code, stdout, stderr := runIn(t, context.Background(), "--socket", path, "--json", "-g")
		if code != exitOK {
			t.Fatalf("pim6stat --json -g = exit %d (%s), want 0", code, stderr)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{"groups"}, got["sections"]); diff != "" {
			t.Errorf("sections (-want +got):\n%s", diff)
		}
		if groups := got["groups"].([]any); len(groups) != 3 {
			t.Errorf("pim6stat --json -g has %d groups, want 3", len(groups))
		}
		if routes := got["routes"].([]any); len(routes) != 0 {
			t.Errorf("pim6stat --json -g has %d routes, want none", len(routes))
		}
	})
}

func TestRunWatch(t *testing.T) {
	path := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	code, stdout, stderr := runIn(t, ctx, "--socket", path, "-w", "0.1", "-r")
	if code != exitOK {
		t.Fatalf("pim6stat -w 0.1 = exit %d (%s), want 0 when interrupted", code, stderr)
	}
	frames := strings.Count(stdout, "\x1b[H\x1b[2J")
	if frames < 2 {
		t.Errorf("pim6stat -w 0.1 for 350ms drew %d frames, want at least 2", frames)
	}
	if got := strings.Count(stdout, "Multicast Routing Table"); got != frames {
		t.Errorf("%d frames but %d routing tables, want one per frame", frames, got)
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, path string)
		args      []string
		wantCode  int
		wantInErr string
	}{
		{"no daemon", func(*testing.T, string) {}, nil, exitNotRunning, "pim6d is not running"},
		{"stale socket", staleSocket, nil, exitNotRunning, "pim6d is not running"},
		{"version mismatch", func(t *testing.T, p string) { fakeDaemon(t, p, versionTwoReply) }, nil, exitVersionSkew, "version mismatch"},
		{"unknown flag", func(*testing.T, string) {}, []string{"--mroutes"}, exitUsage, "not defined"},
		{"stray argument", func(*testing.T, string) {}, []string{"routes"}, exitUsage, `unexpected argument "routes"`},
		{"bad watch interval", func(*testing.T, string) {}, []string{"-w", "0.001"}, exitUsage, "at least 0.1 seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pim6d.sock")
			tc.setup(t, path)
			code, _, stderr := runIn(t, context.Background(), append([]string{"--socket", path}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantInErr) {
				t.Errorf("pim6stat %v = exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr, tc.wantCode, tc.wantInErr)
			}
		})
	}
}

func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

// buildPim6stat builds the binary into a directory every user can read.
func buildPim6stat(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "pim6stat")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary runs the built pim6stat against test servers on temporary
// sockets and checks its exit codes and messages.
func TestBinary(t *testing.T) {
	bin := buildPim6stat(t)
	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("running pim6stat: %v", err)
		}
		return 0
	}

	t.Run("report", func(t *testing.T) {
		path := serve(t)
		cmd := exec.Command(bin, "--socket", path)
		out, err := cmd.Output()
		if code := exitCode(err); code != exitOK {
			t.Fatalf("pim6stat = exit %d, want 0", code)
		}
		if diff := cmp.Diff(classic(t, nil), string(out)); diff != "" {
			t.Errorf("pim6stat output (-want +got):\n%s", diff)
		}
	})
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, path string)
		wantCode int
		wantErr  []string
	}{
		{"no daemon", func(*testing.T, string) {}, exitNotRunning, []string{"pim6d is not running", "no control socket at", "--socket PATH"}},
		{"version mismatch", func(t *testing.T, p string) { fakeDaemon(t, p, versionTwoReply) }, exitVersionSkew, []string{"version mismatch", "pim6d speaks control protocol version 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pim6d.sock")
			tc.setup(t, path)
			var stderr bytes.Buffer
			cmd := exec.Command(bin, "--socket", path)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if code := exitCode(err); code != tc.wantCode {
				t.Errorf("pim6stat = exit %d (%s), want %d", code, stderr.String(), tc.wantCode)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("pim6stat stderr %q lacks %q", stderr.String(), want)
				}
			}
		})
	}
	t.Run("permission denied", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to run pim6stat as user nobody against a root-owned socket")
		}
		path := serve(t)
		// Let nobody reach the binary and the socket's directory, not the socket.
		for _, d := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), filepath.Dir(filepath.Dir(path)), filepath.Dir(filepath.Dir(filepath.Dir(path)))} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "--socket", path)
		cmd.Stderr = &stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		err := cmd.Run()
		if code := exitCode(err); code != exitPermission || !strings.Contains(stderr.String(), "permission denied") {
			t.Errorf("pim6stat as nobody = exit %d, stderr %q; want exit %d with \"permission denied\"", code, stderr.String(), exitPermission)
		}
	})
}

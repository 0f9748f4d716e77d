package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/lab"
)

var (
	buildOnce sync.Once
	buildDir  string
	bins      map[string]string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds (once) and returns the path of one of pim6d's commands.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pim6d-e2e-")
		if buildErr != nil {
			return
		}
		bins = map[string]string{}
		for _, n := range []string{"pim6d", "pim6stat"} {
			var p string
			p, buildErr = lab.GoBuild("github.com/pim6d/pim6d/cmd/"+n, buildDir)
			if buildErr != nil {
				return
			}
			bins[n] = p
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins[name]
}

// router is a pim6d process in a lab node.
type router struct {
	node   *lab.Node
	proc   *lab.Proc
	socket string
}

func startPim6d(t *testing.T, n *lab.Node, args ...string) *router {
	t.Helper()
	sock := filepath.Join(t.TempDir(), n.Label()+".sock")
	p := n.Start(append([]string{binary(t, "pim6d"), "--socket", sock, "--log-level", "debug"}, args...)...)
	r := &router{node: n, proc: p, socket: sock}
	waitUntil(t, 5*time.Second, "pim6d on "+n.Label()+" to serve its control socket", func() bool {
		c, err := api.Dial(sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pim6d on %s logged:\n%s", n.Label(), crashOrLastLines(p.Output(), 80))
		}
	})
	return r
}

func (r *router) snapshot(t *testing.T) *api.Snapshot {
	t.Helper()
	c, err := api.Dial(r.socket)
	if err != nil {
		t.Fatalf("%s: %v", r.node.Label(), err)
	}
	defer c.Close()
	s, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("%s: snapshot: %v", r.node.Label(), err)
	}
	return s
}

// pim6stat runs the real pim6stat against this router.
func (r *router) pim6stat(t *testing.T, args ...string) string {
	t.Helper()
	out, err := r.node.Run(append([]string{binary(t, "pim6stat"), "--socket", r.socket}, args...)...)
	if err != nil {
		t.Fatalf("pim6stat on %s: %v\n%s", r.node.Label(), err, out)
	}
	return out
}

func (r *router) route(t *testing.T, source, group string) (api.Route, bool) {
	for _, rt := range r.snapshot(t).Routes {
		if rt.Source == source && rt.Group == group {
			return rt, true
		}
	}
	return api.Route{}, false
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crashOrLastLines returns, when pim6d panicked or died of a fatal error, the
// log from there on (the message and the crashing goroutine come first in a
// Go crash dump), else the last n lines.
func crashOrLastLines(s string, n int) string {
	for _, mark := range []string{"\npanic: ", "\nfatal error: "} {
		if i := strings.Index(s, mark); i >= 0 {
			crash := strings.Split(s[i+1:], "\n")
			return strings.Join(crash[:min(len(crash), 2*n)], "\n")
		}
	}
	return lastLines(s, n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func buildLab(t *testing.T, topology string) *lab.Lab {
	t.Helper()
	l := lab.New(t)
	d, err := lab.Load(filepath.Join("..", "configs", "labs", topology))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Build(d); err != nil {
		t.Fatal(err)
	}
	return l
}

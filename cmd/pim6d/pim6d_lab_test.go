package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6d/pim6d/lab"
)

// waitLog waits until the process's output contains want.
func waitLog(t *testing.T, p *lab.Proc, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Output(), want) {
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("pim6d output never contained %q (exited %v); output:\n%s", want, p.Exited(), p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// twoRouters builds h1 — r1 — r2 — h2 with static routes.
func twoRouters(t *testing.T) *lab.Lab {
	l := lab.New(t)
	d, err := lab.Parse([]byte(`
nodes:
  - name: h1
    addresses: [{if: eth0, addr: "2001:db8:1::2/64"}]
    routes: ["default via 2001:db8:1::1"]
  - name: r1
    forwarding: true
    addresses: [{if: eth0, addr: "2001:db8:1::1/64"}, {if: eth1, addr: "2001:db8:2::1/64"}]
    routes: ["2001:db8:3::/64 via 2001:db8:2::2"]
  - name: r2
    forwarding: true
    addresses: [{if: eth0, addr: "2001:db8:2::2/64"}, {if: eth1, addr: "2001:db8:3::1/64"}]
    routes: ["2001:db8:1::/64 via 2001:db8:2::1"]
  - name: h2
    addresses: [{if: eth0, addr: "2001:db8:3::2/64"}]
    routes: ["default via 2001:db8:3::1"]
links:
  - {a: "h1:eth0", b: "r1:eth0"}
  - {a: "r1:eth1", b: "r2:eth0"}
  - {a: "r2:eth1", b: "h2:eth0"}
`))
	if err != nil {
		t.Fatal(err)
	}
	l.Build(d)
	return l
}

func TestPim6dInLab(t *testing.T) {
	l := twoRouters(t)
	bin := pim6dBinary(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "pim6d.yaml")
	if err := os.WriteFile(cfgFile, []byte("log_level: info\ninterfaces:\n  - name: eth1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "r1.sock")
	p := l.Node("r1").Start(bin, "--config", cfgFile, "--socket", sock)
	waitLog(t, p, "pim6d running", 10*time.Second)

	out := p.Output()
	for _, want := range []string{
		"msg=interface name=lo",
		"msg=interface name=eth0",
		"flags=up,multicast addrs=2001:db8:2::1/64",
		"2001:db8:3::/64 via 2001:db8:2::2 dev eth1",
		"2001:db8:1::/64 dev eth0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pim6d log lacks %q; output:\n%s", want, out)
		}
	}
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("control socket %s missing while pim6d runs: %v", sock, err)
	}

	// A route added while running is reported.
	l.Node("r1").Route("2001:db8:99::/64", "via", "2001:db8:2::2")
	waitLog(t, p, "2001:db8:99::/64 via 2001:db8:2::2 dev eth1", 5*time.Second)

	// A link going down and an address added are reported.
	l.Node("r1").MustRun(t, "ip", "link", "set", "eth0", "down")
	waitLog(t, p, "msg=link name=eth0 index=2 mtu=1500 flags=down,multicast pim6d=off", 5*time.Second)
	l.Node("r1").Addr("eth1", "2001:db8:2::99/64")
	waitLog(t, p, `msg="address added" addr=2001:db8:2::99/64`, 5*time.Second)

	// SIGHUP with a changed configuration logs the change.
	if err := os.WriteFile(cfgFile, []byte("log_level: info\ninterfaces:\n  - name: eth1\n    pim: {dr_priority: 5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, p, "key=interfaces[eth1].pim.dr_priority old=1 new=5", 5*time.Second)

	// A bad configuration on SIGHUP is rejected; pim6d keeps running.
	if err := os.WriteFile(cfgFile, []byte("interfaces:\n  - name: eth7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGHUP)
	waitLog(t, p, "configuration rejected", 5*time.Second)
	if !strings.Contains(p.Output(), `pim6d.yaml:2: interfaces[eth7].name: \"eth7\": no such interface`) {
		t.Errorf("rejection does not name file:line, key and value; output:\n%s", p.Output())
	}

	// SIGTERM: exit 0 within a second, socket removed.
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(time.Second); err != nil {
		t.Fatalf("pim6d after SIGTERM: %v, want exit 0 within 1s; output:\n%s", err, p.Output())
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket still present after exit (stat: %v)", err)
	}
}

func TestPim6dDefaultConfigBothRouters(t *testing.T) {
	l := twoRouters(t)
	bin := pim6dBinary(t)
	dir := t.TempDir()
	var procs []*lab.Proc
	for _, r := range []string{"r1", "r2"} {
		procs = append(procs, l.Node(r).Start(bin, "--socket", filepath.Join(dir, r+".sock")))
	}
	for i, p := range procs {
		waitLog(t, p, "pim6d running", 10*time.Second)
		if !strings.Contains(p.Output(), "(embedded default)") {
			t.Errorf("r%d: log does not say it runs on the embedded default; output:\n%s", i+1, p.Output())
		}
		if !strings.Contains(p.Output(), "msg=found interfaces=3") {
			t.Errorf("r%d: want 3 interfaces (lo, eth0, eth1); output:\n%s", i+1, p.Output())
		}
	}
	for i, p := range procs {
		if err := p.Stop(); err != nil {
			t.Errorf("r%d: Stop() = %v, want exit 0", i+1, err)
		}
	}
}

func TestPim6dRejectsBadConfigAtStart(t *testing.T) {
	l := lab.New(t)
	r := l.Node("r")
	bin := pim6dBinary(t)
	cfgFile := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfgFile, []byte("pim:\n  keepalive: forever\n"), 0o644)
	p := r.Start(bin, "--config", cfgFile, "--socket", filepath.Join(t.TempDir(), "s.sock"))
	err := p.Wait(5 * time.Second)
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("pim6d with a bad config: %v, want exit status 1", err)
	}
	if !strings.Contains(p.Output(), `bad.yaml:2: pim.keepalive: \"forever\"`) {
		t.Errorf("output does not name file:line, key, value:\n%s", p.Output())
	}
}

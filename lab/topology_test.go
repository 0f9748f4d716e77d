package lab

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBuildSSMDemo(t *testing.T) {
	t.Parallel()
	d, err := Load("../configs/labs/ssm-demo.yaml")
	if err != nil {
		t.Fatalf("Load(ssm-demo.yaml): %v", err)
	}
	l := New(t)
	if err := l.Build(d); err != nil {
		t.Fatalf("Build: %v", err)
	}
	var names []string
	for _, n := range l.Nodes() {
		names = append(names, n.Label())
	}
	if got, want := strings.Join(names, " "), "src r1 r2 rcv"; got != want {
		t.Errorf("nodes = %q, want %q", got, want)
	}
	if err := l.Node("src").Ping(netip.MustParseAddr("2001:db8:3::2"), 3*time.Second); err != nil {
		t.Errorf("src cannot reach rcv across r1 and r2: %v", err)
	}
	fwd, _ := l.Node("r2").Run("cat", "/proc/sys/net/ipv6/conf/all/forwarding")
	if strings.TrimSpace(fwd) != "1" {
		t.Errorf("r2 forwarding = %q, want 1", fwd)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "nodes:\n  - name: a\n    colour: red\n", "line 3: field colour not found"},
		{"bad address", "nodes:\n  - name: a\n    addresses: [{if: eth0, addr: 2001:db8::zz/64}]\n", `address "2001:db8::zz/64"`},
		{"address without prefix length", "nodes:\n  - name: a\n    addresses: [{if: eth0, addr: \"2001:db8::1\"}]\n", `address "2001:db8::1"`},
		{"link to unknown node", "nodes: [{name: a}]\nlinks: [{a: a:eth0, b: b:eth0}]\n", `no node "b"`},
		{"end without interface", "nodes: [{name: a}, {name: b}]\nlinks: [{a: a, b: b:eth0}]\n", `end "a" is not node:interface`},
		{"duplicate node", "nodes: [{name: a}, {name: a}]\n", `node "a" defined twice`},
		{"long interface name", "nodes: [{name: a}]\nlans: [{name: l, members: [a:abcdefghijklmnop]}]\n", "longer than 15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildLANTwoRouters(t *testing.T) {
	t.Parallel()
	d, err := Load("../configs/labs/lan-two-routers.yaml")
	if err != nil {
		t.Fatalf("Load(lan-two-routers.yaml): %v", err)
	}
	l := New(t)
	if err := l.Build(d); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := l.Node("rcv").Ping(netip.MustParseAddr("2001:db8:10::100"), 3*time.Second); err != nil {
		t.Errorf("rcv cannot reach src through r1: %v", err)
	}
	if err := l.Node("r2").Ping(netip.MustParseAddr("2001:db8:20::1"), 3*time.Second); err != nil {
		t.Errorf("r2 cannot reach r1 on the down LAN: %v", err)
	}
}

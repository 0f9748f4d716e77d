package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var systemLinks = []string{"lo", "eth0", "eth1"}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		line    int
		key     string
		value   string
		msgPart string
	}{
		{"unknown top-level key", "log_level: info\nlog_levle: debug\n", 2, "log_levle", "log_levle", "unknown key"},
		{"unknown nested key", "interfaces:\n  - name: eth0\n    mld:\n      querry_interval: 10s\n", 4, "interfaces[eth0].mld.querry_interval", "querry_interval", "unknown key"},
		{"key given twice", "pim:\n  keepalive: 210s\n  keepalive: 100s\n", 3, "pim.keepalive", "keepalive", "twice"},
		{"bad log level", "log_level: loud\n", 1, "log_level", "loud", "debug, info, warn or error"},
		{"bad ssm prefix", "ssm_range: [ff3e::/32, ff3e::zz/32]\n", 1, "ssm_range[1]", "ff3e::zz/32", "IPv6 prefix"},
		{"unicast ssm prefix", "ssm_range:\n  - 2001:db8::/32\n", 2, "ssm_range[0]", "2001:db8::/32", "multicast"},
		{"ssm prefix host bits", "ssm_range: ff3e::1/32\n", 1, "ssm_range", "ff3e::1/32", "host bits"},
		{"bad duration", "pim:\n  join_prune_period: 60x\n", 2, "pim.join_prune_period", "60x", "duration"},
		{"duration without unit", "pim:\n  keepalive: 210\n", 2, "pim.keepalive", "210", "needs a unit"},
		{"duration out of range", "pim:\n  join_prune_period: 6h\n", 2, "pim.join_prune_period", "6h", "out of range"},
		{"interface missing from system", "interfaces:\n  - name: eth0\n  - name: eth9\n", 3, "interfaces[eth9].name", "eth9", "no such interface on this system (have eth0, eth1, lo)"},
		{"interface listed twice", "interfaces:\n  - name: eth0\n  - name: eth0\n", 3, "interfaces[1].name", "(a mapping)", "listed twice"},
		{"interface without name", "interfaces:\n  - enable: false\n", 2, "interfaces[0].name", "(a mapping)", "needs a name"},
		{"bad bool", "interfaces:\n  - name: eth0\n    enable: maybe\n", 3, "interfaces[eth0].enable", "maybe", "true or false"},
		{"bad mld version", "interfaces:\n  - name: eth1\n    mld: {version: 3}\n", 3, "interfaces[eth1].mld.version", "3", "1, 2 or any"},
		{"robustness zero", "interfaces:\n  - name: eth1\n    mld: {robustness: 0}\n", 3, "interfaces[eth1].mld.robustness", "0", "out of range"},
		{"robustness not a number", "interfaces:\n  - name: eth1\n    mld: {robustness: two}\n", 3, "interfaces[eth1].mld.robustness", "two", "whole number"},
		{"response not below query interval", "interfaces:\n  - name: eth0\n    mld:\n      query_interval: 10s\n      query_response_interval: 10s\n", 5, "interfaces[eth0].mld.query_response_interval", "10s", "less than query_interval"},
		{"mldv1 response too long", "interfaces:\n  - name: eth0\n    mld:\n      version: 1\n      query_response_interval: 70s\n", 5, "interfaces[eth0].mld.query_response_interval", "70s", "MLDv1"},
		{"propagation delay beyond 15 bits", "interfaces:\n  - name: eth0\n    pim: {propagation_delay: 40s}\n", 3, "interfaces[eth0].pim.propagation_delay", "40s", "out of range"},
		{"dr priority negative", "interfaces:\n  - name: eth0\n    pim: {dr_priority: -1}\n", 3, "interfaces[eth0].pim.dr_priority", "-1", "out of range"},
		{"empty interface entry", "interfaces:\n  -\n", 2, "interfaces[0]", "", "want a mapping"},
		{"interfaces not a list", "interfaces: eth0\n", 1, "interfaces", "eth0", "want a list"},
		{"pim not a mapping", "pim: [1]\n", 1, "pim", "(a list)", "want a mapping"},
		{"bad rp address", "static_rp:\n  - address: 2001:db8::g\n", 2, "static_rp[0].address", "2001:db8::g", "IPv6 address"},
		{"multicast rp address", "static_rp:\n  - address: ff0e::1\n", 2, "static_rp[0].address", "ff0e::1", "global unicast"},
		{"rp without address", "static_rp:\n  - groups: [ff0e::/16]\n", 2, "static_rp[0].address", "(a mapping)", "needs an address"},
		{"bad rp group", "static_rp:\n  - address: 2001:db8::1\n    groups: [ff0e::/300]\n", 3, "static_rp[0].groups[0]", "ff0e::/300", "IPv6 prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("pim6d.yaml", []byte(tt.yaml), systemLinks)
			if err == nil {
				t.Fatalf("Parse() = %+v, nil; want an error", cfg)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse() error %v (%T) holds no *Error", err, err)
			}
			got := Error{File: e.File, Line: e.Line, Key: e.Key, Value: e.Value}
			want := Error{File: "pim6d.yaml", Line: tt.line, Key: tt.key, Value: tt.value}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse() error %q position (-want +got):\n%s", err, diff)
			}
			if !strings.Contains(e.Msg, tt.msgPart) {
				t.Errorf("Parse() error message %q, want it to contain %q", e.Msg, tt.msgPart)
			}
			if !strings.HasPrefix(err.Error(), "pim6d.yaml:") {
				t.Errorf("Error() = %q, want it to start with file:line", err.Error())
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse("c.yaml", []byte("log_level: loud\npim:\n  keepalive: x\n"), nil)
	msg := err.Error()
	for _, want := range []string{"c.yaml:1: log_level", "c.yaml:3: pim.keepalive"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Parse() error %q, want it to contain %q", msg, want)
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse("c.yaml", []byte("pim: [\n"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "c.yaml") {
		t.Errorf("Parse(bad YAML) error = %v, want one naming the file", err)
	}
}

func TestNilLinksSkipsNameCheck(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("interfaces: [{name: wlan7}]\n"), nil)
	if err != nil {
		t.Fatalf("Parse(links=nil) error = %v, want nil", err)
	}
	if got := cfg.Interfaces[0].Name; got != "wlan7" {
		t.Errorf("interface name = %q, want wlan7", got)
	}
}

func TestDefaults(t *testing.T) {
	want := &Config{
		LogLevel:      slog.LevelInfo,
		ControlSocket: "/run/pim6d/pim6d.sock",
		SSMRange:      DefaultSSMRange(),
		AllInterfaces: true,
		PIM:           PIM{JoinPrunePeriod: 60 * time.Second, Keepalive: 210 * time.Second},
	}
	for _, tt := range []struct {
		name string
		get  func() (*Config, error)
	}{
		{"no file", func() (*Config, error) { return Load("", systemLinks) }},
		{"empty file", func() (*Config, error) { return Parse("", nil, systemLinks) }},
		{"comments only", func() (*Config, error) { return Parse("", []byte("# nothing\n"), systemLinks) }},
		{"empty mapping", func() (*Config, error) { return Parse("", []byte("{}\n"), systemLinks) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("default config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInterfaceDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("interfaces:\n  - name: eth0\n    mld: {robustness: 3}\n"), systemLinks)
	if err != nil {
		t.Fatal(err)
	}
	want := Interface{
		Name:   "eth0",
		Enable: true,
		MLD: MLD{Version: MLDAny, Robustness: 3, QueryInterval: 125 * time.Second,
			QueryResponseInterval: 10 * time.Second, LastListenerQueryInterval: time.Second},
		PIM: InterfacePIM{Enable: true, DRPriority: 1, HelloPeriod: 30 * time.Second,
			PropagationDelay: 500 * time.Millisecond, OverrideInterval: 2500 * time.Millisecond},
	}
	if diff := cmp.Diff([]Interface{want}, cfg.Interfaces); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
}

func TestSSMRange(t *testing.T) {
	def := DefaultSSMRange()
	if len(def) != 16 || def[0].String() != "ff30::/32" || def[15].String() != "ff3f::/32" {
		t.Fatalf("DefaultSSMRange() = %v, want ff30::/32 … ff3f::/32", def)
	}
	cfg, err := Parse("c.yaml", []byte("ssm_range: [ff3x::/32, ff0e:1::/32]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SSMRange) != 17 {
		t.Errorf("ssm_range [ff3x::/32, ff0e:1::/32] gives %d prefixes, want 17", len(cfg.SSMRange))
	}
	for _, tt := range []struct {
		group string
		want  bool
	}{
		{"ff3e::1234", true},
		{"ff35::1", true},
		{"ff3e:1::1", false}, // ff3e:1::/32 is not ff3e::/32
		{"ff0e::1", false},
		{"ff0e:1::9", true},
	} {
		if got := cfg.InSSMRange(netip.MustParseAddr(tt.group)); got != tt.want {
			t.Errorf("InSSMRange(%s) = %v, want %v", tt.group, got, tt.want)
		}
	}
}

func TestExampleConfigParses(t *testing.T) {
	cfg, err := Load("../configs/pim6d.yaml", []string{"eth0"})
	if err != nil {
		t.Fatalf("configs/pim6d.yaml: %v", err)
	}
	def := Default()
	def.Source = cfg.Source
	def.Interfaces = []Interface{DefaultInterface("eth0")}
	if diff := cmp.Diff(def.Flatten(), cfg.Flatten()); diff != "" {
		t.Errorf("configs/pim6d.yaml should spell out the defaults (-default +example):\n%s", diff)
	}
}

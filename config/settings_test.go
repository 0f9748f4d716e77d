package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6d/pim6d/stack"
	"github.com/spf13/pflag"
)

func TestSettingsPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pim6d.yaml")
	if err := os.WriteFile(file, []byte("log_level: warn\ncontrol_socket: /tmp/file.sock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantLevel  slog.Level
		wantSocket string
	}{
		{"defaults", nil, nil, slog.LevelInfo, "/run/pim6d/pim6d.sock"},
		{"file beats defaults", []string{"--config", file}, nil, slog.LevelWarn, "/tmp/file.sock"},
		{"env beats file", []string{"--config", file}, map[string]string{"PIM6D_LOG_LEVEL": "error", "PIM6D_SOCKET": "/tmp/env.sock"}, slog.LevelError, "/tmp/env.sock"},
		{"flag beats env", []string{"--config", file, "--log-level", "debug", "--socket", "/tmp/flag.sock"}, map[string]string{"PIM6D_LOG_LEVEL": "error"}, slog.LevelDebug, "/tmp/flag.sock"},
		{"config from env", nil, map[string]string{"PIM6D_CONFIG": file}, slog.LevelWarn, "/tmp/file.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"PIM6D_LOG_LEVEL", "PIM6D_SOCKET", "PIM6D_CONFIG"} {
				t.Setenv(k, tt.env[k])
				if tt.env[k] == "" {
					os.Unsetenv(k)
				}
			}
			fs := pflag.NewFlagSet("pim6d", pflag.ContinueOnError)
			s := NewSettings(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := s.Load(nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogLevel != tt.wantLevel || cfg.ControlSocket != tt.wantSocket {
				t.Errorf("Load() level, socket = %v, %q, want %v, %q", cfg.LogLevel, cfg.ControlSocket, tt.wantLevel, tt.wantSocket)
			}
		})
	}
}

func TestSettingsBadFlag(t *testing.T) {
	fs := pflag.NewFlagSet("pim6d", pflag.ContinueOnError)
	s := NewSettings(fs)
	if err := fs.Parse([]string{"--log-level", "chatty"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(nil); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("Load() with --log-level chatty: error = %v, want one naming --log-level", err)
	}
}

func TestInterfaceSelection(t *testing.T) {
	up := func(name string) stack.Link { return stack.Link{Name: name, Up: true, Multicast: true} }
	lo := stack.Link{Name: "lo", Up: true, Multicast: false, Loopback: true}
	down := stack.Link{Name: "eth2", Multicast: true}
	noMcast := stack.Link{Name: "tun0", Up: true}
	links := []stack.Link{lo, up("eth0"), up("eth1"), down, noMcast}

	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"default: up multicast non-loopback", "", []string{"eth0", "eth1"}},
		{"disabled interface", "interfaces: [{name: eth1, enable: false}]", []string{"eth0"}},
		{"only listed", "all_interfaces: false\ninterfaces: [{name: eth1}, {name: tun0}]", []string{"eth1", "tun0"}},
		{"listed but down", "all_interfaces: false\ninterfaces: [{name: eth2}]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ifc := range cfg.Enabled(links) {
				got = append(got, ifc.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Enabled() (-want +got):\n%s", diff)
			}
		})
	}
	cfg, _ := Parse("c.yaml", []byte("interfaces: [{name: eth0, pim: {dr_priority: 7}}]"), nil)
	if ifc, ok := cfg.Interface(up("eth0")); !ok || ifc.PIM.DRPriority != 7 {
		t.Errorf("Interface(eth0) = %+v, %v, want dr_priority 7, enabled", ifc, ok)
	}
	if ifc, ok := cfg.Interface(up("eth1")); !ok || ifc != DefaultInterface("eth1") {
		t.Errorf("Interface(eth1) = %+v, %v, want the defaults, enabled", ifc, ok)
	}
}

func TestDiff(t *testing.T) {
	old, err := Parse("c.yaml", []byte("log_level: info\ninterfaces: [{name: eth0}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Parse("c.yaml", []byte("log_level: debug\ninterfaces: [{name: eth0, mld: {query_interval: 60s}}, {name: eth1}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	changes := cur.Diff(old)
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	wantHas := []string{
		"interfaces[eth0].mld.query_interval: 2m5s -> 1m0s",
		"interfaces[eth1].enable: added true",
		"log_level: info -> debug",
	}
	for _, w := range wantHas {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("Diff() = %q, want it to contain %q", got, w)
		}
	}
	if d := old.Diff(old); len(d) != 0 {
		t.Errorf("Diff() of a config with itself = %v, want none", d)
	}
}

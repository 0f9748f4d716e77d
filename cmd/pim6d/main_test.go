package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestCheck(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) == 0 {
		t.Skipf("no interfaces to check against: %v", err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"embedded default", []string{"--check"}, 0},
		{"good file", []string{"--check", "--config", write("good.yaml", "interfaces: [{name: "+ifs[0].Name+"}]\n")}, 0},
		{"interface missing", []string{"--check", "--config", write("bad.yaml", "interfaces: [{name: nosuchif0}]\n")}, 1},
		{"unknown key", []string{"--check", "--config", write("typo.yaml", "pim: {keepalvie: 1s}\n")}, 1},
		{"file missing", []string{"--check", "--config", filepath.Join(dir, "none.yaml")}, 1},
		{"bad flag", []string{"--check", "--log-level", "loud"}, 1},
		{"unknown flag", []string{"--frobnicate"}, 2},
		{"stray argument", []string{"extra"}, 2},
		{"burst GOGC zero", []string{"--check", "--burst-gogc", "0"}, 2},
		{"burst GOGC below -1", []string{"--check", "--burst-gogc", "-5"}, 2},
		{"burst GOGC off", []string{"--check", "--burst-gogc", "-1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/lab"
)

func TestDemo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	// The demo builds pim6d itself when no binary is given.
	var out bytes.Buffer
	o := demoOptions{Topology: "../../configs/labs/ssm-demo.yaml", Routers: []string{"r1", "r2"}, Wait: 2 * time.Second,
		Source: "src", Receiver: "rcv", SourceAddr: "2001:db8:1::2", Pings: 4}
	if err := demo(context.Background(), o, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"building pim6d",
		"src r1 r2 rcv",
		"=== r1: pim6d log ===",
		"=== r2: pim6d log ===",
		"2001:db8:3::/64 via 2001:db8:2::2 dev eth1", // r1's static route toward rcv
		"2001:db8:1::/64 via 2001:db8:2::1 dev eth0", // r2's static route toward src
		"=== r1: pim6stat (while ssmping runs) ===",
		"Multicast Routing Table",
		"multicast from 2001:db8:1::2", // the demo's point: multicast arrives
		"r1: pim6d stopped (exit 0)",
		"r2: pim6d stopped (exit 0)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

func TestDemoCancelTearsDown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	bin := lab.MustGoBuild(t, "github.com/pim6d/pim6d/cmd/pim6d")
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	o := demoOptions{Topology: "../../configs/labs/ssm-demo.yaml", Pim6d: bin, Routers: []string{"r1", "r2"}, Wait: time.Minute}
	go func() {
		time.Sleep(3 * time.Second)
		cancel()
	}()
	start := time.Now()
	if err := demo(ctx, o, &out); err == nil {
		t.Errorf("demo after cancel = nil, want the context error")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("demo took %v after cancel", d)
	}
	id := strings.Fields(strings.TrimPrefix(out.String()[strings.Index(out.String(), "lab "):], "lab "))[0]
	id = strings.TrimSuffix(id, ":")
	nss, _ := lab.Namespaces()
	for _, ns := range nss {
		if strings.HasPrefix(ns, id+"-") {
			t.Errorf("namespace %s left after the demo was cancelled", ns)
		}
	}
}

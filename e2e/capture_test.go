package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6d/pim6d/lab"
)

// capture is a tcpdump writing a pcap file of one interface of a lab node.
type capture struct {
	proc *lab.Proc
	file string
}

// startCapture starts tcpdump on ifname in n with a BPF filter and waits until
// it is listening, so nothing sent afterwards is missed. direction is "in",
// "out" (tcpdump -Q) or "" for both. --immediate-mode: without it, packets can
// sit in the capture ring's block when tcpdump is stopped and go unwritten.
func startCapture(t *testing.T, n *lab.Node, ifname, direction, filter string) *capture {
	t.Helper()
	file := filepath.Join(t.TempDir(), n.Label()+"-"+ifname+".pcap")
	args := []string{"tcpdump", "-i", ifname, "-n", "-U", "--immediate-mode", "-s", "256", "-w", file}
	if direction != "" {
		args = append(args, "-Q", direction)
	}
	if filter != "" {
		args = append(args, filter)
	}
	p := n.Start(args...)
	waitUntil(t, 5*time.Second, "tcpdump on "+n.Label()+":"+ifname+" to listen", func() bool {
		if p.Exited() {
			t.Fatalf("tcpdump on %s exited: %s", n.Label(), p.Output())
		}
		return strings.Contains(p.Output(), "listening on")
	})
	return &capture{proc: p, file: file}
}

// stop ends the capture and returns the pcap file's path.
func (c *capture) stop(t *testing.T) string {
	t.Helper()
	c.proc.Signal(syscall.SIGINT)
	if err := c.proc.Wait(5 * time.Second); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, c.proc.Output())
	}
	return c.file
}

// readPcap prints a pcap file with tcpdump -r, one packet a line.
func readPcap(t *testing.T, file string, extra ...string) []string {
	t.Helper()
	out, err := exec.Command("tcpdump", append([]string{"-r", file, "-n", "-tt"}, extra...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v\n%s", file, err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "reading from file") {
			lines = append(lines, l)
		}
	}
	return lines
}

// writeFile writes a file in the test's temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

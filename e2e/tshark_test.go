package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTsharkDecodesPim6dTrafficOnARouterLink captures the r1–r2 link of the
// ssm-demo lab while pim6d starts on both routers and a receiver joins an
// (S,G) behind r2, then has tshark (Wireshark's dissectors, an independent
// implementation of the RFCs) decode it: PIM Hellos and a Join/Prune (RFC 7761
// §4.9) and MLD queries (RFC 3810 §5.1) from pim6d's link-local addresses,
// with no malformed packet, bad checksum or other warning.
func TestTsharkDecodesPim6dTrafficOnARouterLink(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark is required: %v", err)
	}
	const group = "ff3e::4321:77"
	l := buildLab(t, "ssm-demo.yaml")
	r1n, r2n, rcv := l.Node("r1"), l.Node("r2"), l.Node("rcv")
	binary(t, "pim6d")                                          // built before the capture starts, so it covers pim6d's first seconds
	capt := startCapture(t, r2n, "eth0", "", "ip6 and not udp") // PIM, MLD, ND: both directions
	r1 := startPim6d(t, r1n)
	r2 := startPim6d(t, r2n)
	rcv.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", ssmSource)...)
	waitUntil(t, 10*time.Second, "r2's Join to reach r1", func() bool {
		rt, ok := r1.route(t, ssmSource, group)
		return ok && len(rt.Joined) == 1 && len(r2.snapshot(t).Neighbors) == 1
	})
	time.Sleep(500 * time.Millisecond)
	pcap := capt.stop(t)

	ll1 := r1n.LinkLocal("eth1").WithZone("").String()
	ll2 := r2n.LinkLocal("eth0").WithZone("").String()
	out, err := exec.Command("tshark", "-r", pcap, "-n", "-Y", "pim || icmpv6.type == 130",
		"-T", "fields", "-E", "separator=|", "-e", "ipv6.src", "-e", "pim.cksum.status", "-e", "icmpv6.checksum.status", "-e", "_ws.col.Info").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	t.Logf("tshark decoded (src|pim checksum|icmpv6 checksum|info):\n%s", out)
	seen := map[string]bool{} // "src|kind"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 4)
		if len(f) != 4 {
			continue // tshark's own notes
		}
		src, pimSum, icmpSum, info := f[0], f[1], f[2], f[3]
		// Wireshark's checksum status: 1 is Good (0 Bad, 2 Unverified).
		if pimSum+icmpSum != "1" {
			t.Errorf("tshark checksum status of %q from %s = pim %q icmpv6 %q, want one verified good (1)", info, src, pimSum, icmpSum)
		}
		for _, kind := range []string{"Hello", "Join/Prune", "Multicast Listener Query"} {
			if strings.Contains(info, kind) {
				seen[src+"|"+kind] = true
			}
		}
	}
	if len(seen) < 4 {
		t.Logf("tcpdump:\n%s", strings.Join(readPcap(t, pcap), "\n"))
	}
	for _, want := range []string{ll1 + "|Hello", ll2 + "|Hello", ll2 + "|Join/Prune"} {
		if !seen[want] {
			t.Errorf("tshark did not decode a PIM %s from pim6d's %s; decoded:\n%s", want[strings.Index(want, "|")+1:], want[:strings.Index(want, "|")], out)
		}
	}
	if !seen[ll1+"|Multicast Listener Query"] && !seen[ll2+"|Multicast Listener Query"] {
		t.Errorf("tshark decoded no MLD query from pim6d (%s or %s); decoded:\n%s", ll1, ll2, out)
	}

	// Expert info: malformed packets, bad checksums and protocol warnings.
	verbose, err := exec.Command("tshark", "-r", pcap, "-n", "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark -V: %v\n%s", err, verbose)
	}
	for _, bad := range []string{"Malformed", "malformed", "[Checksum Status: Bad]", "incorrect", "Expert Info (Warning", "Expert Info (Error"} {
		if strings.Contains(string(verbose), bad) {
			t.Errorf("tshark -V reports %q:\n%s", bad, lastLines(string(verbose), 200))
		}
	}
}

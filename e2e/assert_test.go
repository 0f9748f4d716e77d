package e2e

import (
	"encoding/hex"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAssertLeavesOneForwarderOnALANWithTwoUpstreams: on the lan-assert lab,
// r2 forwards (S,G) onto the LAN as DR for a listener there, and r3 because
// r4 (also on the LAN) joins through it. The duplicates on the LAN trigger
// PIM Assert (RFC 7761 §4.6.1): one of r2, r3 wins and keeps forwarding, the
// other marks the LAN assert-lost and stops, and r4 redirects its Join to the
// winner (RPF'(S,G) is the assert winner, §4.1.5). After that, a listener on
// the LAN gets each packet exactly once and rcv2 behind r4 still gets them.
func TestAssertLeavesOneForwarderOnALANWithTwoUpstreams(t *testing.T) {
	t.Parallel()
	const group = "ff3e::4321:55"
	l := buildLab(t, "lan-assert.yaml")
	drCfg := writeFile(t, "r2.yaml", "interfaces:\n  - name: lan0\n    pim: {dr_priority: 10}\n")
	r1 := startPim6d(t, l.Node("r1"))
	r2 := startPim6d(t, l.Node("r2"), "--config", drCfg)
	r3 := startPim6d(t, l.Node("r3"))
	r4 := startPim6d(t, l.Node("r4"))
	r2LL := l.Node("r2").LinkLocal("lan0").WithZone("").String()
	waitUntil(t, 10*time.Second, "PIM adjacencies and r2 as the LAN's DR", func() bool {
		return len(r1.snapshot(t).Neighbors) == 2 && len(r4.snapshot(t).Neighbors) == 2 &&
			lanIf(t, r3).DR == r2LL && lanIf(t, r4).DR == r2LL
	})

	l.Node("src").Start(toolArgs("e2e-mcsend", "-if", "eth0", "-groups", group, "-pps", "100")...)
	l.Node("rcv1").Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", ssmSource)...)
	l.Node("rcv2").Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", ssmSource)...)

	var winner, loser *router
	waitUntil(t, 15*time.Second, "an assert winner and loser among r2 and r3 on lan0", func() bool {
		rt2, ok2 := r2.route(t, ssmSource, group)
		rt3, ok3 := r3.route(t, ssmSource, group)
		switch {
		case !ok2 || !ok3:
			return false
		case slices.Contains(rt2.OIFs, "lan0") && slices.Contains(rt3.Asserted, "lan0") && !slices.Contains(rt3.OIFs, "lan0"):
			winner, loser = r2, r3
		case slices.Contains(rt3.OIFs, "lan0") && slices.Contains(rt2.Asserted, "lan0") && !slices.Contains(rt2.OIFs, "lan0"):
			winner, loser = r3, r2
		default:
			return false
		}
		return true
	})
	winnerLL := winner.node.LinkLocal("lan0").WithZone("").String()
	t.Logf("%s won the assert on lan0, %s lost", winner.node.Label(), loser.node.Label())
	// Equal metric preference and metric (both reach src by a static default
	// route): the higher address wins (RFC 7761 §4.6.3).
	if ll2, ll3 := l.Node("r2").LinkLocal("lan0"), l.Node("r3").LinkLocal("lan0"); (ll3.Compare(ll2) > 0) != (winner == r3) {
		t.Errorf("assert winner %s; want the higher address of r2 %s and r3 %s", winner.node.Label(), ll2, ll3)
	}
	waitUntil(t, 5*time.Second, "r4 to join toward the assert winner "+winnerLL, func() bool {
		rt, ok := r4.route(t, ssmSource, group)
		return ok && rt.IIF == "lan0" && rt.Upstream == winnerLL
	})

	// Steady state: each packet the source sends reaches the LAN exactly once.
	// The sender numbers its packets; every number between the first and the
	// last rcv1 captured must be there once.
	atRcv1 := startCapture(t, l.Node("rcv1"), "eth0", "in", "udp and dst host "+group)
	// 5 s: tcpdump may take a while to start on a loaded machine, and the
	// check below wants 150 numbered packets in a row.
	time.Sleep(5 * time.Second)
	rcvPcap := atRcv1.stop(t)
	copies := map[int]int{}
	lo, hi := -1, -1
	for _, p := range payloads(t, rcvPcap) {
		b, err := hex.DecodeString(p)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "seq="))
		if err != nil || err2 != nil {
			t.Fatalf("unexpected payload %q on the LAN", p)
		}
		copies[n]++
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	var missing, dups []int
	for n := lo; n <= hi; n++ {
		switch {
		case copies[n] == 0:
			missing = append(missing, n)
		case copies[n] > 1:
			dups = append(dups, n)
		}
	}
	if hi-lo < 150 || len(missing) > 0 || len(dups) > 0 {
		t.Errorf("rcv1 got packets %d..%d of a 100 pps source in 5 s; missing %v, more than once %v; want each once, at least 150", lo, hi, missing, dups)
		for _, r := range []*router{r2, r3, r4} {
			rt, _ := r.route(t, ssmSource, group)
			t.Logf("%s route: %+v", r.node.Label(), rt)
		}
	}
	if rt, _ := loser.route(t, ssmSource, group); slices.Contains(rt.OIFs, "lan0") {
		t.Errorf("assert loser %s forwards onto lan0 again: oifs %v asserted %v", loser.node.Label(), rt.OIFs, rt.Asserted)
	}
	if rt, ok := r4.route(t, ssmSource, group); !ok || rt.Packets < uint64(hi-lo) {
		t.Errorf("r4 forwarded %d packets to rcv2, want the stream", rt.Packets)
	}
}

// payloads returns the UDP payloads (hex) of the packets in a pcap file.
func payloads(t *testing.T, pcap string) []string {
	t.Helper()
	out, err := exec.Command("tshark", "-r", pcap, "-n", "-T", "fields", "-e", "data.data").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", pcap, err)
	}
	return strings.Fields(string(out))
}

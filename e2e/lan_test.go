package e2e

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSSMOntoLANWithTwoRoutersDeliversExactlyOneCopy is issue 6's LAN case:
// r2 and r3 share a LAN with the receiver and both have a path to the source
// through r1. Only the LAN's DR may forward onto it (RFC 7761 §4.1.6,
// local_receiver_include needs I_am_DR), so the receiver gets exactly one copy
// of each multicast reply: ssmping reports no duplicate, a capture on the
// receiver counts one packet per sequence number, and only the DR has the LAN
// in its outgoing interfaces.
func TestSSMOntoLANWithTwoRoutersDeliversExactlyOneCopy(t *testing.T) {
	t.Parallel()
	l := buildLab(t, "lan-ssm.yaml")
	src, rcv := l.Node("src"), l.Node("rcv")
	r1 := startPim6d(t, l.Node("r1"))
	r2 := startPim6d(t, l.Node("r2"))
	r3 := startPim6d(t, l.Node("r3"))
	src.Start("ssmpingd")

	// RFC 7761 §4.3.2: equal DR priorities, so the higher (link-local) address is DR.
	ll2, ll3 := l.Node("r2").LinkLocal("lan0"), l.Node("r3").LinkLocal("lan0")
	dr, other := r2, r3
	if ll3.Compare(ll2) > 0 {
		dr, other = r3, r2
	}
	wantDR := dr.node.LinkLocal("lan0").WithZone("").String()
	// Every router must know both of its neighbours before the receiver
	// joins: a router that has not yet heard its RPF neighbour's Hello has no
	// RPF'(S,G) (RFC 7761 §4.5, NBR() is NULL) and cannot send the Join, which
	// would cost probes this test counts. r1's first Hello on a link can be
	// sent before the peer's pim6d listens; the reply to the peer's first
	// Hello comes up to Triggered_Hello_Delay (5 s) later (§4.3.1), so wait
	// longer than that.
	waitUntil(t, 15*time.Second, "r1, r2, r3 with two PIM neighbours each and r2, r3 agreeing on the LAN's DR "+wantDR, func() bool {
		for _, r := range []*router{r1, r2, r3} {
			if len(r.snapshot(t).Neighbors) != 2 {
				return false
			}
		}
		for _, r := range []*router{r2, r3} {
			if lanIf(t, r).DR != wantDR {
				return false
			}
		}
		return true
	})
	if !slices.Contains(lanIf(t, dr).Flags, "DR") || slices.Contains(lanIf(t, other).Flags, "DR") {
		t.Errorf("DR flags on lan0: %s %v, %s %v; want DR only on %s",
			dr.node.Label(), lanIf(t, dr).Flags, other.node.Label(), lanIf(t, other).Flags, dr.node.Label())
	}

	capt := startCapture(t, rcv, "eth0", "in", "udp and src host "+ssmSource+" and dst host "+ssmGroup)
	ping := rcv.Start("ssmping", "-6", "-c", "10", ssmSource)

	// While ssmping runs: both routers learn the listener from MLD, but only
	// the DR forwards onto the LAN and joins toward r1.
	waitUntil(t, 10*time.Second, "the DR to forward (S,G) onto the LAN", func() bool {
		rt, ok := dr.route(t, ssmSource, ssmGroup)
		return ok && slices.Contains(rt.OIFs, "lan0")
	})
	time.Sleep(3 * time.Second) // let any wrong forwarder show itself
	if rt, ok := other.route(t, ssmSource, ssmGroup); ok && slices.Contains(rt.OIFs, "lan0") {
		t.Errorf("non-DR %s forwards onto the LAN: route oifs %v leaves %v joined %v", other.node.Label(), rt.OIFs, rt.Leaves, rt.Joined)
	}
	// The non-DR knows about the listener too (MLD runs on every router,
	// RFC 3810 §7), so its silence is PIM's doing, not ignorance.
	if !hasListener(t, other, "lan0", ssmGroup) {
		t.Errorf("non-DR %s has no MLD state for %s on lan0; the test would prove nothing", other.node.Label(), ssmGroup)
	}
	if rt, ok := r1.route(t, ssmSource, ssmGroup); !ok || len(rt.OIFs) != 1 {
		t.Errorf("r1 (S,G) = %+v (found %v); want exactly one oif, toward the DR", rt, ok)
	}

	if err := ping.Wait(30 * time.Second); err != nil {
		t.Fatalf("ssmping: %v\n%s", err, ping.Output())
	}
	time.Sleep(200 * time.Millisecond) // the last reply's possible duplicate
	pcap := capt.stop(t)
	out := ping.Output()
	t.Logf("ssmping:\n%s", out)

	if strings.Contains(out, "DUP") {
		t.Errorf("ssmping reported duplicates:\n%s", out)
	}
	perSeq := map[int]int{}
	for _, m := range regexp.MustCompile(`(?m)^\s*multicast from \S+ seq=(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		perSeq[n]++
	}
	if len(perSeq) < 9 {
		t.Errorf("ssmping saw multicast replies for %d sequence numbers, want at least 9 of 10", len(perSeq))
	}
	for seq, n := range perSeq {
		if n != 1 {
			t.Errorf("ssmping seq %d: %d multicast copies, want 1", seq, n)
		}
	}
	// Below ssmping: every multicast reply on the wire, counted on the receiver.
	pkts := readPcap(t, pcap)
	if len(pkts) != len(perSeq) {
		t.Errorf("capture on rcv saw %d UDP packets %s -> %s, want %d (one per reply):\n%s",
			len(pkts), ssmSource, ssmGroup, len(perSeq), strings.Join(pkts, "\n"))
	}
}

func lanIf(t *testing.T, r *router) (ifc struct {
	DR    string
	Flags []string
}) {
	t.Helper()
	for _, i := range r.snapshot(t).Interfaces {
		if i.Name == "lan0" {
			ifc.DR, ifc.Flags = i.DR, i.Flags
		}
	}
	return ifc
}

func hasListener(t *testing.T, r *router, ifname, group string) bool {
	t.Helper()
	for _, g := range r.snapshot(t).Groups {
		if g.Interface == ifname && g.Group == group {
			return true
		}
	}
	return false
}

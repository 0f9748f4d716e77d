package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSharedTreeJoinWithSourcePrunedOffIt is the ASM join side with real
// packets: a kernel host on rcv joins an ASM group in MLDv2 EXCLUDE mode,
// blocking one source. r2, its DR, joins the shared tree toward the static
// RP (r1) with a Join(*,G) and, in the same message, a Prune(S,G,rpt) for the
// blocked source (RFC 7761 §4.1.6 pim_exclude, §4.5.7 PruneDesired(S,G,rpt);
// RFC 4601 §4.5.8 packing). r1 must then hold (*,G) joined toward r2 and the
// (S,G,rpt) Prune state on the same interface (§4.5.3), which pim6stat shows
// as an sg_rpt entry with that interface pruned. When the host leaves, the
// (*,G) state goes away on both routers.
func TestSharedTreeJoinWithSourcePrunedOffIt(t *testing.T) {
	t.Parallel()
	const (
		group   = "ff1e::a5a5"
		blocked = "2001:db8:1::2" // src's address
		rpAddr  = "2001:db8:1::1" // r1's address on the source's subnet
	)
	l := buildLab(t, "ssm-demo.yaml")
	cfg := writeFile(t, "rp.yaml", "static_rp:\n  - address: "+rpAddr+"\n    groups: [ff1e::/16]\n")
	binary(t, "pim6d")
	capt := startCapture(t, l.Node("r2"), "eth0", "out", "ip6 proto 103") // r2's PIM toward r1
	r1 := startPim6d(t, l.Node("r1"), "--config", cfg)
	r2 := startPim6d(t, l.Node("r2"), "--config", cfg)
	waitUntil(t, 15*time.Second, "r1 and r2 to become PIM neighbours", func() bool {
		return len(r1.snapshot(t).Neighbors) == 1 && len(r2.snapshot(t).Neighbors) == 1
	})

	host := l.Node("rcv").Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-exclude", blocked)...)

	// r2: the listener in EXCLUDE {blocked}, (*,G) toward the RP.
	waitUntil(t, 10*time.Second, "r2's MLD state EXCLUDE {"+blocked+"} for "+group, func() bool {
		for _, g := range r2.snapshot(t).Groups {
			if g.Interface == "eth1" && g.Group == group && g.Mode == "exclude" && slices.Contains(g.Sources, blocked) {
				return true
			}
		}
		return false
	})
	r1LL := l.Node("r1").LinkLocal("eth1").WithZone("").String()
	waitUntil(t, 10*time.Second, "r2's (*,"+group+") toward r1", func() bool {
		rt, ok := r2.route(t, "::", group)
		return ok && rt.Kind == "g" && rt.IIF == "eth0" && rt.Upstream == r1LL && slices.Contains(rt.OIFs, "eth1")
	})
	// r1, the RP: (*,G) joined on eth1, and S pruned off the shared tree there.
	waitUntil(t, 10*time.Second, "r1's (*,"+group+") joined on eth1 and ("+blocked+","+group+",rpt) pruned on eth1", func() bool {
		wc, ok1 := r1.route(t, "::", group)
		rpt, ok2 := r1.route(t, blocked, group)
		return ok1 && slices.Contains(wc.Joined, "eth1") &&
			ok2 && rpt.Kind == "sg_rpt" && slices.Contains(rpt.Pruned, "eth1") && !slices.Contains(rpt.OIFs, "eth1")
	})
	if rt, _ := r1.route(t, blocked, group); !slices.Contains(rt.Flags, "RP") {
		t.Errorf("r1's (S,G,rpt) entry flags %v, want RP (iif toward the RP, as pim6sd showed it)", rt.Flags)
	}
	// On the wire, decoded by tshark: one Join/Prune whose group record
	// joins the RP with the WC and RPT bits and prunes the source with the
	// RPT bit (§4.9.5.1), with a good checksum.
	pcap := capt.stop(t)
	out, err := exec.Command("tshark", "-r", pcap, "-n", "-Y", "pim.type == 3 && pim.numjoins >= 1 && pim.numprunes >= 1",
		"-T", "fields", "-E", "separator=|", "-e", "pim.cksum.status", "-e", "pim.join_ip6", "-e", "pim.prune_ip6",
		"-e", "pim.source_addr.flags.w", "-e", "pim.source_addr.flags.r").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("Join/Prunes with a join and a prune (checksum|joins|prunes|W bits|R bits):\n%s", out)
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("no Join/Prune carrying both a join and a prune from r2")
	}
	f := strings.Split(lines[0], "|")
	if len(f) != 5 || f[0] != "1" || f[1] != rpAddr || f[2] != blocked || f[3] != "1,0" || f[4] != "1,1" {
		t.Errorf("r2's Join/Prune decodes as %q; want checksum good (1), join %s with W and R, prune %s with R only (W bits 1,0; R bits 1,1)", lines[0], rpAddr, blocked)
	}

	// The host leaves: r2 prunes (*,G) (after the last listener query,
	// RFC 3810 §7.4.2), and r1 drops its (*,G) after the prune's override
	// interval (§4.5.1). r1's (S,G,rpt) Prune state lives on until its
	// Expiry Timer, as §4.5.3 has it (no transition on (*,G) going away).
	host.Stop()
	waitUntil(t, 15*time.Second, "r2's (*,"+group+") to go after the host left", func() bool {
		_, ok := r2.route(t, "::", group)
		return !ok
	})
	waitUntil(t, 10*time.Second, "r1's (*,"+group+") to go after r2's Prune(*,G)", func() bool {
		_, ok := r1.route(t, "::", group)
		return !ok
	})
}

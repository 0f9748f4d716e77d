package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// joinLatencyBound is far above what the join path should take (MLD report,
// PIM Join, route install: no timer on the way) and far below the periodic
// timers (Join/Prune period, query interval) a broken path would fall back on.
const joinLatencyBound = 500 * time.Millisecond

// TestJoinLatencyThroughTwoRouters measures, on the ssm-demo lab, the time
// from a receiver's (S,G) join (the kernel's MLDv2 report) to the first packet
// of a steady 1000 pps source two pim6d routers away. Each run joins a fresh
// group, so every join is cold: no state on r1 or r2 beforehand.
func TestJoinLatencyThroughTwoRouters(t *testing.T) {
	t.Parallel()
	l := buildLab(t, "ssm-demo.yaml")
	src, rcv := l.Node("src"), l.Node("rcv")
	r1 := startPim6d(t, l.Node("r1"))
	r2 := startPim6d(t, l.Node("r2"))
	waitUntil(t, 10*time.Second, "r1 and r2 to become PIM neighbours", func() bool {
		return len(r1.snapshot(t).Neighbors) == 1 && len(r2.snapshot(t).Neighbors) == 1
	})

	const runs = 5
	var lat []time.Duration
	for i := 1; i <= runs; i++ {
		group := fmt.Sprintf("ff3e::1:%d", i)
		if _, ok := r2.route(t, ssmSource, group); ok {
			t.Fatalf("run %d: r2 already has state for %s; the join would not be cold", i, group)
		}
		// Captures on the receiver and on r2's upstream link split the
		// latency: report -> r2's Join -> first packet on r2's upstream link
		// -> first packet at the receiver.
		atRcv := startCapture(t, rcv, "eth0", "", "")
		atR2 := startCapture(t, r2.node, "eth0", "", "")
		sender := src.Start(toolArgs("e2e-mcsend", "-if", "eth0", "-groups", group, "-pps", "1000")...)
		time.Sleep(300 * time.Millisecond) // the source is steady before the join
		recv := rcv.Start(toolArgs("e2e-mcjoin", "-if", "eth0", "-group", group, "-source", ssmSource, "-first", "-timeout", "5s")...)
		err := recv.Wait(10 * time.Second)
		sender.Stop()
		if err != nil {
			t.Fatalf("run %d: receiver: %v\n%s\nsender: %s", i, err, recv.Output(), sender.Output())
		}
		m := regexp.MustCompile(`joined_at_unix_ns=(\d+) first_packet_after_us=(\d+)`).FindStringSubmatch(recv.Output())
		if m == nil {
			t.Fatalf("run %d: receiver printed %q: %v", i, recv.Output(), errNoLatency)
		}
		ns, _ := strconv.ParseInt(m[1], 10, 64)
		joined := time.Unix(0, ns)
		us, _ := strconv.Atoi(m[2])
		lat = append(lat, time.Duration(us)*time.Microsecond)
		rcvPkts, r2Pkts := readPcap(t, atRcv.stop(t)), readPcap(t, atR2.stop(t))
		// After the join: the previous run's leave is still being retransmitted.
		report := firstTime(t, rcvPkts, joined, "multicast listener report v2")
		rcvData := firstTime(t, rcvPkts, joined, "> "+group+".5000: UDP")
		join := firstTime(t, r2Pkts, report, "PIMv2, Join / Prune")
		r2Data := firstTime(t, r2Pkts, joined, "> "+group+".5000: UDP")
		t.Logf("run %d (%s): join->first packet %v; join->report leaves the host %v; on the wire: report->r2's Join %v, Join->first packet on r1-r2 link %v, that->at receiver %v",
			i, group, lat[len(lat)-1], report.Sub(joined).Round(10*time.Microsecond), join.Sub(report).Round(10*time.Microsecond), r2Data.Sub(join).Round(10*time.Microsecond), rcvData.Sub(r2Data).Round(10*time.Microsecond))
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	t.Logf("join latency through two routers, %d cold joins: %v; min %v median %v max %v",
		runs, lat, sorted[0], sorted[runs/2], sorted[runs-1])
	if sorted[runs-1] > joinLatencyBound {
		t.Errorf("slowest join took %v, want under %v (all: %v)", sorted[runs-1], joinLatencyBound, lat)
	}
}

// firstTime returns the capture time of the first packet whose tcpdump line
// (readPcap) contains what, at or after a time.
func firstTime(t *testing.T, pkts []string, after time.Time, what string) time.Time {
	t.Helper()
	for _, p := range pkts {
		if !strings.Contains(p, what) {
			continue
		}
		sec, err := strconv.ParseFloat(strings.Fields(p)[0], 64)
		if err != nil {
			t.Fatalf("tcpdump line %q: %v", p, err)
		}
		if at := time.Unix(0, int64(sec*1e9)); !at.Before(after) {
			return at
		}
	}
	t.Fatalf("no packet with %q after %v in the capture:\n%s", what, after, strings.Join(pkts, "\n"))
	return time.Time{}
}

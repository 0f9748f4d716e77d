package e2e

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pim6d/pim6d/api"
)

// fastQuerierConfig shortens MLD's timers on lan0 so election and takeover
// fit in a test: Other Querier Present Interval = robustness × query
// interval + query response interval / 2 = 2×5 s + 1 s = 11 s (RFC 3810 §9.5).
const fastQuerierConfig = `
interfaces:
  - name: lan0
    mld:
      robustness: 2
      query_interval: 5s
      query_response_interval: 2s
`

const (
	fastQueryInterval = 5 * time.Second
	fastOQPI          = 11 * time.Second
)

// TestMLDQuerierElectionLowerAddressWinsAndOtherTakesOver runs two pim6d
// routers on one LAN (RFC 3810 §7.6.2): the one with the lower link-local
// address becomes querier, the other goes quiet (a capture on a host sees
// queries from the winner only); when the querier's pim6d stops, the other
// takes over one Other Querier Present Interval after the last query it heard.
func TestMLDQuerierElectionLowerAddressWinsAndOtherTakesOver(t *testing.T) {
	t.Parallel()
	l := buildLab(t, "mld-lan.yaml")
	cfg := writeFile(t, "pim6d.yaml", fastQuerierConfig)
	r1 := startPim6d(t, l.Node("r1"), "--config", cfg)
	r2 := startPim6d(t, l.Node("r2"), "--config", cfg)
	h1 := l.Node("h1")

	ll1, ll2 := l.Node("r1").LinkLocal("lan0").WithZone(""), l.Node("r2").LinkLocal("lan0").WithZone("")
	winner, loser, winnerLL, loserLL := r1, r2, ll1, ll2
	if ll2.Less(ll1) {
		winner, loser, winnerLL, loserLL = r2, r1, ll2, ll1
	}
	waitUntil(t, 10*time.Second, winner.node.Label()+" ("+winnerLL.String()+") to win the querier election on both routers", func() bool {
		w, lq := querierOn(t, winner, "lan0"), querierOn(t, loser, "lan0")
		return w.Self && !lq.Self && lq.Address == winnerLL.String()
	})
	if f := ifFlags(t, winner, "lan0"); !slices.Contains(f, api.IfQuerier) {
		t.Errorf("querier %s lan0 flags = %v, want %s", winner.node.Label(), f, api.IfQuerier)
	}
	if f := ifFlags(t, loser, "lan0"); slices.Contains(f, api.IfQuerier) {
		t.Errorf("non-querier %s lan0 flags = %v, want no %s", loser.node.Label(), f, api.IfQuerier)
	}

	// After the election, only the winner queries: watch more than a query
	// interval. Then the querier stops, and the other takes over after the
	// Other Querier Present Interval. One capture on a host covers both.
	capt := startCapture(t, h1, "eth0", "in", "ip6[6] == 0") // hop-by-hop: MLD
	time.Sleep(fastQueryInterval + 1500*time.Millisecond)
	if n := len(mldQueries(t, capt.file)[loserLL]); n != 0 {
		t.Errorf("%s sent %d queries after losing the election, want none", loser.node.Label(), n)
	}
	stopped := time.Now()
	winner.proc.Stop()
	waitUntil(t, fastOQPI+fastQueryInterval+3*time.Second, loser.node.Label()+" to take over as querier", func() bool {
		return querierOn(t, loser, "lan0").Self
	})
	t.Logf("%s took over %v after %s stopped", loser.node.Label(), time.Since(stopped).Round(10*time.Millisecond), winner.node.Label())
	time.Sleep(300 * time.Millisecond)
	queries := mldQueries(t, capt.stop(t))
	if len(queries[winnerLL]) == 0 || len(queries[loserLL]) == 0 {
		t.Fatalf("queries by sender = %v; want the querier's (until it stopped) and then the new querier's", queries)
	}
	lastOld := slices.Max(queries[winnerLL])
	var firstNew float64
	for _, ts := range queries[loserLL] {
		if ts > lastOld {
			firstNew = ts
			break
		}
	}
	gap := time.Duration((firstNew - lastOld) * float64(time.Second))
	t.Logf("last query from %s to first from %s: %v (Other Querier Present Interval %v)", winnerLL, loserLL, gap.Round(time.Millisecond), fastOQPI)
	if gap < fastOQPI-500*time.Millisecond || gap > fastOQPI+1500*time.Millisecond {
		t.Errorf("takeover gap = %v, want the Other Querier Present Interval %v (-0.5 s/+1.5 s)", gap, fastOQPI)
	}
}

func querierOn(t *testing.T, r *router, ifname string) api.Querier {
	t.Helper()
	for _, q := range r.snapshot(t).Queriers {
		if q.Interface == ifname {
			return q
		}
	}
	return api.Querier{}
}

func ifFlags(t *testing.T, r *router, ifname string) []string {
	t.Helper()
	for _, i := range r.snapshot(t).Interfaces {
		if i.Name == ifname {
			return i.Flags
		}
	}
	return nil
}

// mldQueries returns the capture times (Unix seconds) of the MLD queries in a
// pcap file, by source address.
func mldQueries(t *testing.T, pcap string) map[netip.Addr][]float64 {
	t.Helper()
	bysrc := map[netip.Addr][]float64{}
	lines := readPcap(t, pcap)
	for _, line := range lines {
		if !strings.Contains(line, "multicast listener query") {
			continue
		}
		// "1700000000.123456 IP6 fe80::1 > ff02::1: HBH ICMP6, multicast listener query v2 ..."
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		ts, err1 := strconv.ParseFloat(f[0], 64)
		src, err2 := netip.ParseAddr(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("unexpected tcpdump line %q", line)
		}
		bysrc[src] = append(bysrc[src], ts)
	}
	return bysrc
}

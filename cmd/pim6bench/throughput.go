package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pim6d/pim6d/lab"
)

const (
	benchGroup  = "ff3e::4321:1234"
	benchSource = "2001:db8:1::10"
)

type result struct {
	oifs     int
	mode     string
	sent     int64
	received []int64 // per receiver
	seconds  float64
}

// perOIF is the mean packets/s that arrived at each receiver.
func (r result) perOIF() float64 {
	var sum int64
	for _, n := range r.received {
		sum += n
	}
	return float64(sum) / float64(len(r.received)) / r.seconds
}

func throughput(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ExitOnError)
	oifList := fs.String("oifs", "1,4", "numbers of outgoing interfaces to measure")
	seconds := fs.Float64("seconds", 3, "seconds per run")
	size := fs.Int("size", 64, "UDP payload bytes")
	runs := fs.Int("runs", 1, "runs per configuration (the median and the range are shown)")
	rate := fs.Float64("rate", 0, "offered load in packets/s (0: as fast as the sender can)")
	search := fs.Bool("search", false, "also find the maximum loss-free rate of each forwarder (binary search on -rate)")
	maxLoss := fs.Float64("loss", 0.001, "with -search: the largest loss fraction that counts as loss-free")
	steps := fs.Int("steps", 7, "with -search: binary search steps")
	fs.Parse(args)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	self, _ = filepath.EvalSymlinks(self)
	// PIM6BENCH_MODES=pim6d skips the kernel's runs (for quick experiments).
	modes := []string{"kernel", "pim6d"}
	if m := os.Getenv("PIM6BENCH_MODES"); m != "" {
		modes = strings.Split(m, ",")
	}
	type row struct {
		oifs             int
		kernel, pim6d    []float64 // per-oif pkt/s, one per run
		kSent, pSent     []float64
		kSearch, pSearch []float64 // max loss-free offered pkt/s, one per run
	}
	var rows []row
	for _, f := range strings.Split(*oifList, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 8 {
			return fmt.Errorf("-oifs: bad count %q", f)
		}
		rw := row{oifs: n}
		for range *runs {
			// Alternate the modes run by run so that drifts of the machine
			// hit both alike.
			for _, mode := range modes {
				r, err := runOnce(self, mode, n, *seconds, *size, *rate)
				if err != nil {
					return fmt.Errorf("%s with %d oifs: %w", mode, n, err)
				}
				fmt.Fprintf(os.Stderr, "%s %d oifs rate %.0f: sent %.0f/s, per oif %.0f/s, loss %.4f\n",
					mode, n, *rate, float64(r.sent)/r.seconds, r.perOIF(), r.loss())
				sent := float64(r.sent) / r.seconds
				if mode == "kernel" {
					rw.kernel, rw.kSent = append(rw.kernel, r.perOIF()), append(rw.kSent, sent)
				} else {
					rw.pim6d, rw.pSent = append(rw.pim6d, r.perOIF()), append(rw.pSent, sent)
				}
				if !*search {
					continue
				}
				// The unpaced (or -rate) run bounds the search from above.
				best, err := searchRate(self, mode, n, *seconds, *size, sent, *maxLoss, *steps)
				if err != nil {
					return fmt.Errorf("%s with %d oifs: %w", mode, n, err)
				}
				if mode == "kernel" {
					rw.kSearch = append(rw.kSearch, best)
				} else {
					rw.pSearch = append(rw.pSearch, best)
				}
			}
		}
		rows = append(rows, rw)
	}
	load := "as fast as the sender can"
	if *rate > 0 {
		load = fmt.Sprintf("%.0f pkt/s offered", *rate)
	}
	fmt.Printf("Received per oif (%s), median of %d runs [min-max]:\n\n", load, *runs)
	fmt.Printf("| oifs | kernel ip6mr (pkt/s per oif) | pim6d forwarder (pkt/s per oif) | ratio pim6d/kernel | sent pkt/s (kernel / pim6d) |\n")
	fmt.Printf("|---|---|---|---|---|\n")
	for _, rw := range rows {
		fmt.Printf("| %d | %s | %s | %.2fx | %.0f / %.0f |\n", rw.oifs, spread(rw.kernel), spread(rw.pim6d),
			median(rw.pim6d)/median(rw.kernel), median(rw.kSent), median(rw.pSent))
	}
	if !*search {
		return nil
	}
	fmt.Printf("\nMaximum loss-free rate (loss <= %.2g%% on every oif, %d-step binary search), median of %d runs [min-max]:\n\n",
		*maxLoss*100, *steps, *runs)
	fmt.Printf("| oifs | kernel ip6mr (pkt/s) | pim6d forwarder (pkt/s) | ratio pim6d/kernel |\n")
	fmt.Printf("|---|---|---|---|\n")
	for _, rw := range rows {
		fmt.Printf("| %d | %s | %s | %.2fx |\n", rw.oifs, spread(rw.kSearch), spread(rw.pSearch),
			median(rw.pSearch)/median(rw.kSearch))
	}
	return nil
}

// loss is the fraction of sent packets missing at the worst receiver.
func (r result) loss() float64 {
	if r.sent == 0 {
		return 1
	}
	worst := r.sent
	for _, n := range r.received {
		worst = min(worst, n)
	}
	return 1 - float64(worst)/float64(r.sent)
}

// searchRate finds the highest offered rate below hi that mode forwards with
// at most maxLoss loss on every oif. A probe counts as loss-free only if the
// sender really offered (almost) the rate asked for.
func searchRate(self, mode string, oifs int, seconds float64, size int, hi, maxLoss float64, steps int) (float64, error) {
	lo := 0.0
	hi *= 1.02
	for range steps {
		mid := (lo + hi) / 2
		r, err := runOnce(self, mode, oifs, seconds, size, mid)
		if err != nil {
			return 0, err
		}
		sent := float64(r.sent) / r.seconds
		ok := r.loss() <= maxLoss && sent >= 0.97*mid
		fmt.Fprintf(os.Stderr, "search %s %d oifs: rate %.0f sent %.0f/s loss %.4f ok=%v\n", mode, oifs, mid, sent, r.loss(), ok)
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread formats a median with the range of the runs.
func spread(v []float64) string {
	switch len(v) {
	case 0:
		return "-"
	case 1:
		return fmt.Sprintf("%.0f", v[0])
	}
	return fmt.Sprintf("%.0f [%.0f-%.0f]", median(v), slices.Min(v), slices.Max(v))
}

func runOnce(self, mode string, oifs int, seconds float64, size int, rate float64) (result, error) {
	l, err := lab.Open("bench")
	if err != nil {
		return result{}, err
	}
	defer l.Close()
	src, r := l.Node("src"), l.Node("r")
	l.Link(src, "eth0", r, "up0")
	src.Addr("eth0", benchSource+"/64")
	r.Addr("up0", "2001:db8:1::1/64")
	var rcvs []*lab.Node
	var downs []string
	for i := range oifs {
		rcv := l.Node("rcv" + strconv.Itoa(i))
		down := "down" + strconv.Itoa(i)
		l.Link(r, down, rcv, "eth0")
		rcvs = append(rcvs, rcv)
		downs = append(downs, down)
	}
	// The router's receive work goes to CPU 1 (RPS), the sender stays on CPU 0.
	r.Sysctl("net.ipv6.conf.all.forwarding", "1")
	if err := l.Err(); err != nil {
		return result{}, err
	}
	if _, err := r.Run("sh", "-c", "echo 2 > /sys/class/net/up0/queues/rx-0/rps_cpus"); err != nil {
		return result{}, fmt.Errorf("rps: %w", err)
	}

	switch mode {
	case "kernel":
		conf := filepath.Join(os.TempDir(), l.ID()+"-smcroute.conf")
		line := fmt.Sprintf("phyint up0 enable\n%s\nmroute from up0 source %s group %s to %s\n",
			phyints(downs), benchSource, benchGroup, strings.Join(downs, " "))
		if err := os.WriteFile(conf, []byte(line), 0o644); err != nil {
			return result{}, err
		}
		defer os.Remove(conf)
		p := r.Start("taskset", "-c", "1", "smcrouted", "-n", "-N", "-f", conf, "-i", l.ID(), "-u", conf+".sock", "-P", conf+".pid", "-l", "notice")
		defer p.Stop()
		if err := waitFor(func() bool {
			out, _ := r.Run("ip", "-6", "mroute", "show")
			return strings.Contains(out, benchGroup)
		}, 5*time.Second); err != nil {
			return result{}, fmt.Errorf("smcroute did not install the MFC entry: %s", p.Output())
		}
	case "pim6d":
		// PIM6BENCH_CHRT runs the forwarder with that SCHED_FIFO priority;
		// PIM6BENCH_FORWARD_ARGS adds flags to `pim6bench forward` (ring
		// settings, busy polling) for experiments.
		cmd := []string{"taskset", "-c", "1"}
		if prio := os.Getenv("PIM6BENCH_CHRT"); prio != "" {
			cmd = append(cmd, "chrt", "-f", prio)
		}
		cmd = append(cmd, self, "forward", "-iif", "up0", "-oifs", strings.Join(downs, ","))
		cmd = append(cmd, strings.Fields(os.Getenv("PIM6BENCH_FORWARD_ARGS"))...)
		p := r.Start(cmd...)
		defer func() {
			p.Stop()
			fmt.Fprintf(os.Stderr, "forwarder, %d oifs: %s", oifs, p.Output())
		}()
		if err := waitFor(func() bool { return strings.Contains(p.Output(), "ready") }, 5*time.Second); err != nil {
			return result{}, fmt.Errorf("forwarder did not start: %s", p.Output())
		}
	}
	before := make([]int64, len(rcvs))
	for i, n := range rcvs {
		before[i] = rxPackets(n)
	}
	out, err := src.Run("taskset", "-c", "0", self, "blast", "-src", benchSource, "-seconds", fmt.Sprint(seconds), "-size", strconv.Itoa(size), "-rate", fmt.Sprint(rate))
	if err != nil {
		return result{}, fmt.Errorf("blast: %v: %s", err, out)
	}
	time.Sleep(200 * time.Millisecond) // let queues drain
	sent, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	res := result{oifs: oifs, mode: mode, sent: sent, seconds: seconds}
	for i, n := range rcvs {
		res.received = append(res.received, rxPackets(n)-before[i])
	}
	return res, nil
}

func phyints(names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "phyint %s enable\n", n)
	}
	return b.String()
}

func rxPackets(n *lab.Node) int64 {
	out, err := n.Run("cat", "/sys/class/net/eth0/statistics/rx_packets")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	return v
}

func waitFor(cond func() bool, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v", d)
}

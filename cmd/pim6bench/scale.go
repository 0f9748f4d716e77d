package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/lab"
)

// The scale lab: host —(eth0) r (eth1)— src. The host is the MLD listener
// or the PIM neighbour; the (S,G) sources live in src's subnet, directly
// connected to the router, so RPF resolves to eth1.
const (
	scaleHostAddr   = "2001:db8:1::2"
	scaleRouterAddr = "2001:db8:1::1"
	scaleSourceNet  = "2001:db8:5::"
)

// helloPeriodConfig runs PIM with 1 s Hellos on both of the router's links,
// so that late Hellos show up within a run.
const helloPeriodConfig = `interfaces:
  - name: eth0
    pim:
      hello_period: 1s
  - name: eth1
    pim:
      hello_period: 1s
`

// scaleEnv is one lab with a pim6d router in it.
type scaleEnv struct {
	l          *lab.Lab
	host, r    *lab.Node
	d          *lab.Proc
	stopPerf   func() // stops a perf record before the first snapshot
	onQuiet    func() // runs before the first snapshot
	dir        string // the control socket and configuration file
	socket     string
	pim6statBn string
}

// scaleBins are the binaries a scale run needs.
type scaleBins struct {
	pim6d, pim6stat string
	flags           []string // extra pim6d flags
	label           string   // the binary, in the table, when it is not the default one ("path ")
}

// buildScaleBins builds pim6d and pim6stat (from the module the current
// directory is in) unless given.
func buildScaleBins(pim6d, pim6stat string) (scaleBins, func(), error) {
	if pim6d != "" && pim6stat != "" {
		return scaleBins{pim6d: pim6d, pim6stat: pim6stat}, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "pim6bench-scale-")
	if err != nil {
		return scaleBins{}, nil, err
	}
	b, _, err := buildScaleBinsIn(dir)
	if err != nil {
		os.RemoveAll(dir)
		return b, nil, err
	}
	if pim6d != "" {
		b.pim6d = pim6d
	}
	if pim6stat != "" {
		b.pim6stat = pim6stat
	}
	return b, func() { os.RemoveAll(dir) }, nil
}

// buildScaleBinsIn builds pim6d and pim6stat into dir.
func buildScaleBinsIn(dir string) (scaleBins, string, error) {
	var b scaleBins
	var err error
	if b.pim6d, err = lab.GoBuild("github.com/pim6d/pim6d/cmd/pim6d", dir); err != nil {
		return b, dir, err
	}
	b.pim6stat, err = lab.GoBuild("github.com/pim6d/pim6d/cmd/pim6stat", dir)
	return b, dir, err
}

// newScaleEnv builds the lab in l and starts pim6d on r, with the given
// configuration file contents ("" for the embedded default).
func newScaleEnv(l *lab.Lab, bins scaleBins, config string) (*scaleEnv, error) {
	e := &scaleEnv{l: l, host: l.Node("host"), r: l.Node("r"), pim6statBn: bins.pim6stat}
	src := l.Node("src")
	l.Link(e.host, "eth0", e.r, "eth0")
	l.Link(e.r, "eth1", src, "eth0")
	e.host.Addr("eth0", scaleHostAddr+"/64")
	e.r.Addr("eth0", scaleRouterAddr+"/64")
	e.r.Addr("eth1", scaleSourceNet+"1/64")
	src.Addr("eth0", scaleSourceNet+"2/64")
	e.r.Sysctl("net.ipv6.conf.all.forwarding", "1")
	if err := l.Err(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", l.ID()+"-")
	if err != nil {
		return nil, err
	}
	e.dir = dir
	e.socket = filepath.Join(dir, "pim6d.sock")
	// gctrace=1 makes the Go runtime log the live heap after every
	// collection (liveHeap reads it): a memory figure without GC headroom.
	// A flag written NAME=value (GOGC=400) is pim6d's environment instead.
	args := []string{"env", "GODEBUG=gctrace=1"}
	var flags []string
	for _, f := range bins.flags {
		if isEnvAssignment(f) {
			args = append(args, f)
		} else {
			flags = append(flags, f)
		}
	}
	args = append(args, bins.pim6d, "--socket", e.socket, "--log-level", "warn")
	args = append(args, flags...)
	if config != "" {
		conf := filepath.Join(dir, "pim6d.yaml")
		if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args = append(args, "--config", conf)
	}
	e.d = e.r.Start(args...)
	if err := waitFor(func() bool {
		s, err := e.snapshot(api.SectionInterfaces)
		return err == nil && len(s.Interfaces) >= 2
	}, 10*time.Second); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pim6d did not come up: %v\n%s", err, e.d.Output())
	}
	return e, nil
}

func (e *scaleEnv) snapshot(sections ...api.Section) (*api.Snapshot, error) {
	c, err := api.Dial(e.socket)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Snapshot(context.Background(), sections...)
}

// rssBytes is pim6d's resident set size (VmRSS).
func (e *scaleEnv) rssBytes() int64 { return e.procBytes("status", "VmRSS:") }

// hugeBytes is pim6d's memory in transparent huge pages.
func (e *scaleEnv) hugeBytes() int64 { return e.procBytes("smaps_rollup", "AnonHugePages:") }

// procBytes reads a "Key:   N kB" line of pim6d's /proc/PID/file (0 if
// there is none).
func (e *scaleEnv) procBytes(file, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", e.d.Pid(), file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTicks is pim6d's user+system CPU time in clock ticks (1/100 s).
func (e *scaleEnv) cpuTicks() int64 {
	f := e.stat()
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// minorFaults is how many page faults pim6d has taken that needed no I/O:
// on these VMs, 12-15 µs each for a 4 KiB page.
func (e *scaleEnv) minorFaults() int64 {
	f := e.stat()
	if len(f) < 8 {
		return 0
	}
	n, _ := strconv.ParseInt(f[7], 10, 64)
	return n
}

// stat is /proc/PID/stat for pim6d from its third field (state) on.
func (e *scaleEnv) stat() []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.d.Pid()))
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// liveHeap is the heap marked live by pim6d's last garbage collection
// ("gc N @...: ... A->B->C MB": C), from the gctrace lines in its output,
// and how many collections there were.
func (e *scaleEnv) liveHeap() (bytes int64, gcs int) {
	for _, line := range strings.Split(e.d.Output(), "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		i := strings.Index(line, " MB,")
		if i < 0 {
			continue
		}
		f := strings.Split(line[:i], "->")
		fields := strings.Fields(f[len(f)-1])
		if len(fields) == 0 {
			continue
		}
		if mb, err := strconv.ParseFloat(fields[0], 64); err == nil {
			bytes, gcs = int64(mb*(1<<20)), gcs+1
		}
	}
	return bytes, gcs
}

// mldSocketDrops is the drop counter (ss skmem "d": the kernel threw a
// packet away because the receive buffer was full) of pim6d's MLD socket,
// the only SOCK_DGRAM packet socket ("p_dgr") in the router's namespace;
// the forwarder's packet sockets ("p_raw") see every report too and are
// not counted.
func (e *scaleEnv) mldSocketDrops() int64 {
	out, err := e.r.Run("ss", "-0", "-m", "-n", "-a")
	if err != nil {
		return -1
	}
	var sum int64
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "p_dgr") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == '(' || r == ')' || r == ' ' }) {
			if v, ok := strings.CutPrefix(f, "d"); ok {
				if d, err := strconv.ParseInt(v, 10, 64); err == nil {
					sum += d
				}
			}
		}
	}
	return sum
}

// pimSocketDrops is the drops column of /proc/net/raw6 for the router's
// raw sockets of protocol 103 (PIM).
func (e *scaleEnv) pimSocketDrops() int64 {
	out, err := e.r.Run("cat", "/proc/net/raw6")
	if err != nil {
		return -1
	}
	var sum int64
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasSuffix(f[1], ":0067") {
			continue
		}
		if d, err := strconv.ParseInt(f[len(f)-1], 10, 64); err == nil {
			sum += d
		}
	}
	return sum
}

const tick = 10 * time.Millisecond // USER_HZ = 100

// settle waits until pim6d has used no CPU for quiet, and returns when it
// last did.
func (e *scaleEnv) settle(quiet, timeout time.Duration) time.Time {
	last, lastChange := e.cpuTicks(), time.Now()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && time.Since(lastChange) < quiet {
		time.Sleep(5 * time.Millisecond)
		if c := e.cpuTicks(); c != last {
			last, lastChange = c, time.Now()
		}
	}
	return lastChange
}

// intake is what one measurement found.
type intake struct {
	n         int
	got       int           // (S,G) present at the end
	elapsed   time.Duration // first packet sent until pim6d's summary showed all n
	sendTime  time.Duration // how long sending took
	sent      int           // packets sent
	sendFail  int           // sends the kernel refused
	rssBefore int64
	rssQuiet  int64         // when the intake went quiet, before any snapshot
	rssAfter  int64         // after the first snapshot that showed all n
	heap0     int64         // live heap at the last GC before sending
	heap1     int64         // live heap at the last GC before the first snapshot after
	drops     int64         // socket drops on the router during the run
	cpu       time.Duration // pim6d's CPU time from start to done
	faults    int64         // pim6d's minor page faults from start to quiet
	huge      int64         // pim6d's memory in huge pages at quiet
}

func (r intake) faultsCell() string {
	return fmt.Sprintf("%d (%.0f MiB)", r.faults, float64(r.huge)/(1<<20))
}

func (r intake) rate() float64 { return float64(r.got) / r.elapsed.Seconds() }
func (r intake) heapPerSG() float64 {
	return float64(r.heap1-r.heap0) / float64(max(r.got, 1))
}
func (r intake) bytesPerSG() float64 {
	return float64(r.rssAfter-r.rssBefore) / float64(max(r.got, 1))
}

// quietBytesPerSG is the RSS growth per (S,G) held by the state alone: read
// when the intake went quiet, before a snapshot (whose transient buffers,
// ~1 KB per entry, the Go runtime keeps mapped for a while) was asked for.
func (r intake) quietBytesPerSG() float64 {
	return float64(r.rssQuiet-r.rssBefore) / float64(max(r.got, 1))
}

// waitIntake waits for count to reach n. While the state comes in it polls
// pim6d's summary (a few counter reads on pim6d's side, what `pim6stat -s`
// shows) every pollEvery: done is when the first answer with all n came.
// Then it waits until pim6d's CPU has been idle for 300 ms (the RSS and
// CPU figures are read then, before any listing snapshot) and checks the
// count with a full snapshot of the sections.
func (e *scaleEnv) waitIntake(n int, summaryCount func(api.Summary) int, count func(*api.Snapshot) int, timeout time.Duration, sections ...api.Section) (done time.Time, got int, err error) {
	const pollEvery = 5 * time.Millisecond
	deadline := time.Now().Add(timeout)
	c, err := api.Dial(e.socket)
	if err != nil {
		return done, 0, err
	}
	for {
		s, err := c.Snapshot(context.Background(), api.SectionSummary)
		if err != nil {
			c.Close()
			return done, 0, err
		}
		if summaryCount(s.Summary) >= n {
			done = time.Now()
			break
		}
		if time.Now().After(deadline) {
			c.Close()
			return time.Now(), summaryCount(s.Summary), fmt.Errorf("only %d of %d (S,G) after %v", summaryCount(s.Summary), n, timeout)
		}
		time.Sleep(pollEvery)
	}
	c.Close()
	e.settle(300*time.Millisecond, time.Until(deadline))
	if e.onQuiet != nil {
		e.onQuiet()
		e.onQuiet = nil
	}
	if e.stopPerf != nil {
		e.stopPerf()
		e.stopPerf = nil
	}
	s, err := e.snapshot(sections...)
	if err != nil {
		return done, 0, err
	}
	if got = count(s); got < n {
		return done, got, fmt.Errorf("the summary counted %d (S,G) but the listing shows %d", n, got)
	}
	return done, got, nil
}

// mldCount counts the (S,G) listener states on the router's host link.
func mldCount(s *api.Snapshot) int {
	n := 0
	for _, g := range s.Groups {
		if g.Interface == "eth0" && strings.HasPrefix(g.Group, "ff3e:") {
			n += len(g.Sources)
		}
	}
	return n
}

// routeCount counts the (S,G) routes of the run's groups that are in the
// forwarding table.
func routeCount(s *api.Snapshot) int {
	n := 0
	for _, r := range s.Routes {
		if r.Kind == api.KindSG && strings.HasPrefix(r.Group, "ff3e:") && slices.Contains(r.Flags, api.RouteCache) {
			n++
		}
	}
	return n
}

// perfRecord starts perf record on pim6d when PIM6BENCH_PERF names an output
// file (for finding where the time goes); the returned func stops it.
func (e *scaleEnv) perfRecord() func() {
	out := os.Getenv("PIM6BENCH_PERF")
	if out == "" {
		return func() {}
	}
	args := []string{"-F", "2000", "-g"}
	if a := os.Getenv("PIM6BENCH_PERF_ARGS"); a != "" {
		args = strings.Fields(a) // e.g. "-e page-faults -c 1 -d -g": where the faults are
	}
	cmd := exec.Command("perf", append(append([]string{"record"}, args...), "-p", strconv.Itoa(e.d.Pid()), "-o", out)...)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		return func() {}
	}
	time.Sleep(300 * time.Millisecond)
	return func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
}

// measureMLD sends n (S,G) as MLDv2 reports of perReport records from the
// host, unpaced, and measures how pim6d takes them in.
func measureMLD(e *scaleEnv, n, perReport int, timeout time.Duration) (intake, error) {
	r := intake{n: n}
	pkts := mldReports(n, perReport, e.host.LinkLocal("eth0"))
	r.sent = len(pkts)
	e.settle(500*time.Millisecond, 5*time.Second)
	r.rssBefore = e.rssBytes()
	r.heap0, _ = e.liveHeap()
	drops0 := e.mldSocketDrops()
	finish := e.watchIntake(&r)
	start := time.Now()
	fail, err := sendRaw(e.host, "eth0", pkts)
	r.sendTime, r.sendFail = time.Since(start), fail
	if err != nil {
		return r, err
	}
	done, got, err := e.waitIntake(n, func(s api.Summary) int { return min(s.Sources, s.Installed) }, mldCount, timeout, api.SectionGroups)
	r.got, r.elapsed = got, done.Sub(start)
	r.rssAfter = e.rssBytes()
	r.drops = e.mldSocketDrops() - drops0
	finish()
	return r, err
}

// watchIntake starts watching an intake: what pim6d's CPU time and page
// faults grew by from now until the intake went quiet, and its live heap
// and memory at quiet, go into r when finish is called.
func (e *scaleEnv) watchIntake(r *intake) (finish func()) {
	var cpu1, faults1 int64
	e.onQuiet = func() {
		r.heap1, _ = e.liveHeap()
		cpu1, faults1 = e.cpuTicks(), e.minorFaults()
		r.rssQuiet, r.huge = e.rssBytes(), e.hugeBytes()
	}
	e.stopPerf = e.perfRecord()
	cpu0, faults0 := e.cpuTicks(), e.minorFaults()
	return func() {
		r.cpu = time.Duration(cpu1-cpu0) * tick // until quiet, without the snapshots
		r.faults = faults1 - faults0
	}
}

// pimResult adds the Hello timing to an intake.
type pimResult struct {
	intake
	msgs         int
	helloPeriod  time.Duration   // between the router's Hellos, as observed before the joins
	lateIntake   time.Duration   // the worst Hello delay while the joins were taken in
	lateSnapshot time.Duration   // the worst Hello delay while a snapshot and three pim6stat -j ran
	snapTimes    []time.Duration // pim6stat -j with all n routes
	snapBytes    int
	snapAPI      time.Duration // the snapshot asked for in-process, as JSON
	helloTimeout bool          // a Hello did not come within two periods
}

// nextHello waits for two Hellos from the router and returns the period
// between them and when the next one is due.
func nextHello(nb *pimNeighbor, timeout time.Duration) (period time.Duration, due time.Time, err error) {
	from := len(nb.helloTimes())
	if err := waitFor(func() bool { return len(nb.helloTimes()) >= from+2 }, timeout); err != nil {
		return 0, time.Time{}, fmt.Errorf("no two Hellos from pim6d: %v", err)
	}
	ts := nb.helloTimes()
	last := ts[len(ts)-1]
	period = last.Sub(ts[len(ts)-2])
	return period, last.Add(period), nil
}

// helloDelay is how late pim6d's Hellos were over [from, to]: the longest
// gap between two consecutive Hellos around that window, minus the period
// (0: every Hello on time). It first waits for a Hello after to.
func helloDelay(nb *pimNeighbor, from, to time.Time, period time.Duration) (time.Duration, bool) {
	after := func() bool {
		ts := nb.helloTimes()
		return len(ts) > 0 && ts[len(ts)-1].After(to)
	}
	if err := waitFor(after, time.Until(to.Add(3*period))); err != nil {
		return 0, false
	}
	ts := nb.helloTimes()
	var worst time.Duration
	found := false
	for i := 1; i < len(ts); i++ {
		if ts[i].Before(from) || ts[i-1].After(to) {
			continue
		}
		found = true
		worst = max(worst, ts[i].Sub(ts[i-1])-period)
	}
	return worst, found
}

// measurePIM makes the host a PIM neighbour of pim6d, sends n (S,G) joins
// in Join/Prunes of perMsg groups, unpaced, and measures how pim6d takes
// them in, whether its Hellos stay on time, and what a JSON dump costs.
// The joins start 200 ms, and later a snapshot request 5 ms, before one
// of the router's Hellos is due, so that a blocked event loop shows as a late Hello
// whatever the Hello period.
// Without align it skips the Hello timing and the dump (for tests: with the
// default 30 s Hello period, finding the phase takes up to a minute).
func measurePIM(e *scaleEnv, n, perMsg int, timeout time.Duration, align bool) (pimResult, error) {
	var r pimResult
	r.n = n
	nb, err := newPIMNeighbor(e.host, "eth0", netip.MustParseAddr(scaleHostAddr))
	if err != nil {
		return r, err
	}
	defer nb.close()
	upstream := e.r.LinkLocal("eth0")
	if err := waitFor(func() bool {
		s, err := e.snapshot(api.SectionNeighbors)
		return err == nil && len(s.Neighbors) == 1
	}, 10*time.Second); err != nil {
		return r, fmt.Errorf("pim6d did not take the test neighbour: %v", err)
	}
	const lead = 200 * time.Millisecond
	var period time.Duration
	var due time.Time
	if align {
		if period, due, err = nextHello(nb, 70*time.Second); err != nil {
			return r, err
		}
		r.helloPeriod = period
		time.Sleep(time.Until(due.Add(-lead)))
	}
	r.rssBefore = e.rssBytes()
	r.heap0, _ = e.liveHeap()
	drops0 := e.pimSocketDrops()
	finish := e.watchIntake(&r.intake)
	start := time.Now()
	r.msgs, r.sendFail = nb.joinAll(n, perMsg, upstream)
	r.sent = r.msgs
	r.sendTime = time.Since(start)
	done, got, err := e.waitIntake(n, func(s api.Summary) int { return min(s.Routes, s.Installed) }, routeCount, timeout, api.SectionRoutes)
	r.got, r.elapsed = got, done.Sub(start)
	r.rssAfter = e.rssBytes()
	r.drops = e.pimSocketDrops() - drops0
	finish()
	if err != nil || !align {
		return r, err
	}
	var ok bool
	r.lateIntake, ok = helloDelay(nb, start, done, period)
	r.helloTimeout = !ok
	if _, due, err = nextHello(nb, 3*period); err != nil {
		return r, err
	}
	// How long a dump blocks pim6d's event loop: a snapshot asked for 5 ms
	// before a Hello is due makes that Hello late by about as long as
	// building the snapshot holds the loop (the JSON is written off the
	// loop). Then pim6stat -j, timed as a user sees it, three times.
	c, err := api.Dial(e.socket)
	if err != nil {
		return r, err
	}
	defer c.Close()
	snapLead := 5 * time.Millisecond // PIM6BENCH_SNAPSHOT_LEAD overrides (a Go duration)
	if d, err := time.ParseDuration(os.Getenv("PIM6BENCH_SNAPSHOT_LEAD")); err == nil {
		snapLead = d
	}
	time.Sleep(time.Until(due.Add(-snapLead)))
	snapStart := time.Now()
	t0 := time.Now()
	if _, err := c.SnapshotJSON(context.Background()); err != nil {
		return r, fmt.Errorf("snapshot: %w", err)
	}
	r.snapAPI = time.Since(t0)
	for range 3 {
		t0 := time.Now()
		out, err := e.r.Run(e.pim6statBn, "--socket", e.socket, "-j")
		if err != nil {
			return r, fmt.Errorf("pim6stat -j: %v: %.300s", err, out)
		}
		r.snapTimes = append(r.snapTimes, time.Since(t0))
		r.snapBytes = len(out)
	}
	r.lateSnapshot, ok = helloDelay(nb, snapStart, time.Now(), period)
	r.helloTimeout = r.helloTimeout || !ok
	return r, nil
}

// parseCounts reads "10000,50000".
func parseCounts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n: bad count %q", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

type scaleFlags struct {
	counts          string
	runs            int
	per             int
	timeout         time.Duration
	pim6d, pim6stat string
	compare         string // pim6d flags of a reference variant, run alternately
	comparePim6d    string // the reference variant's pim6d binary
	fs              *flag.FlagSet
	countsN         []int
	bins            scaleBins
	cleanup         func()
}

func parseScaleFlags(name string, per int, args []string) (*scaleFlags, error) {
	f := &scaleFlags{fs: flag.NewFlagSet(name, flag.ExitOnError)}
	f.fs.StringVar(&f.counts, "n", "10000,50000", "numbers of (S,G) to send, comma-separated")
	f.fs.IntVar(&f.runs, "runs", 3, "runs per count (a fresh lab and pim6d each)")
	f.fs.IntVar(&f.per, "per", per, "(S,G) per message")
	f.fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up waiting for all (S,G) after this")
	f.fs.StringVar(&f.pim6d, "pim6d", "", "pim6d binary (default: go build from the module)")
	f.fs.StringVar(&f.pim6stat, "pim6stat", "", "pim6stat binary (default: go build from the module)")
	f.fs.StringVar(&f.compare, "compare", "", "also run pim6d with these flags (space-separated), alternating with the plain runs, e.g. \"--prefault-heap=false\"")
	f.fs.StringVar(&f.comparePim6d, "compare-pim6d", "", "also run this pim6d binary (with the -compare flags, if any), alternating with the plain runs: a build of another commit")
	f.fs.Parse(args)
	var err error
	if f.countsN, err = parseCounts(f.counts); err != nil {
		return nil, err
	}
	if f.bins, f.cleanup, err = buildScaleBins(f.pim6d, f.pim6stat); err != nil {
		return nil, err
	}
	return f, nil
}

// withScaleLab runs f on a fresh lab, torn down afterwards.
func withScaleLab(bins scaleBins, config string, f func(*scaleEnv) error) error {
	l, err := lab.Open("scale")
	if err != nil {
		return err
	}
	defer l.Close()
	e, err := newScaleEnv(l, bins, config)
	if err != nil {
		return err
	}
	defer os.RemoveAll(e.dir)
	ferr := f(e)
	// pim6d runs at log level warn: what it warned about (a slow event
	// loop, late timers) explains a figure, so it goes to stderr.
	if out := os.Getenv("PIM6BENCH_OUTPUT"); out != "" {
		// Everything pim6d wrote (the collector's trace among it), appended.
		if f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "=== pim6d %s%s\n%s", bins.label, strings.Join(bins.flags, " "), e.d.Output())
			f.Close()
		}
	}
	for _, line := range strings.Split(e.d.Output(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			fmt.Fprintln(os.Stderr, "pim6d:", line)
		}
	}
	if err := e.d.Stop(); err != nil && ferr == nil && !errors.Is(err, lab.ErrTimeout) {
		// pim6d's exit status after SIGTERM is informative only.
		fmt.Fprintf(os.Stderr, "pim6d exit: %v\n", err)
	}
	return ferr
}

func mldscale(args []string) error {
	f, err := parseScaleFlags("mldscale", 39, args)
	if err != nil {
		return err
	}
	defer f.cleanup()
	fmt.Printf("MLDv2 reports of %d records (one source each), unpaced, host -> pim6d over a veth; %d runs per N.\n\n", f.per, f.runs)
	fmt.Println("| pim6d flags | N (S,G) | reports | all present | time to all | rate (S,G)/s | pim6d CPU µs/(S,G) | pim6d page faults (huge pages at quiet) | RSS delta at quiet / after snapshot B/(S,G) | live heap delta B/(S,G) | send time | send errors | pim6d MLD socket drops |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var r intake
	return f.eachRun("mldscale", "", func(e *scaleEnv, n int) (int, error) {
		var err error
		r, err = measureMLD(e, n, f.per, f.timeout)
		return r.sent, err
	}, func(label string) {
		fmt.Printf("| %s ", label)
		printIntake(r)
	})
}

func printIntake(r intake) {
	fmt.Printf("| %d | %d | %d/%d%s | %.3f s | %.0f | %.1f | %s | %.0f / %.0f | %.0f | %.3f s | %d | %d |\n",
		r.n, r.sent, r.got, r.n, lostMark(r), r.elapsed.Seconds(), r.rate(),
		float64(r.cpu.Microseconds())/float64(max(r.got, 1)), r.faultsCell(), r.quietBytesPerSG(), r.bytesPerSG(), r.heapPerSG(), r.sendTime.Seconds(), r.sendFail, r.drops)
}

func timeoutMark(missing bool) string {
	if missing {
		return " (a Hello MISSING)"
	}
	return ""
}

func lostMark(r intake) string {
	if r.got < r.n {
		return fmt.Sprintf(" (%d LOST)", r.n-r.got)
	}
	return ""
}

func pimscale(args []string) error {
	f, err := parseScaleFlags("pimscale", 32, args)
	if err != nil {
		return err
	}
	defer f.cleanup()
	fmt.Printf("Join/Prunes of %d groups (one joined source each), unpaced, test neighbour -> pim6d over a veth; pim6d configured with hello_period 1s; joins start 200 ms and a snapshot request 5 ms before a Hello is due; %d runs per N.\n\n", f.per, f.runs)
	fmt.Println("| pim6d flags | N (S,G) | J/P msgs | all present | time to all | rate (S,G)/s | pim6d CPU µs/(S,G) | pim6d page faults (huge pages at quiet) | RSS delta at quiet / after snapshot B/(S,G) | live heap delta B/(S,G) | pim6d PIM socket drops | Hello period | worst Hello delay: intake / dumps | snapshot via api (JSON) | pim6stat -j time (bytes) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var r pimResult
	return f.eachRun("pimscale", helloPeriodConfig, func(e *scaleEnv, n int) (int, error) {
		var err error
		r, err = measurePIM(e, n, f.per, f.timeout, true)
		return r.sent, err
	}, func(label string) {
		var snaps []string
		for _, d := range r.snapTimes {
			snaps = append(snaps, fmt.Sprintf("%.3f", d.Seconds()))
		}
		fmt.Printf("| %s | %d | %d | %d/%d%s | %.3f s | %.0f | %.1f | %s | %.0f / %.0f | %.0f | %d | %.0f s | %+.3f / %+.3f s%s | %.3f s | %s s (%d) |\n",
			label, r.n, r.msgs, r.got, r.n, lostMark(r.intake), r.elapsed.Seconds(), r.rate(),
			float64(r.cpu.Microseconds())/float64(max(r.got, 1)), r.faultsCell(), r.quietBytesPerSG(), r.bytesPerSG(), r.heapPerSG(), r.drops,
			r.helloPeriod.Seconds(), r.lateIntake.Seconds(), r.lateSnapshot.Seconds(), timeoutMark(r.helloTimeout), r.snapAPI.Seconds(),
			strings.Join(snaps, ", "), r.snapBytes)
	})
}

// variants is how many ways pim6d is run: 1, or 2 with -compare.
// isEnvAssignment says whether a pim6d "flag" is NAME=value, an
// environment variable for pim6d (upper case letters, digits, _).
func isEnvAssignment(f string) bool {
	name, _, ok := strings.Cut(f, "=")
	return ok && name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

func (f *scaleFlags) variants() int {
	if f.compare == "" && f.comparePim6d == "" {
		return 1
	}
	return 2
}

// variant is how the i-th run runs pim6d: with -compare, every other run
// uses the reference flags, so that both see the machine in the same state.
func (f *scaleFlags) variant(i int) scaleBins {
	b := f.bins
	if f.variants() == 2 && i%2 == 1 {
		b.flags = strings.Fields(f.compare)
		if f.comparePim6d != "" {
			b.pim6d, b.label = f.comparePim6d, f.comparePim6d+" "
		}
	}
	return b
}

func flagsLabel(flags []string) string {
	if len(flags) == 0 {
		return "(default)"
	}
	return "`" + strings.Join(flags, " ") + "`"
}

// eachRun runs measure in a fresh lab for every count and run (with
// -compare, every variant of pim6d), then row with the variant's label. An
// error after something was sent is reported and the runs go on.
func (f *scaleFlags) eachRun(name, config string, measure func(e *scaleEnv, n int) (sent int, err error), row func(label string)) error {
	for _, n := range f.countsN {
		for i := range f.runs * f.variants() {
			bins := f.variant(i)
			var sent int
			err := withScaleLab(bins, config, func(e *scaleEnv) error {
				var err error
				sent, err = measure(e, n)
				return err
			})
			if err != nil && sent == 0 {
				return err
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, name+":", err)
			}
			row(bins.label + flagsLabel(bins.flags))
		}
	}
	return nil
}

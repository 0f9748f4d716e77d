package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// open labs, torn down when the process receives SIGINT or SIGTERM.
var (
	openMu   sync.Mutex
	openLabs = map[*Lab]struct{}{}
	sigc     chan os.Signal
)

func register(l *Lab) {
	openMu.Lock()
	defer openMu.Unlock()
	openLabs[l] = struct{}{}
	if sigc == nil {
		sigc = make(chan os.Signal, 1)
		signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
		go onSignal(sigc)
	}
}

func unregister(l *Lab) {
	openMu.Lock()
	defer openMu.Unlock()
	delete(openLabs, l)
}

// onSignal tears down every open lab, then lets the signal take the effect it
// would have had without us: other handlers saw it too; if there are none, the
// re-raised signal ends the process.
func onSignal(c chan os.Signal) {
	sig, ok := <-c
	if !ok {
		return
	}
	openMu.Lock()
	labs := make([]*Lab, 0, len(openLabs))
	for l := range openLabs {
		labs = append(labs, l)
	}
	signal.Stop(c)
	sigc = nil
	openMu.Unlock()
	for _, l := range labs {
		if err := l.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "lab %s teardown: %v\n", l.id, err)
		}
	}
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), s)
	}
}

// Namespaces returns the names of all named network namespaces (ip netns list).
func Namespaces() ([]string, error) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// Sweep deletes lab namespaces whose creating process is gone, killing any
// process still inside them. It returns the namespaces it removed.
func Sweep() ([]string, error) {
	names, err := Namespaces()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, name := range names {
		pid, ok := creator(name)
		if !ok || alive(pid) {
			continue
		}
		if err := deleteNamespace(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// creator reads the creating pid out of a lab namespace name
// (Prefix + pid + sequence letters + "-" + node).
func creator(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end == len(rest) || rest[end] < 'a' || rest[end] > 'z' {
		return 0, false
	}
	pid, err := strconv.Atoi(rest[:end])
	return pid, err == nil && pid > 0
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// deleteNamespace kills whatever still runs in a namespace and deletes it.
func deleteNamespace(name string) error {
	if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	err := ip("netns", "del", name)
	if _, serr := os.Stat("/run/netns/" + name); errors.Is(serr, os.ErrNotExist) {
		return nil // gone, perhaps swept by another process at the same time
	}
	return err
}

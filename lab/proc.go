package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout is returned by Proc.Wait when the process is still running.
var ErrTimeout = errors.New("process still running")

// StopTimeout is how long Proc.Stop waits after SIGTERM before SIGKILL.
const StopTimeout = 3 * time.Second

// Proc is a process started in a node. Its stdout and stderr are captured
// together. The lab kills and reaps it at teardown if it is still running.
type Proc struct {
	node *Node
	args []string
	pid  int

	out  lockedBuffer
	done chan struct{} // closed once the process has been reaped
	err  error         // exit error, readable after done is closed
}

// Start starts a command in the node's namespace in the background, in a
// process group of its own (so a terminal's Ctrl-C reaches only the lab, which
// then stops it).
func (n *Node) Start(args ...string) *Proc {
	if n.lab.tb != nil {
		n.lab.tb.Helper()
	}
	p := &Proc{node: n, args: args, done: make(chan struct{})}
	if len(args) == 0 {
		p.finish(errors.New("Start: no command"))
		n.fail(p.err)
		return p
	}
	cmd := n.command(args...)
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	l := n.lab
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		p.finish(errors.New("lab is closed"))
		n.fail(p.err)
		return p
	}
	// Start under the lock so Close never misses a process it must stop.
	err := cmd.Start()
	if err == nil {
		l.procs = append(l.procs, p)
	}
	l.mu.Unlock()
	if err != nil {
		p.finish(fmt.Errorf("%s: start %s: %w", n.label, strings.Join(args, " "), err))
		n.fail(p.err)
		return p
	}
	p.pid = cmd.Process.Pid
	go func() { p.finish(cmd.Wait()) }()
	return p
}

func (p *Proc) finish(err error) {
	p.err = err
	close(p.done)
}

// Pid returns the process id (0 if it did not start). ip netns exec replaces
// itself with the command, so this is the command's own pid.
func (p *Proc) Pid() int { return p.pid }

// Output returns everything the process wrote to stdout and stderr so far.
func (p *Proc) Output() string { return p.out.String() }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error {
	if p.pid == 0 {
		return errors.New("process not started")
	}
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("signal %v is not a syscall.Signal", sig)
	}
	return syscall.Kill(p.pid, s)
}

// Wait waits up to timeout for the process to exit and returns its exit error
// (nil for exit status 0), or ErrTimeout.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		return ErrTimeout
	}
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, waits up to StopTimeout, then sends
// SIGKILL, and returns the exit error (nil when the process exited with status 0).
func (p *Proc) Stop() error {
	p.terminate()
	if err := p.Wait(StopTimeout); !errors.Is(err, ErrTimeout) {
		return err
	}
	p.kill()
	<-p.done
	return p.err
}

func (p *Proc) terminate() { p.group(syscall.SIGTERM) }
func (p *Proc) kill()      { p.group(syscall.SIGKILL) }

func (p *Proc) group(sig syscall.Signal) {
	if p.pid == 0 || p.Exited() {
		return
	}
	syscall.Kill(-p.pid, sig)
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

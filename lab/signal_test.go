package lab

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("LAB_HELPER") == "1" {
		helperLabProcess()
	}
	os.Exit(m.Run())
}

// helperLabProcess is what the test binary does when TestInterruptTearsDown
// runs it again with LAB_HELPER=1: hold an open lab until a signal arrives.
func helperLabProcess() {
	l, err := Open("helper")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	a := l.Node("a")
	a.Start("sleep", "60")
	if err := l.Err(); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("ready", a.Name())
	time.Sleep(30 * time.Second)
	os.Exit(3) // the signal should have ended us first
}

func TestInterruptTearsDown(t *testing.T) {
	if err := usable(); err != nil {
		t.Skipf("needs root with iproute2: %v", err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "LAB_HELPER=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			f := strings.Fields(line)
			if err != nil || len(f) != 2 || f[0] != "ready" {
				t.Fatalf("helper said %q (%v), want ready <namespace>", line, err)
			}
			ns := f[1]
			if !namespaces(t)[ns] {
				t.Fatalf("namespace %s missing while the helper runs", ns)
			}
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("helper still running 10s after %v", sig)
			}
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("helper exit = %v, want death by %v (re-raised after teardown)", err, sig)
			}
			if namespaces(t)[ns] {
				t.Errorf("namespace %s left after %v", ns, sig)
			}
		})
	}
}

package api

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
)

// TestDialErrorClassification: the errno of a failed connect becomes the
// sentinel a CLI turns into advice (root cannot provoke EACCES for real).
func TestDialErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		want  error
	}{
		{syscall.ENOENT, ErrNotRunning},
		{syscall.ENOTDIR, ErrNotRunning},
		{syscall.ECONNREFUSED, ErrNotRunning},
		{syscall.EACCES, ErrPermission},
		{syscall.EPERM, ErrPermission},
	} {
		err := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", tc.errno)}
		got := dialError("/run/pim6d/pim6d.sock", err)
		if !errors.Is(got, tc.want) || !errors.Is(got, tc.errno) {
			t.Errorf("dialError(%v) = %v, want it to wrap %v and the errno", tc.errno, got, tc.want)
		}
	}
	other := dialError("/x", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EINVAL)})
	if errors.Is(other, ErrNotRunning) || errors.Is(other, ErrPermission) {
		t.Errorf("dialError(EINVAL) = %v, want neither ErrNotRunning nor ErrPermission", other)
	}
}

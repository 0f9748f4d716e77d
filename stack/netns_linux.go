//go:build linux

package stack

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNamespace runs f on a locked OS thread switched into ns, so that sockets f
// opens belong to ns. A zero or negative handle means the current namespace.
// (Shared by every part of the Linux stack that opens sockets.)
func inNamespace(ns netns.NsHandle, f func() error) error {
	if ns <= 0 {
		return f()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		return fmt.Errorf("enter netns: %w", err)
	}
	defer netns.Set(orig)
	return f()
}

package main

import (
	"context"
	"log/slog"

	"github.com/pim6d/pim6d/stack"
)

// openStack returns the opener of the Linux stack of pim6d's network
// namespace: the netlink mirror of links, addresses and routes, the
// control-packet sockets and the forwarder. A non-zero priority runs the
// forwarder's ring threads under SCHED_FIFO (docs/bench/forwarder.md: it is
// what lets user-space forwarding keep up with the kernel's under load).
func openStack(priority int) func(ctx context.Context, log *slog.Logger) (stack.Stack, error) {
	return func(ctx context.Context, log *slog.Logger) (stack.Stack, error) {
		return stack.NewLinux(ctx, stack.LinuxOptions{Logger: log, Forward: true, ForwardPriority: priority})
	}
}

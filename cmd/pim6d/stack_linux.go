package main

import (
	"context"
	"log/slog"

	"github.com/pim6d/pim6d/stack"
)

// openStack opens the Linux stack of pim6d's network namespace: the netlink
// mirror of links, addresses and routes, and the control-packet sockets.
func openStack(ctx context.Context, log *slog.Logger) (stack.Stack, error) {
	st, err := stack.NewLinux(ctx, stack.LinuxOptions{Logger: log, Forward: true})
	if err != nil {
		return nil, err
	}
	return st, nil
}

package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// control is the control socket: a unix socket, root only. For now every
// connection gets one JSON status object; the JSON API for pim6stat and the
// UI replaces serve (requests run on the event loop through call).
type control struct {
	path string
	ln   *net.UnixListener
	log  *slog.Logger
	call func(context.Context, func()) error
	wg   sync.WaitGroup
	stat func() any
}

// Status is what the control socket answers until the JSON API lands.
type Status struct {
	Pid        int      `json:"pid"`
	Config     string   `json:"config"`
	Interfaces []string `json:"interfaces"` // where pim6d runs
}

func listenControl(path string, log *slog.Logger, call func(context.Context, func()) error, stat func() any) (*control, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another pim6d is listening", path)
		}
		os.Remove(path) // stale, from a process that died
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	c := &control{path: path, ln: ln, log: log, call: call, stat: stat}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

func (c *control) accept() {
	defer c.wg.Done()
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.log.Error("accept", "err", err)
			}
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer conn.Close()
			c.serve(conn)
		}()
	}
}

func (c *control) serve(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st any
	if err := c.call(ctx, func() { st = c.stat() }); err != nil {
		return
	}
	if err := json.NewEncoder(conn).Encode(st); err != nil {
		c.log.Debug("control write", "err", err)
	}
}

// close stops accepting, waits for open connections, and removes the socket file.
func (c *control) close() {
	c.ln.Close()
	c.wg.Wait()
	os.Remove(c.path)
}

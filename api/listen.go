package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// Listen claims the control socket at path: it creates the parent directory
// (mode 0755), takes an exclusive lock on path+".lock" so that two daemons
// cannot race for the socket, replaces a stale socket file left by a crashed
// daemon (nobody answers a connect on it) but refuses, with an error wrapping
// ErrInUse, a socket that a live daemon answers on. The socket is created
// under a temporary name, set to mode 0600 and renamed into place, so it is
// never reachable with a looser mode.
func Listen(path string, opts ServeOptions) (*Server, error) {
	opts.fill()
	if path == "" {
		return nil, errors.New("api: empty control socket path")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("api: creating socket directory: %w", err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	stale, err := checkStale(path)
	if err != nil {
		lock.Close()
		return nil, err
	}

	tmp := filepath.Join(dir, fmt.Sprintf(".%d.%d.sock", os.Getpid(), tmpSeq.Add(1)))
	os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("api: listening on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false) // the file is renamed; Close removes it by path
	fail := func(err error) (*Server, error) {
		ln.Close()
		os.Remove(tmp)
		lock.Close()
		return nil, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(fmt.Errorf("api: chmod control socket: %w", err))
	}
	// rename(2) replaces a stale socket atomically.
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("api: placing control socket at %s: %w", path, err))
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(fmt.Errorf("api: control socket: %w", err))
	}
	if stale {
		opts.Logger.Info("replaced a stale control socket", "path", path)
	}
	return &Server{path: path, opts: opts, ln: ln, lock: lock, file: fi}, nil
}

// tmpSeq numbers the temporary socket names of this process.
var tmpSeq atomic.Uint64

// lockFile opens name and takes a non-blocking exclusive flock on it. The lock
// dies with the process, so a crashed daemon never leaves it held.
func lockFile(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("api: opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another pim6d holds %s", ErrInUse, name)
		}
		return nil, fmt.Errorf("api: locking %s: %w", name, err)
	}
	return f, nil
}

// checkStale looks at what is at path: nothing (false, nil), a socket nobody
// answers on (true, nil), a live socket (ErrInUse) or something else (error).
func checkStale(path string) (stale bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("api: control socket: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return false, fmt.Errorf("api: %s exists and is not a socket; refusing to replace it", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return false, fmt.Errorf("%w: a running daemon answers on %s", ErrInUse, path)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true, nil
	}
	return false, fmt.Errorf("api: checking control socket %s: %w", path, err)
}

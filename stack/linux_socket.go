//go:build linux

package stack

import (
	"fmt"
	"os"
	"syscall"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// lxSocket is a non-blocking socket read and written through the runtime
// poller, so that closing it wakes a goroutine blocked on it: that is how
// Close stops the stack's readers.
type lxSocket struct {
	f  *os.File
	rc syscall.RawConn
}

// openSocket creates a socket inside ns, lets setup configure it (setup may
// be nil) and wraps it for the poller.
func openSocket(ns netns.NsHandle, name string, domain, typ, proto int, setup func(fd int) error) (*lxSocket, error) {
	fd := -1
	err := inNamespace(ns, func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		if setup != nil {
			// Inside the namespace: bind and setup see its interfaces.
			return setup(fd)
		}
		return nil
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("%s socket: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s socket: %w", name, err)
	}
	return &lxSocket{f: f, rc: rc}, nil
}

// control runs f with the socket's descriptor (for setsockopt).
func (s *lxSocket) control(f func(fd int) error) error {
	var ferr error
	if err := s.rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// recvmsg blocks until a message arrives or the socket is closed.
func (s *lxSocket) recvmsg(p, oob []byte) (n, oobn, flags int, from unix.Sockaddr, err error) {
	var rerr error
	err = s.rc.Read(func(fd uintptr) bool {
		n, oobn, flags, from, rerr = unix.Recvmsg(int(fd), p, oob, 0)
		return rerr != unix.EAGAIN && rerr != unix.EINTR
	})
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return n, oobn, flags, from, rerr
}

// sendmsg sends one message, waiting while the socket's buffer is full.
func (s *lxSocket) sendmsg(p, oob []byte, to unix.Sockaddr) error {
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), p, oob, to, 0)
		return serr != unix.EAGAIN && serr != unix.EINTR
	})
	if err != nil {
		return err
	}
	return serr
}

func (s *lxSocket) close() error { return s.f.Close() }

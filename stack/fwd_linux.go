//go:build linux

package stack

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// ForwarderOptions configure a Linux Forwarder.
type ForwarderOptions struct {
	Table  *Table
	Logger *slog.Logger
	// NetNS is the namespace whose links the forwarder serves; 0 or -1 means the
	// current one. Every socket is opened inside it.
	NetNS netns.NsHandle
	// Signal receives data signals; it must not block (drop when full).
	Signal func(DataSignal)
	// RingBlocks and RingBlockSize size each link's TPACKET_V3 receive ring
	// (defaults 64 blocks of 128 KiB).
	RingBlocks, RingBlockSize int
	// RetireTimeout is how long the kernel keeps a partly filled receive block
	// before handing it over (default 1 ms, the ring's granularity).
	RetireTimeout time.Duration
	// BusyPoll is how long a ring that just had traffic spins on its next
	// block before sleeping in poll (0: never spin). Spinning saves the
	// poll syscall and the wake-up when blocks follow each other closely, at
	// the price of CPU time that the receive softirq on the same CPU may need.
	BusyPoll time.Duration
	// Priority, when not 0, runs each ring's thread under SCHED_FIFO with this
	// priority (1-99), so that the receive softirq's deferred work
	// (ksoftirqd) cannot starve the forwarder under overload: the kernel's own
	// forwarding runs in that softirq, ahead of every thread. A ring thread
	// sleeps in poll when its ring is empty, so it gives the CPU back.
	Priority int
}

// Forwarder is the user-space multicast data plane on Linux: one TPACKET_V3
// receive ring per multicast link, filtered in the kernel to IPv6 multicast
// wider than link-local, forwarding from the Table.
type Forwarder struct {
	opts ForwarderOptions
	log  *slog.Logger
	core *forwarder
	icmp *icmp.PacketConn // sends Packet Too Big (the kernel routes it)
	// clock is the coarse time (unix ns) the rings set before each block.
	clock atomic.Int64

	mu    sync.Mutex
	rings map[int]*ring
}

// NewForwarder returns a forwarder with no links; SetLinks starts it on links.
func NewForwarder(opts ForwarderOptions) (*Forwarder, error) {
	if opts.Table == nil {
		return nil, errors.New("forwarder: no table")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Signal == nil {
		opts.Signal = func(DataSignal) {}
	}
	if opts.RingBlocks == 0 {
		opts.RingBlocks = 64
	}
	if opts.RingBlockSize == 0 {
		opts.RingBlockSize = 128 << 10
	}
	if opts.RetireTimeout <= 0 {
		opts.RetireTimeout = time.Millisecond
	}
	f := &Forwarder{opts: opts, log: opts.Logger.With("subsys", "forwarder"), rings: map[int]*ring{}}
	// A coarse clock: the rings set it once per block, so a packet costs no
	// clock read. Its users (last-used time, 1 s signal and ICMP rate limits)
	// need nothing finer than a block's retire timeout.
	now := func() int64 {
		if t := f.clock.Load(); t != 0 {
			return t
		}
		return time.Now().UnixNano()
	}
	f.core = newForwarder(opts.Table, now, opts.Signal, f.sendTooBig)
	err := inNamespace(opts.NetNS, func() error {
		c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
		if err != nil {
			return err
		}
		// Send-only: block every ICMPv6 type so nothing queues up unread.
		var none ipv6.ICMPFilter
		none.SetAll(true)
		if err := c.IPv6PacketConn().SetICMPFilter(&none); err != nil {
			c.Close()
			return err
		}
		f.icmp = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("forwarder: icmpv6 socket: %w", err)
	}
	return f, nil
}

// SetLinks makes the forwarder serve exactly the given links that are up,
// multicast-capable and not loopback: rings open for new ones, close for gone
// ones; a changed MTU or MAC takes effect at once.
func (f *Forwarder) SetLinks(links []Link) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[int]Link{}
	for _, l := range links {
		if l.Up && l.Multicast && !l.Loopback && len(l.HardwareAddr) == 6 {
			want[l.Index] = l
		}
	}
	var gone []*ring
	for idx, r := range f.rings {
		if _, ok := want[idx]; !ok {
			gone = append(gone, r)
			delete(f.rings, idx)
		}
	}
	table := make(map[int]*fwdLink, len(want))
	for idx, l := range want {
		r := f.rings[idx]
		if r == nil {
			var err error
			r, err = f.openRing(l)
			if err != nil {
				f.log.Error("cannot forward on link", "link", l.Name, "err", err)
				continue
			}
			f.rings[idx] = r
			f.log.Info("forwarding on link", "link", l.Name, "index", l.Index, "mtu", l.MTU)
		}
		// The link description is replaced, not edited, so readers see a
		// consistent one.
		fl := &fwdLink{index: idx, name: l.Name, mtu: l.MTU, send: r.send, flush: r.tx.flush}
		copy(fl.mac[:], l.HardwareAddr)
		r.link = fl
		table[idx] = fl
	}
	// Publish the links without the gone ones before closing those: another
	// ring's goroutine may be copying a packet to one of them right now, with
	// the old table (its transmit ring refuses frames once closed).
	f.core.setLinks(table)
	for _, r := range gone {
		r.close()
		f.log.Info("stopped forwarding on link", "link", r.link.name)
	}
	for _, r := range f.rings {
		r.start(f.core)
	}
}

// Stats returns the forwarder's counters.
func (f *Forwarder) Stats() ForwarderStats { return f.core.stats() }

// Close stops every ring.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for idx, r := range f.rings {
		r.close()
		delete(f.rings, idx)
	}
	f.core.setLinks(map[int]*fwdLink{})
	return f.icmp.Close()
}

// sendTooBig sends an ICMPv6 Packet Too Big (RFC 4443 §3.2) to the source of
// pkt, quoting as much of it as fits in the minimum MTU.
func (f *Forwarder) sendTooBig(pkt []byte, mtu int) {
	quote := pkt
	if max := 1280 - ipv6HeaderLen - 8; len(quote) > max {
		quote = quote[:max]
	}
	msg := icmp.Message{Type: ipv6.ICMPTypePacketTooBig, Body: &icmp.PacketTooBig{MTU: mtu, Data: quote}}
	b, err := msg.Marshal(nil) // the kernel fills in the checksum on ICMPv6 raw sockets
	if err != nil {
		return
	}
	src := netip.AddrFrom16([16]byte(pkt[8:24]))
	if _, err := f.icmp.WriteTo(b, &net.IPAddr{IP: src.AsSlice()}); err != nil {
		f.log.Debug("packet too big not sent", "to", src, "err", err)
	}
}

// ring is one link's TPACKET_V3 receive ring and transmit socket.
type ring struct {
	fd        int
	mem       []byte
	blockSize int
	blocks    int
	link      *fwdLink // replaced under Forwarder.mu; read by the ring goroutine via core.link
	index     int
	clock     *atomic.Int64 // Forwarder.clock
	busyPoll  time.Duration
	priority  int
	log       *slog.Logger

	tx *txRing

	started atomic.Bool
	stop    atomic.Bool
	done    chan struct{}
}

// txRing is a link's PACKET_TX_RING (TPACKET_V2): copies are queued into its
// frames and handed to the kernel in one send() per batch, instead of one
// write() per copy.
type txRing struct {
	mu        sync.Mutex
	closed    bool // under mu: mem is unmapped, fd closed
	fd        int
	mem       []byte
	frameSize int
	frames    int
	cur       int
	pending   int
}

const (
	txFrameSize = 2048
	txFrames    = 512
	txDataOff   = 32 // TPACKET_ALIGN(sizeof(tpacket2_hdr)): where the frame starts
	txBatch     = 64 // flush at least this often
)

func openTxRing(ns netns.NsHandle, ifindex int) (*txRing, error) {
	t := &txRing{frameSize: txFrameSize, frames: txFrames}
	err := inNamespace(ns, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // protocol 0: receives nothing
		t.fd = fd
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET tx socket: %w", err)
	}
	fail := func(what string, err error) (*txRing, error) {
		unix.Close(t.fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetsockoptInt(t.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return fail("TPACKET_V2", err)
	}
	_ = unix.SetsockoptInt(t.fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	req := unix.TpacketReq{Block_size: uint32(t.frameSize * 16), Block_nr: uint32(t.frames / 16), Frame_size: uint32(t.frameSize), Frame_nr: uint32(t.frames)}
	if err := unix.SetsockoptTpacketReq(t.fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return fail("PACKET_TX_RING", err)
	}
	mem, err := unix.Mmap(t.fd, 0, t.frameSize*t.frames, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap tx ring", err)
	}
	t.mem = mem
	// Protocol 0: a transmit-only socket, so the kernel queues no received frames on it.
	if err := unix.Bind(t.fd, &unix.SockaddrLinklayer{Protocol: 0, Ifindex: ifindex}); err != nil {
		unix.Munmap(mem)
		return fail("bind tx", err)
	}
	return t, nil
}

// queue copies frame into the next free slot; it flushes when the batch is
// full or the ring has no free slot.
func (t *txRing) queue(frame []byte) error {
	if len(frame) > t.frameSize-txDataOff {
		return unix.EMSGSIZE
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return unix.ENETDOWN // the link went away while a copy was on its way
	}
	slot := t.mem[t.cur*t.frameSize : (t.cur+1)*t.frameSize]
	status := (*uint32)(unsafe.Pointer(&slot[0]))
	if atomic.LoadUint32(status) != unix.TP_STATUS_AVAILABLE {
		t.flushLocked()
		if atomic.LoadUint32(status) != unix.TP_STATUS_AVAILABLE {
			return unix.ENOBUFS
		}
	}
	copy(slot[txDataOff:], frame)
	hdr := (*unix.Tpacket2Hdr)(unsafe.Pointer(&slot[0]))
	hdr.Len = uint32(len(frame))
	atomic.StoreUint32(status, unix.TP_STATUS_SEND_REQUEST)
	t.cur = (t.cur + 1) % t.frames
	t.pending++
	if t.pending >= txBatch {
		t.flushLocked()
	}
	return nil
}

func (t *txRing) flush() {
	t.mu.Lock()
	if t.pending > 0 && !t.closed {
		t.flushLocked()
	}
	t.mu.Unlock()
}

func (t *txRing) flushLocked() {
	// One send hands every SEND_REQUEST frame to the driver.
	for {
		err := unix.Sendto(t.fd, nil, unix.MSG_DONTWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	t.pending = 0
}

// close unmaps the ring once no copy is being queued on it; later copies
// are refused (queue returns ENETDOWN).
func (t *txRing) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	unix.Munmap(t.mem)
	unix.Close(t.fd)
	t.mem = nil
}

// multicastFilter passes IPv6 frames to a multicast destination of scope wider
// than link-local that were not sent by this host (PACKET_OUTGOING).
func multicastFilter() ([]bpf.RawInstruction, error) {
	const (
		packetOutgoing = 4
	)
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 6},
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: etherTypeIPv6, SkipTrue: 4},
		bpf.LoadAbsolute{Off: ethHeaderLen + 24, Size: 2}, // first two bytes of the destination
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xff0f},
		bpf.JumpIf{Cond: bpf.JumpLessOrEqual, Val: 0xff02, SkipTrue: 1}, // not multicast, or scope <= 2
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (f *Forwarder) openRing(l Link) (*ring, error) {
	r := &ring{index: l.Index, blockSize: f.opts.RingBlockSize, blocks: f.opts.RingBlocks, done: make(chan struct{}),
		clock: &f.clock, busyPoll: f.opts.BusyPoll, priority: f.opts.Priority, log: f.log}
	err := inNamespace(f.opts.NetNS, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IPV6)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		r.fd = fd
		return nil
	})
	if err != nil {
		return nil, err
	}
	fail := func(what string, err error) (*ring, error) {
		if r.mem != nil {
			unix.Munmap(r.mem)
		}
		unix.Close(r.fd)
		return nil, fmt.Errorf("%s on %s: %w", what, l.Name, err)
	}
	prog, err := multicastFilter()
	if err != nil {
		return fail("assemble filter", err)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	if err := unix.SetsockoptSockFprog(r.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
		return fail("attach filter", err)
	}
	if err := unix.SetsockoptInt(r.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(r.blockSize),
		Block_nr:       uint32(r.blocks),
		Frame_size:     2048,
		Frame_nr:       uint32(r.blockSize / 2048 * r.blocks),
		Retire_blk_tov: uint32(max(1, f.opts.RetireTimeout.Milliseconds())), // hand over a partly filled block quickly (latency)
	}
	if err := unix.SetsockoptTpacketReq3(r.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("PACKET_RX_RING", err)
	}
	mem, err := unix.Mmap(r.fd, 0, r.blockSize*r.blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED)
	if err != nil {
		mem, err = unix.Mmap(r.fd, 0, r.blockSize*r.blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fail("mmap ring", err)
		}
	}
	r.mem = mem
	// Transmit straight to the driver: the qdisc adds nothing for forwarding.
	_ = unix.SetsockoptInt(r.fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	mreq := unix.PacketMreq{Ifindex: int32(l.Index), Type: unix.PACKET_MR_ALLMULTI}
	if err := unix.SetsockoptPacketMreq(r.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fail("allmulti", err)
	}
	if err := unix.Bind(r.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6), Ifindex: l.Index}); err != nil {
		return fail("bind", err)
	}
	tx, err := openTxRing(f.opts.NetNS, l.Index)
	if err != nil {
		return fail("tx ring", err)
	}
	r.tx = tx
	return r, nil
}

func (r *ring) send(frame []byte) error { return r.tx.queue(frame) }

func (r *ring) start(core *forwarder) {
	if r.started.Swap(true) {
		return
	}
	go r.run(core)
}

// spinUntilUser watches a block's status for up to d and reports whether the
// kernel handed the block to user space meanwhile.
func spinUntilUser(status *uint32, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		for range 256 {
			if atomic.LoadUint32(status)&unix.TP_STATUS_USER != 0 {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (r *ring) close() {
	r.stop.Store(true)
	if r.started.Load() {
		<-r.done
	}
	unix.Munmap(r.mem)
	unix.Close(r.fd)
	r.tx.close()
}

// run walks the ring's blocks in order, handing each frame to the core and
// the block back to the kernel.
func (r *ring) run(core *forwarder) {
	defer close(r.done)
	runtime.LockOSThread() // keeps the hot loop on one thread (and its cache)
	if r.priority != 0 {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(r.priority)}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			r.log.Warn("forwarder thread keeps normal priority", "link", r.index, "err", err)
		}
		// The thread's priority must not outlive the ring: a thread with
		// changed attributes is not handed back to the runtime.
	} else {
		defer runtime.UnlockOSThread()
	}
	const blockHdrStatus = 8 // offsetof(tpacket_block_desc, hdr.bh1.block_status)
	pfd := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN | unix.POLLERR}}
	cur := 0
	busy := false // the last block was just handled: traffic is flowing
	for !r.stop.Load() {
		block := r.mem[cur*r.blockSize : (cur+1)*r.blockSize]
		status := (*uint32)(unsafe.Pointer(&block[blockHdrStatus]))
		if atomic.LoadUint32(status)&unix.TP_STATUS_USER == 0 {
			if busy && r.busyPoll > 0 && spinUntilUser(status, r.busyPoll) {
				continue
			}
			busy = false
			// Wake up now and then to notice stop.
			if _, err := unix.Poll(pfd, 100); err != nil && err != unix.EINTR {
				return
			}
			continue
		}
		busy = true
		r.clock.Store(time.Now().UnixNano())
		hdr := (*unix.TpacketHdrV1)(unsafe.Pointer(&block[blockHdrStatus]))
		n := int(hdr.Num_pkts)
		off := int(hdr.Offset_to_first_pkt)
		for i := 0; i < n && off > 0 && off+unix.SizeofTpacket3Hdr <= len(block); i++ {
			ph := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
			start := off + int(ph.Mac)
			end := start + int(ph.Snaplen)
			if end <= len(block) {
				core.forward(r.index, block[start:end], ph.Status&unix.TP_STATUS_CSUMNOTREADY != 0)
			}
			if ph.Next_offset == 0 {
				break
			}
			off += int(ph.Next_offset)
		}
		atomic.StoreUint32(status, unix.TP_STATUS_KERNEL)
		core.flush()
		cur = (cur + 1) % r.blocks
	}
}

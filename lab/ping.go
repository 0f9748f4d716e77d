package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// Ping sends ICMPv6 echo requests from the node to dst, one every 100 ms, until
// a reply arrives or timeout passes. A link-local dst needs its zone.
func (n *Node) Ping(dst netip.Addr, timeout time.Duration) error {
	return n.Do(func() error {
		c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
		if err != nil {
			return fmt.Errorf("ping socket: %w", err)
		}
		defer c.Close()
		id := os.Getpid() & 0xffff
		to := &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}
		deadline := time.Now().Add(timeout)
		buf := make([]byte, 1500)
		for seq := 1; time.Now().Before(deadline); seq++ {
			req := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("pim6d lab")}}
			b, err := req.Marshal(nil) // the kernel fills in the ICMPv6 checksum
			if err != nil {
				return err
			}
			if _, err := c.WriteTo(b, to); err != nil {
				return fmt.Errorf("ping %s: %w", dst, err)
			}
			wait := min(time.Until(deadline), 100*time.Millisecond)
			c.SetReadDeadline(time.Now().Add(wait))
			for {
				m, from, err := c.ReadFrom(buf)
				if err != nil {
					break // read deadline: send the next request
				}
				reply, err := icmp.ParseMessage(58, buf[:m])
				if err != nil || reply.Type != ipv6.ICMPTypeEchoReply {
					continue
				}
				echo, ok := reply.Body.(*icmp.Echo)
				fromIP, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
				if ok && echo.ID == id && fromIP.Unmap() == dst.WithZone("") {
					return nil
				}
			}
		}
		return fmt.Errorf("%s: ping %s: no reply within %v", n.label, dst, timeout)
	})
}

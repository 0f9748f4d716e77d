//go:build linux

package stack

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// nlAttr encodes one route attribute, padded.
func nlAttr(typ uint16, val []byte) []byte {
	b := make([]byte, unix.SizeofRtAttr, unix.SizeofRtAttr+len(val)+3)
	binary.NativeEndian.PutUint16(b[0:], uint16(unix.SizeofRtAttr+len(val)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, val...)
	for len(b)%unix.RTA_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

func nlU32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func a16(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }

// rtmsg builds an RTM_NEWROUTE body.
func rtmsg(dstLen, srcLen int, table, typ uint8, flags uint32, attrs ...[]byte) []byte {
	b := make([]byte, unix.SizeofRtMsg)
	b[0], b[1], b[2], b[4], b[7] = unix.AF_INET6, byte(dstLen), byte(srcLen), table, typ
	binary.NativeEndian.PutUint32(b[8:], flags)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// rtnh builds one struct rtnexthop with a gateway attribute.
func rtnh(flags uint8, ifindex int, gw string) []byte {
	attr := nlAttr(unix.RTA_GATEWAY, a16(gw))
	b := make([]byte, unix.SizeofRtNexthop)
	binary.NativeEndian.PutUint16(b[0:], uint16(len(b)+len(attr)))
	b[2] = flags
	binary.NativeEndian.PutUint32(b[4:], uint32(ifindex))
	return append(b, attr...)
}

func TestParseRouteMsg(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	anySrc := p("::/0")
	tests := []struct {
		name   string
		msg    []byte
		want   kernelRoute
		wantOK bool
	}{
		{
			name: "route via a gateway",
			msg: rtmsg(48, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("2001:db8:99::")), nlAttr(unix.RTA_GATEWAY, a16("fe80::2")),
				nlAttr(unix.RTA_OIF, nlU32(3)), nlAttr(unix.RTA_PRIORITY, nlU32(1024)),
				nlAttr(unix.RTA_TABLE, nlU32(unix.RT_TABLE_MAIN))),
			want: kernelRoute{key: RouteKey{Dst: p("2001:db8:99::/48"), Src: anySrc}, metric: 1024,
				nexthops: []NextHop{{LinkIndex: 3, Gateway: a("fe80::2")}}},
			wantOK: true,
		},
		{
			name: "source-specific route: rtm_src_len and RTA_SRC, not RTA_PREFSRC",
			msg: rtmsg(48, 48, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("2001:db8:a::")), nlAttr(unix.RTA_SRC, a16("2001:db8:b::")),
				nlAttr(unix.RTA_PREFSRC, a16("2001:db8:c::1")), nlAttr(unix.RTA_OIF, nlU32(2))),
			want: kernelRoute{key: RouteKey{Dst: p("2001:db8:a::/48"), Src: p("2001:db8:b::/48")},
				nexthops: []NextHop{{LinkIndex: 2}}},
			wantOK: true,
		},
		{
			name: "default route",
			msg: rtmsg(0, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_GATEWAY, a16("fe80::1")), nlAttr(unix.RTA_OIF, nlU32(2))),
			want: kernelRoute{key: RouteKey{Dst: p("::/0"), Src: anySrc},
				nexthops: []NextHop{{LinkIndex: 2, Gateway: a("fe80::1")}}},
			wantOK: true,
		},
		{
			name: "link-local route is zoned by its link",
			msg: rtmsg(64, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("fe80::")), nlAttr(unix.RTA_OIF, nlU32(7)), nlAttr(unix.RTA_PRIORITY, nlU32(256))),
			want: kernelRoute{key: RouteKey{Dst: p("fe80::/64"), Src: anySrc, Zone: 7}, metric: 256,
				nexthops: []NextHop{{LinkIndex: 7}}},
			wantOK: true,
		},
		{
			name: "multipath without the dead next hop",
			msg: rtmsg(48, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("2001:db8:98::")),
				nlAttr(unix.RTA_MULTIPATH, append(append(rtnh(0, 2, "fe80::2"), rtnh(unix.RTNH_F_DEAD, 3, "fe80::3")...),
					rtnh(unix.RTNH_F_LINKDOWN, 4, "fe80::4")...))),
			want: kernelRoute{key: RouteKey{Dst: p("2001:db8:98::/48"), Src: anySrc},
				nexthops: []NextHop{{LinkIndex: 2, Gateway: a("fe80::2")}, {LinkIndex: 4, Gateway: a("fe80::4")}}},
			wantOK: true,
		},
		{
			name: "local table entry is not mirrored",
			msg: rtmsg(128, 0, unix.RT_TABLE_LOCAL, unix.RTN_LOCAL, 0,
				nlAttr(unix.RTA_DST, a16("fe80::1")), nlAttr(unix.RTA_OIF, nlU32(2))),
		},
		{
			name: "multicast route is not mirrored",
			msg: rtmsg(8, 0, unix.RT_TABLE_MAIN, unix.RTN_MULTICAST, 0,
				nlAttr(unix.RTA_DST, a16("ff00::")), nlAttr(unix.RTA_OIF, nlU32(2))),
		},
		{
			name: "unicast route to a multicast prefix is not mirrored",
			msg: rtmsg(8, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("ff00::")), nlAttr(unix.RTA_OIF, nlU32(2))),
		},
		{
			name: "unreachable route is not mirrored",
			msg:  rtmsg(48, 0, unix.RT_TABLE_MAIN, unix.RTN_UNREACHABLE, 0, nlAttr(unix.RTA_DST, a16("2001:db8::"))),
		},
		{
			name: "other table (RTA_TABLE) is not mirrored",
			msg: rtmsg(48, 0, unix.RT_TABLE_COMPAT, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("2001:db8::")), nlAttr(unix.RTA_TABLE, nlU32(1000))),
		},
		{
			name: "cloned cache entry is not mirrored",
			msg: rtmsg(128, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, unix.RTM_F_CLONED,
				nlAttr(unix.RTA_DST, a16("2001:db8::1")), nlAttr(unix.RTA_OIF, nlU32(2))),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := parseRouteMsg(tc.msg)
			if err != nil {
				t.Fatalf("parseRouteMsg() error = %v", err)
			}
			if ok != tc.wantOK {
				t.Fatalf("parseRouteMsg() ok = %v, want %v (route %+v)", ok, tc.wantOK, got)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(kernelRoute{}),
				cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
				cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); diff != "" {
				t.Errorf("parseRouteMsg() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNetlinkMalformed(t *testing.T) {
	good := rtmsg(48, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0, nlAttr(unix.RTA_DST, a16("2001:db8::")))
	badLen := append([]byte(nil), good...)
	binary.NativeEndian.PutUint16(badLen[unix.SizeofRtMsg:], 200) // attribute longer than the message
	tests := []struct {
		name string
		f    func() error
	}{
		{"short rtmsg", func() error { _, _, err := parseRouteMsg(good[:5]); return err }},
		{"attribute overruns message", func() error { _, _, err := parseRouteMsg(badLen); return err }},
		{"bad multipath length", func() error {
			nh := rtnh(0, 2, "fe80::2")
			nh[0] = 0xff
			_, _, err := parseRouteMsg(rtmsg(48, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
				nlAttr(unix.RTA_DST, a16("2001:db8::")), nlAttr(unix.RTA_MULTIPATH, nh)))
			return err
		}},
		{"short ifinfomsg", func() error { _, _, err := parseLinkMsg(make([]byte, 8)); return err }},
		{"short ifaddrmsg", func() error { _, _, _, err := parseAddrMsg(make([]byte, 4)); return err }},
		{"address without IFA_ADDRESS", func() error {
			b := make([]byte, unix.SizeofIfAddrmsg)
			b[0], b[1] = unix.AF_INET6, 64
			_, _, _, err := parseAddrMsg(b)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.f(); err == nil {
				t.Error("error = nil, want one")
			}
		})
	}
}

func TestParseLinkAndAddrMsg(t *testing.T) {
	li := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(li[4:], 5)
	binary.NativeEndian.PutUint32(li[8:], unix.IFF_UP|unix.IFF_RUNNING|unix.IFF_MULTICAST)
	li = append(li, nlAttr(unix.IFLA_IFNAME, []byte("eth0\x00"))...)
	li = append(li, nlAttr(unix.IFLA_MTU, nlU32(9000))...)
	li = append(li, nlAttr(unix.IFLA_ADDRESS, []byte{2, 0, 0, 0, 0, 1})...)
	l, ok, err := parseLinkMsg(li)
	if err != nil || !ok {
		t.Fatalf("parseLinkMsg() = %v, %v", ok, err)
	}
	want := Link{Index: 5, Name: "eth0", MTU: 9000, HardwareAddr: []byte{2, 0, 0, 0, 0, 1}, Up: true, Multicast: true}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("parseLinkMsg() (-want +got):\n%s", diff)
	}
	// Administratively up without carrier is not Up.
	binary.NativeEndian.PutUint32(li[8:], unix.IFF_UP|unix.IFF_MULTICAST)
	if l, _, _ := parseLinkMsg(li); l.Up {
		t.Errorf("parseLinkMsg(IFF_UP without IFF_RUNNING).Up = true, want false")
	}

	addr := func(flags uint32) []byte {
		b := make([]byte, unix.SizeofIfAddrmsg)
		b[0], b[1] = unix.AF_INET6, 64
		binary.NativeEndian.PutUint32(b[4:], 5)
		b = append(b, nlAttr(unix.IFA_ADDRESS, a16("fe80::1"))...)
		return append(b, nlAttr(unix.IFA_FLAGS, nlU32(flags))...)
	}
	tests := []struct {
		name       string
		flags      uint32
		wantUsable bool
	}{
		{"permanent", unix.IFA_F_PERMANENT, true},
		{"tentative", unix.IFA_F_TENTATIVE, false},
		{"DAD failed", unix.IFA_F_DADFAILED | unix.IFA_F_TENTATIVE, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, usable, ok, err := parseAddrMsg(addr(tc.flags))
			if err != nil || !ok {
				t.Fatalf("parseAddrMsg() = %v, %v", ok, err)
			}
			if want := (Addr{LinkIndex: 5, Prefix: netip.MustParsePrefix("fe80::1/64")}); a != want || usable != tc.wantUsable {
				t.Errorf("parseAddrMsg() = %v usable %v, want %v usable %v", a, usable, want, tc.wantUsable)
			}
		})
	}
}

// FuzzParseNetlink feeds arbitrary message bodies to the link, address and
// route decoders: they must return an error or a value, never panic, and a
// route they accept must be one the table takes.
func FuzzParseNetlink(f *testing.F) {
	f.Add(rtmsg(48, 48, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
		nlAttr(unix.RTA_DST, a16("2001:db8:a::")), nlAttr(unix.RTA_SRC, a16("2001:db8:b::")),
		nlAttr(unix.RTA_OIF, nlU32(2)), nlAttr(unix.RTA_PRIORITY, nlU32(1024))))
	f.Add(rtmsg(64, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, 0,
		nlAttr(unix.RTA_DST, a16("fe80::")), nlAttr(unix.RTA_MULTIPATH, append(rtnh(0, 2, "fe80::2"), rtnh(0, 3, "fe80::3")...))))
	li := make([]byte, unix.SizeofIfInfomsg)
	li[4] = 1
	f.Add(append(li, nlAttr(unix.IFLA_IFNAME, []byte("eth0\x00"))...))
	ai := make([]byte, unix.SizeofIfAddrmsg)
	ai[0], ai[1], ai[4] = unix.AF_INET6, 64, 1
	f.Add(append(ai, nlAttr(unix.IFA_ADDRESS, a16("fe80::1"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseLinkMsg(b)
		parseAddrMsg(b)
		kr, ok, err := parseRouteMsg(b)
		if err != nil || !ok || len(kr.nexthops) == 0 {
			return
		}
		m := newRouteMirror()
		m.add(kr, false)
		table := NewTable()
		for _, ev := range m.flush(table, slog.New(slog.DiscardHandler)) {
			if _, ok := table.Get(ev.Route.Dst, ev.Route.Src, ev.Route.Zone); !ok {
				t.Fatalf("route %v reported but not in the table", ev.Route.String())
			}
		}
	})
}

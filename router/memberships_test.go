package router

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6d/pim6d/mld"
	"github.com/pim6d/pim6d/pim"
)

// TestMembershipsFromListenerStates checks the translation of MLD's listener
// state changes (new state and the one reported before) into PIM's per-source membership changes (RFC 7761 §4.1.6
// local_receiver_include / local_receiver_exclude).
func TestMembershipsFromListenerStates(t *testing.T) {
	g := netip.MustParseAddr("ff1e::1")
	a, b, c := netip.MustParseAddr("2001:db8::a"), netip.MustParseAddr("2001:db8::b"), netip.MustParseAddr("2001:db8::c")
	any := netip.IPv6Unspecified()
	m := func(s netip.Addr, mode pim.MembershipMode) pim.LocalMembership {
		return pim.LocalMembership{Interface: 3, Group: g, Source: s, Mode: mode}
	}
	steps := []struct {
		name string
		l    mld.Listener
		want []pim.LocalMembership
	}{
		{"INCLUDE {a,b}", mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Include, Sources: []netip.Addr{a, b}},
			[]pim.LocalMembership{m(a, pim.MembershipInclude), m(b, pim.MembershipInclude)}},
		{"INCLUDE {b,c}: a leaves, c joins", mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Include, Sources: []netip.Addr{b, c}},
			[]pim.LocalMembership{m(a, pim.MembershipNone), m(c, pim.MembershipInclude)}},
		{"EXCLUDE {c}: any source but c", mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Exclude, Sources: []netip.Addr{c}},
			[]pim.LocalMembership{m(any, pim.MembershipInclude), m(b, pim.MembershipNone), m(c, pim.MembershipExclude)}},
		{"unchanged state: no change", mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Exclude, Sources: []netip.Addr{c}}, nil},
		{"gone", mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Include},
			[]pim.LocalMembership{m(any, pim.MembershipNone), m(c, pim.MembershipNone)}},
	}
	c0 := &Core{}
	was := mld.Listener{LinkIndex: 3, Group: g, Mode: mld.Include}
	for _, st := range steps {
		got := c0.memberships([]mld.ListenerChange{{Listener: st.l, Was: was}})
		if diff := cmp.Diff(st.want, got, cmpopts.EquateEmpty(), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("%s: memberships (-want +got):\n%s", st.name, diff)
		}
		was = st.l
	}
}

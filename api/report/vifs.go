package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pim6d/pim6d/api"
)

// interfaces writes the Multicast Interface Table (KAME dump_vifs): one row
// per address, the first with mif, PhyIF, GenID and flags, then the timers and
// the possible MLD versions.
func (r *renderer) interfaces() {
	r.printf("Multicast Interface Table\n %-4s %-6s %-43s %5s %-8s %-14s\n",
		"Mif", " PhyIF", "Local-Address/Prefixlen", "Scope", "GenID", "Flags")
	ifs := slices.Clone(r.s.Interfaces)
	slices.SortStableFunc(ifs, func(a, b api.Interface) int { return cmp.Compare(a.Index, b.Index) })
	for _, ifc := range ifs {
		addrs := ifc.Addresses
		if len(addrs) == 0 {
			addrs = []string{""} // still show the mif and its flags
		}
		for n, a := range addrs {
			if n > 0 {
				r.printf("  %3s %6s %-43s %-5d\n", "", "", a, scope(a, ifc.IfIndex))
				continue
			}
			r.printf("  %-3d %6s %-43s %-5d %-8x", ifc.Index, r.phyif(ifc.Name), a, scope(a, ifc.IfIndex), ifc.GenID)
			for _, f := range ordered(ifc.Flags, api.InterfaceFlagOrder) {
				r.printf(" %s", f)
			}
			r.printf("\n")
		}
		r.printf("  %3s %6s Timers: PIM hello = %s, MLD query = %s\n", "", "", minSec(ifc.HelloTimer), minSec(ifc.QueryTimer))
		var vers strings.Builder
		for _, v := range ifc.MLDVersions {
			fmt.Fprintf(&vers, "%d ", v)
		}
		r.printf("  %3s %6s possible MLD version = %s\n", "", "", vers.String())
	}
	r.printf("\n")
}

// scope is KAME's Scope column: the link index for link-local addresses, 0
// otherwise.
func scope(addr string, ifindex int) int {
	p, err := netip.ParsePrefix(addr)
	if err != nil {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return 0
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().IsLinkLocalUnicast() {
		return ifindex
	}
	return 0
}

// byMif sorts items by the mif of their interface, keeping the given order
// within one interface.
func byMif[T any](r *renderer, items []T, iface func(T) string) []T {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(r.mifIndex(iface(a)), r.mifIndex(iface(b))) })
	return out
}

// neighbors writes the PIM Neighbor List (KAME dump_nbrs): per mif, one row
// per neighbour with its timer, DR priority and GenID ("-" when its Hellos
// lack the option) and "D" for the DR, its secondary addresses below.
func (r *renderer) neighbors() {
	r.printf("PIM Neighbor List\n")
	r.printf(" %-3s %6s %-40s %-5s %-4s %-8s %-5s\n", "Mif", "PhyIF", "Address", "Timer", "Prio", "GenID", "Flags")
	prev := "\x00"
	for _, n := range byMif(r, r.s.Neighbors, func(n api.Neighbor) string { return n.Interface }) {
		if n.Interface != prev {
			r.printf(" %-3s %6s", mifLabel(r.mifIndex(n.Interface)), r.phyif(n.Interface))
			prev = n.Interface
		} else {
			r.printf(" %3s %6s", "", "")
		}
		timer := "never"
		if t := secs(n.Expires); t >= 0 {
			timer = fmt.Sprint(t)
		}
		r.printf(" %-40s %-5s", n.Address, timer)
		if n.DRPriority != nil {
			r.printf(" %-4d", *n.DRPriority)
		} else {
			r.printf(" %-4s", "-")
		}
		if n.GenID != nil {
			r.printf(" %-8x", *n.GenID)
		} else {
			r.printf(" %-8s", "-")
		}
		if n.DR {
			r.printf(" D")
		}
		r.printf("\n")
		for _, a := range n.Secondary {
			r.printf("%16s%s\n", "", a)
		}
	}
	r.printf("\n")
}

func mifLabel(i int) string {
	if i < 0 {
		return "?"
	}
	return fmt.Sprint(i)
}

// queriers writes the MLD Querier List (KAME dump_mldqueriers).
func (r *renderer) queriers() {
	r.printf("MLD Querier List\n")
	r.printf(" %-3s %6s %-40s %-5s %15s\n", "Mif", "PhyIF", "Address", "Timer", "Last")
	for _, q := range byMif(r, r.s.Queriers, func(q api.Querier) string { return q.Interface }) {
		r.printf(" %-3s %6s %-40s %5d %15s\n", mifLabel(r.mifIndex(q.Interface)), r.phyif(q.Interface), q.Address, secs(q.Timer), sec2str(q.Last))
	}
	r.printf("\n")
}

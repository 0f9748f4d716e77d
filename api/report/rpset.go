package report

import "github.com/pim6d/pim6d/api"

// rpSet writes the RP-Set (KAME dump_rp_set): the current BSR, then each RP
// with its upstream (neighbour%interface, "myself" or "none") and the group
// prefixes it serves with priority, advertised holdtime and time left. With no
// BSR known the BSR line reads "::", as in KAME.
func (r *renderer) rpSet() {
	r.printf("---------------------------RP-Set----------------------------\n")
	bsr := api.BSR{Address: "::"}
	if r.s.BSR != nil {
		bsr = *r.s.BSR
	}
	r.printf("Current BSR address: %s Prio: %d Timeout: %d\n", bsr.Address, bsr.Priority, secs(bsr.Timeout))
	r.printf("%-45s Prio Hold Age\n", "RP-address(Upstream)/Group prefix")
	for _, rp := range r.s.RPSet {
		switch {
		case rp.Upstream != "":
			r.printf("%s(%s%%%s)\n", rp.Address, rp.Upstream, rp.Interface)
		case rp.Self:
			r.printf("%s(myself)\n", rp.Address)
		default:
			r.printf("%s(none)\n", rp.Address)
		}
		for _, g := range rp.Groups {
			r.printf("%4s %-40s %-4d %-4d %-3d\n", "", g.Prefix, g.Priority, secs(g.Hold), secs(g.Expires))
		}
	}
	r.printf("\n")
}

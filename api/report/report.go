package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"

	"github.com/pim6d/pim6d/api"
)

// Classic writes the whole report: every section, in KAME's order.
func Classic(w io.Writer, s *api.Snapshot) error {
	return Write(w, s, nil)
}

// Write writes the report sections for the given snapshot sections, in report
// order; nil means all. The BSR line belongs to the RP-Set section, which is
// written when SectionRPSet or SectionBSR is asked for. Every section numbers
// interfaces by their mif, so s should carry its Interfaces even when they are
// not printed.
func Write(w io.Writer, s *api.Snapshot, sections []api.Section) error {
	want := func(sec api.Section) bool { return sections == nil || slices.Contains(sections, sec) }
	r := newRenderer(s)
	if want(api.SectionInterfaces) {
		r.interfaces()
	}
	if want(api.SectionNeighbors) {
		r.neighbors()
	}
	if want(api.SectionQueriers) {
		r.queriers()
	}
	if want(api.SectionGroups) {
		r.groups()
	}
	if want(api.SectionRoutes) {
		r.routes()
	}
	if want(api.SectionRPSet) || want(api.SectionBSR) {
		r.rpSet()
	}
	if want(api.SectionTimers) {
		r.timers()
	}
	if want(api.SectionSummary) {
		r.summary()
	}
	_, err := w.Write(trimLines(r.buf.Bytes()))
	return err
}

// renderer accumulates the report and knows the mif numbering.
type renderer struct {
	s    *api.Snapshot
	buf  bytes.Buffer
	mif  map[string]int           // interface name -> mif index
	ifc  map[string]api.Interface // interface name -> interface
	nmif int                      // number of mifs (highest index + 1)
}

func newRenderer(s *api.Snapshot) *renderer {
	r := &renderer{s: s, mif: map[string]int{}, ifc: map[string]api.Interface{}}
	for _, i := range s.Interfaces {
		r.mif[i.Name] = i.Index
		r.ifc[i.Name] = i
		r.nmif = max(r.nmif, i.Index+1)
	}
	return r
}

func (r *renderer) printf(format string, args ...any) { fmt.Fprintf(&r.buf, format, args...) }

// phyif is the PhyIF column: KAME shows the register mif as "regist".
func (r *renderer) phyif(name string) string {
	if i, ok := r.ifc[name]; ok && slices.Contains(i.Flags, api.IfRegister) {
		return "regist"
	}
	return name
}

// mifIndex returns the mif of an interface name, or -1 if the snapshot has no
// such interface.
func (r *renderer) mifIndex(name string) int {
	if i, ok := r.mif[name]; ok {
		return i
	}
	return -1
}

// mifString is KAME's one-character-per-mif string: c at the mif of each of
// names, '.' elsewhere.
func (r *renderer) mifString(names []string, c byte) string {
	b := bytes.Repeat([]byte{'.'}, r.nmif)
	for _, n := range names {
		if i := r.mifIndex(n); i >= 0 && i < len(b) {
			b[i] = c
		}
	}
	return string(b)
}

// secs is a timer as whole seconds, rounded up so that a running timer never
// reads 0; negative values (never) pass through as -1.
func secs(s api.Seconds) int {
	if s < 0 {
		return -1
	}
	return int(math.Ceil(float64(s) - 1e-9))
}

// minSec formats a timer as KAME's m:ss.
func minSec(s api.Seconds) string {
	n := secs(s)
	if n < 0 {
		return "-"
	}
	return fmt.Sprintf("%d:%02d", n/60, n%60)
}

// sec2str formats an age as KAME's sec2str: 1d2h3m4s, leading zero units
// omitted.
func sec2str(s api.Seconds) string {
	total := int(math.Floor(float64(s)))
	if total < 0 {
		total = 0
	}
	days, hours, mins, sec := total/86400, total/3600%24, total/60%60, total%60
	out := ""
	if days > 0 {
		out += fmt.Sprintf("%dd", days)
	}
	if out != "" || hours > 0 {
		out += fmt.Sprintf("%dh", hours)
	}
	if out != "" || mins > 0 {
		out += fmt.Sprintf("%dm", mins)
	}
	return out + fmt.Sprintf("%ds", sec)
}

// ordered returns flags in the canonical order, unknown ones last.
func ordered(flags, order []string) []string {
	var out []string
	for _, f := range order {
		if slices.Contains(flags, f) {
			out = append(out, f)
		}
	}
	for _, f := range flags {
		if !slices.Contains(order, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// compareAddr orders address strings numerically (unparsable ones last, by
// text).
func compareAddr(a, b string) int {
	pa, ea := netip.ParseAddr(a)
	pb, eb := netip.ParseAddr(b)
	switch {
	case ea == nil && eb == nil:
		return pa.Compare(pb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// trimLines removes trailing spaces from every line, in place.
func trimLines(b []byte) []byte {
	out := b[:0]
	for len(b) > 0 {
		line, rest, found := bytes.Cut(b, []byte("\n"))
		out = append(out, bytes.TrimRight(line, " ")...)
		if found {
			out = append(out, '\n')
		}
		b = rest
	}
	return out
}

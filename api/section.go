package api

import (
	"context"
	"fmt"
	"slices"
)

// Section names one part of a snapshot; its value is the JSON key.
type Section string

// The sections of a snapshot, in the order of the classic report.
const (
	SectionInterfaces Section = "interfaces"
	SectionNeighbors  Section = "neighbors"
	SectionQueriers   Section = "queriers"
	SectionGroups     Section = "groups"
	SectionRoutes     Section = "routes"
	SectionRPSet      Section = "rp_set"
	SectionBSR        Section = "bsr"
	SectionTimers     Section = "timers"
	// SectionSummary counts the state instead of listing it: cheap to ask
	// for at any scale, e.g. to watch a large intake.
	SectionSummary Section = "summary"
)

// AllSections lists every section in report order.
var AllSections = []Section{
	SectionInterfaces, SectionNeighbors, SectionQueriers, SectionGroups,
	SectionRoutes, SectionRPSet, SectionBSR, SectionTimers, SectionSummary,
}

// ParseSections checks names and returns them as sections in report order,
// without duplicates; no names means all sections.
func ParseSections(names []string) ([]Section, error) {
	if len(names) == 0 {
		return slices.Clone(AllSections), nil
	}
	want := make(map[Section]bool, len(names))
	for _, n := range names {
		s := Section(n)
		if !slices.Contains(AllSections, s) {
			return nil, fmt.Errorf("unknown section %q (want one of %v)", n, AllSections)
		}
		want[s] = true
	}
	var out []Section
	for _, s := range AllSections {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

type sectionsKey struct{}

// WithSections returns a context that tells a Provider which sections the
// client asked for, so it may skip the work of the others.
func WithSections(ctx context.Context, sections []Section) context.Context {
	return context.WithValue(ctx, sectionsKey{}, sections)
}

// WantSection reports whether the request behind ctx asked for s (true when
// ctx says nothing: a provider then fills everything).
func WantSection(ctx context.Context, s Section) bool {
	secs, ok := ctx.Value(sectionsKey{}).([]Section)
	if !ok {
		return true
	}
	return slices.Contains(secs, s)
}

// Filter keeps only the given sections of s (the others become empty) and
// records them in s.Sections.
func (s *Snapshot) Filter(sections []Section) {
	keep := func(sec Section) bool { return slices.Contains(sections, sec) }
	if !keep(SectionInterfaces) {
		s.Interfaces = nil
	}
	if !keep(SectionNeighbors) {
		s.Neighbors = nil
	}
	if !keep(SectionQueriers) {
		s.Queriers = nil
	}
	if !keep(SectionGroups) {
		s.Groups = nil
	}
	if !keep(SectionRoutes) {
		s.Routes = nil
	}
	if !keep(SectionRPSet) {
		s.RPSet = nil
	}
	if !keep(SectionBSR) {
		s.BSR = nil
	}
	if !keep(SectionTimers) {
		s.Timers = nil
	}
	if !keep(SectionSummary) {
		s.Summary = Summary{}
	}
	s.Sections = slices.Clone(sections)
}

// Normalize replaces nil lists and maps by empty ones, so that the JSON always
// carries [] and {} rather than null (the documented form). Only BSR, and a
// neighbour's optional dr_priority and gen_id, may be null.
func (s *Snapshot) Normalize() {
	s.Sections = orEmpty(s.Sections)
	s.Interfaces = orEmpty(s.Interfaces)
	for i := range s.Interfaces {
		x := &s.Interfaces[i]
		x.Addresses = orEmpty(x.Addresses)
		x.Flags = orEmpty(x.Flags)
		x.MLDVersions = orEmpty(x.MLDVersions)
	}
	s.Neighbors = orEmpty(s.Neighbors)
	for i := range s.Neighbors {
		s.Neighbors[i].Secondary = orEmpty(s.Neighbors[i].Secondary)
	}
	s.Queriers = orEmpty(s.Queriers)
	s.Groups = orEmpty(s.Groups)
	for i := range s.Groups {
		g := &s.Groups[i]
		g.Sources = orEmpty(g.Sources)
		if g.SourceTimers == nil {
			g.SourceTimers = map[string]Seconds{}
		}
	}
	s.Routes = orEmpty(s.Routes)
	for i := range s.Routes {
		r := &s.Routes[i]
		r.OIFs = orEmpty(r.OIFs)
		r.Flags = orEmpty(r.Flags)
		r.Joined = orEmpty(r.Joined)
		r.Pruned = orEmpty(r.Pruned)
		r.Leaves = orEmpty(r.Leaves)
		r.Asserted = orEmpty(r.Asserted)
		if r.OIFTimers == nil {
			r.OIFTimers = map[string]Seconds{}
		}
	}
	s.RPSet = orEmpty(s.RPSet)
	for i := range s.RPSet {
		s.RPSet[i].Groups = orEmpty(s.RPSet[i].Groups)
	}
	s.Timers = orEmpty(s.Timers)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package mld

import (
	"iter"
	"net/netip"
)

// smallSourceSet is how many sources a group keeps in a plain list before it
// indexes them in a map. Most groups have a handful of sources (SSM receivers
// join one or two); a map costs ~300 bytes even for one entry, which at
// 100,000 groups would be most of MLD's memory.
const smallSourceSet = 8

// sourceSet is a group's source records: a list while small, a map once large
// (so a flood of sources into one group stays O(1) per source).
type sourceSet struct {
	list  []*source
	index map[netip.Addr]*source
}

func (ss *sourceSet) len() int {
	if ss.index != nil {
		return len(ss.index)
	}
	return len(ss.list)
}

// get returns the record of addr, or nil.
func (ss *sourceSet) get(addr netip.Addr) *source {
	if ss.index != nil {
		return ss.index[addr]
	}
	for _, s := range ss.list {
		if s.ip == addr.As16() {
			return s
		}
	}
	return nil
}

// add inserts s, which must not be in the set.
func (ss *sourceSet) add(s *source) {
	if ss.index == nil && len(ss.list) < smallSourceSet {
		ss.list = append(ss.list, s)
		return
	}
	if ss.index == nil {
		ss.index = make(map[netip.Addr]*source, smallSourceSet+1)
		for _, o := range ss.list {
			ss.index[o.address()] = o
		}
		ss.list = nil
	}
	ss.index[s.address()] = s
}

// remove deletes s from the set.
func (ss *sourceSet) remove(s *source) {
	if ss.index != nil {
		delete(ss.index, s.address())
		return
	}
	for i, o := range ss.list {
		if o == s {
			last := len(ss.list) - 1
			ss.list[i] = ss.list[last]
			ss.list[last] = nil
			ss.list = ss.list[:last]
			return
		}
	}
}

// all yields every record. The record just yielded may be removed during
// the iteration (the list is walked from its end, so the swap-remove moves an
// already visited record); no other may.
func (ss *sourceSet) all() iter.Seq[*source] {
	return func(yield func(*source) bool) {
		if ss.index != nil {
			for _, s := range ss.index {
				if !yield(s) {
					return
				}
			}
			return
		}
		for i := len(ss.list) - 1; i >= 0; i-- {
			if i >= len(ss.list) {
				continue
			}
			if !yield(ss.list[i]) {
				return
			}
		}
	}
}

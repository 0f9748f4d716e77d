package mfib

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/pim6d/pim6d/stack"
)

// routes lists the table's multicast routes as strings, in table order.
func routes(tb *stack.Table) []string {
	var out []string
	tb.Walk(func(r *stack.Route) bool {
		if r.Kind == stack.KindMulticast {
			out = append(out, fmt.Sprintf("%v %v iif %d oifs %v flags %#x", r.Dst, r.Src, r.IIF, r.OIFs, r.Flags))
		}
		return true
	})
	slices.Sort(out)
	return out
}

func group(i int) netip.Addr {
	b := netip.MustParseAddr("ff3e::").As16()
	b[14], b[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}

// churn drives an MFIB through sets, updates and deletes of the same keys,
// committing every 39 writes as the event loop does once per packet.
func churn(m *MFIB) {
	oifs := []int{2, 3}
	n := 0
	commit := func() {
		if n++; n%39 == 0 {
			m.Commit()
		}
	}
	for i := range 2000 {
		m.Set(Entry{Source: src, Group: group(i), IIF: 1, OIFs: oifs})
		commit()
	}
	for i := 0; i < 2000; i += 3 {
		m.Delete(Key{src, group(i)})
		commit()
	}
	for i := 0; i < 2000; i += 6 { // deleted above: set again, with new OIFs
		m.Set(Entry{Source: src, Group: group(i), IIF: 1, OIFs: []int{4}, Flags: stack.FlagNotifyData})
		commit()
	}
	for i := 1; i < 2000; i += 5 {
		m.Set(Entry{Source: src, Group: group(i), IIF: 2, OIFs: nil})
		commit()
	}
	m.Set(Entry{Group: group(5000), IIF: 1, OIFs: []int{3}}) // (*,G)
	m.Commit()
}

// The writer writes the table in the order Set and Delete were called: the
// table ends exactly as a synchronous MFIB leaves it.
func TestWriterEndsWithTheTableTheWritesDescribe(t *testing.T) {
	syncTable, asyncTable := stack.NewTable(), stack.NewTable()
	ms, _ := New(syncTable, DefaultSSMRanges())
	ma, _ := New(asyncTable, DefaultSSMRanges(), WithWriter(nil))
	defer ma.Close()
	churn(ms)
	churn(ma)
	ma.Sync()
	want, got := routes(syncTable), routes(asyncTable)
	if !slices.Equal(got, want) {
		t.Fatalf("table written by the writer differs: %d routes, want %d\nfirst got:  %v\nfirst want: %v", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	if ma.Len() != ms.Len() || ms.Len() != len(want) {
		t.Errorf("Len: writer %d, synchronous %d, table %d", ma.Len(), ms.Len(), len(want))
	}
	if ma.WriteErrors() != 0 {
		t.Errorf("WriteErrors = %d", ma.WriteErrors())
	}
}

// Set returns at once with a writer: the entry reaches the table once
// committed, and the caller's OIF slice (which PIM reuses for its next
// changes) is free again as soon as Set returns.
func TestWriterCopiesTheEntryAndWritesItOnceCommitted(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges(), WithWriter(nil))
	defer m.Close()
	oifs := []int{2, 3}
	if err := m.Set(Entry{Source: src, Group: ssmG, IIF: 1, OIFs: oifs}); err != nil {
		t.Fatal(err)
	}
	oifs[0], oifs[1] = 7, 8
	if _, _, ok := m.Get(Key{src, ssmG}); ok {
		t.Fatal("entry in the table before Commit")
	}
	m.Commit()
	m.Sync()
	e, _, ok := m.Get(Key{src, ssmG})
	if !ok || !slices.Equal(e.OIFs, []int{2, 3}) || e.IIF != 1 {
		t.Fatalf("after Sync: %+v (found %v), want iif 1 oifs [2 3]", e, ok)
	}
	if m.Len() != 1 {
		t.Errorf("Len = %d, want 1", m.Len())
	}
}

// A bad entry is refused by Set itself, with a writer too: nothing the writer
// is given can fail in the table.
func TestWriterRefusesBadEntriesInSet(t *testing.T) {
	m, _ := New(stack.NewTable(), DefaultSSMRanges(), WithWriter(nil))
	defer m.Close()
	for _, e := range []Entry{
		{Source: src, Group: netip.MustParseAddr("2001:db8::1")},
		{Source: src, Group: netip.MustParseAddr("224.1.1.1")},
		{Source: netip.MustParseAddr("10.0.0.1"), Group: ssmG},
	} {
		if err := m.Set(e); err == nil {
			t.Errorf("Set(%v, %v) accepted", e.Source, e.Group)
		}
	}
	m.Set(Entry{Source: src, Group: ssmG, IIF: 1, OIFs: []int{2}})
	m.Delete(Key{Source: src})                                    // no group
	m.Delete(Key{Source: src, Group: netip.MustParseAddr("::1")}) // not multicast
	m.Sync()
	if m.Len() != 1 || m.WriteErrors() != 0 {
		t.Errorf("Len %d, WriteErrors %d after refused entries and deletes of keys that cannot be entries; want 1 and 0", m.Len(), m.WriteErrors())
	}
}

// A writer that falls behind makes Commit wait instead of letting the queue
// grow: the queue holds at most the bound plus one commit's writes.
func TestWriterBoundsItsQueue(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges(), WithWriter(nil))
	defer m.Close()
	const bound = 64
	m.w.max = bound
	longest := 0
	for i := range 20000 {
		m.Set(Entry{Source: src, Group: group(i), IIF: 1, OIFs: []int{2}})
		if i%39 == 38 {
			m.Commit()
			m.w.mu.Lock()
			longest = max(longest, len(m.w.queued.writes))
			m.w.mu.Unlock()
		}
	}
	m.Sync()
	if longest > bound+39 {
		t.Errorf("queue reached %d writes, bound %d (+39 of one commit)", longest, bound)
	}
	if m.Len() != 20000 { // Sync commits the last, partial batch too
		t.Errorf("Len = %d after Sync, want 20000", m.Len())
	}
}

// Close writes what was queued, even uncommitted, then removes every route
// the MFIB installed and ends the writer.
func TestWriterCloseDrainsThenRemovesEverything(t *testing.T) {
	tb := stack.NewTable()
	m, _ := New(tb, DefaultSSMRanges(), WithWriter(nil))
	for i := range 100 {
		m.Set(Entry{Source: src, Group: group(i), IIF: 1, OIFs: []int{2}})
	}
	w := m.w
	m.Close()
	select {
	case <-w.done:
	default:
		t.Fatal("writer goroutine still running after Close")
	}
	if n := tb.Len(); n != 0 {
		t.Errorf("table holds %d routes after Close, want 0", n)
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d after Close", m.Len())
	}
}

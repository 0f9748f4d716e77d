package router

import (
	"fmt"
	"testing"
)

// TestMifNumbersFollowInterfaceOrder: a Core numbers its multicast interfaces
// in the system's link order (as KAME's pim6dd does), so pim6stat's
// one-character-per-mif columns read the same on every run. Ranging over a
// map gave a random order (seen in the e2e lab as eth1 = mif 0 once in a while).
func TestMifNumbersFollowInterfaceOrder(t *testing.T) {
	for run := range 20 {
		l := newLab(t)
		r := l.addRouter("r1", "a", "b", "c", "d", "e", "f")
		l.start()
		snap := r.core.Snapshot(l.now())
		if len(snap.Interfaces) != 6 {
			t.Fatalf("run %d: %d interfaces, want 6", run, len(snap.Interfaces))
		}
		for i, ifc := range snap.Interfaces {
			if want := fmt.Sprintf("eth%d", i); ifc.Name != want || ifc.Index != i {
				t.Fatalf("run %d: mif %d is %s (index %d), want %s", run, i, ifc.Name, ifc.Index, want)
			}
		}
	}
}

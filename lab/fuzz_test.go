package lab

import (
	"os"
	"testing"
)

// FuzzParse checks that no topology description makes Parse panic and that
// an accepted one names only known nodes at its link ends.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"../configs/labs/ssm-demo.yaml", "../configs/labs/lan-two-routers.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("nodes: [{name: a}]\nlinks: [{a: a:x, b: a:y}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		nodes := map[string]bool{}
		for _, n := range d.Nodes {
			nodes[n.Name] = true
		}
		for _, l := range d.Links {
			for _, e := range []string{l.A, l.B} {
				if n, _, ok := splitEnd(e); !ok || !nodes[n] {
					t.Fatalf("accepted link end %q without a known node", e)
				}
			}
		}
	})
}

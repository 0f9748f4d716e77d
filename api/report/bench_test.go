package report_test

import (
	"io"
	"testing"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
	"github.com/pim6d/pim6d/api/report"
)

const benchRoutes = 100_000

// BenchmarkReport100k renders the routing table of 100,000 (S,G) entries in
// the classic layout (pim6stat -r).
func BenchmarkReport100k(b *testing.B) {
	s := apitest.ManySG(benchRoutes)
	b.ReportAllocs()
	for b.Loop() {
		if err := report.Write(io.Discard, s, []api.Section{api.SectionRoutes}); err != nil {
			b.Fatal(err)
		}
	}
}

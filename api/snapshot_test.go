package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func marshalIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("json.MarshalIndent: %v", err)
	}
	return append(b, '\n')
}

// TestSnapshotJSONGolden pins the JSON encoding of a snapshot: renaming a
// field, changing its type or its nullability fails here. The schema is a
// public interface (docs/pim6stat-json.md); update the golden file only
// together with the document (and Version, if a key is renamed or removed).
func TestSnapshotJSONGolden(t *testing.T) {
	s := apitest.Sample()
	s.Normalize()
	got := marshalIndent(t, s)
	golden := filepath.Join("testdata", "snapshot.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("snapshot JSON differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestSnapshotJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap *api.Snapshot
	}{
		{"sample", apitest.Sample()},
		{"empty", &api.Snapshot{Version: api.Version, TakenAt: apitest.TakenAt}},
		{"many (S,G)", apitest.ManySG(100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.snap.Normalize()
			b, err := json.Marshal(tc.snap)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			var back api.Snapshot
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if diff := cmp.Diff(tc.snap, &back); diff != "" {
				t.Errorf("snapshot after a JSON round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSnapshotJSONKeys checks the keys the issue promises to scripts, one by
// one, so that the failure names the missing key.
func TestSnapshotJSONKeys(t *testing.T) {
	s := apitest.Sample()
	s.Normalize()
	var doc map[string]any
	if err := json.Unmarshal(marshalIndent(t, s), &doc); err != nil {
		t.Fatal(err)
	}
	first := func(key string) map[string]any {
		list, ok := doc[key].([]any)
		if !ok || len(list) == 0 {
			t.Fatalf("snapshot key %q = %v, want a non-empty list", key, doc[key])
		}
		return list[0].(map[string]any)
	}
	for _, tc := range []struct {
		name string
		obj  map[string]any
		keys []string
	}{
		{"snapshot", doc, []string{"version", "interfaces", "neighbors", "queriers", "groups", "routes", "rp_set", "bsr", "timers"}},
		{"interface", first("interfaces"), []string{"name", "index", "addresses", "flags", "hello_timer", "query_timer", "mld_versions"}},
		{"neighbor", first("neighbors"), []string{"interface", "address", "secondary", "dr_priority", "gen_id", "expires"}},
		{"querier", first("queriers"), []string{"interface", "address", "timer", "last"}},
		{"group", first("groups"), []string{"interface", "group", "mode", "version", "sources", "timer", "compat_timer", "source_timers"}},
		{"route", first("routes"), []string{"source", "group", "rp", "iif", "oifs", "upstream", "flags", "packets", "bytes", "joined", "pruned", "leaves", "asserted", "entry_timer", "join_prune_timer", "register_stop_timer", "assert_timer", "oif_timers"}},
		{"rp", first("rp_set"), []string{"rp", "upstream", "groups"}},
		{"bsr", doc["bsr"].(map[string]any), []string{"address", "priority", "timeout"}},
		{"timer", first("timers"), []string{"id", "name", "expires"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range tc.keys {
				if _, ok := tc.obj[k]; !ok {
					t.Errorf("%s JSON has no key %q; keys: %v", tc.name, k, keys(tc.obj))
				}
			}
		})
	}

	// Addresses are strings, lists of interface names are lists of strings,
	// a (*,G) has source "::".
	routes := doc["routes"].([]any)
	wc := routes[1].(map[string]any)
	if wc["source"] != "::" {
		t.Errorf(`(*,G) route source = %v, want "::"`, wc["source"])
	}
	if oifs, ok := wc["oifs"].([]any); !ok || len(oifs) != 2 || oifs[0] != "eth1" {
		t.Errorf(`(*,G) route oifs = %v, want ["eth1","eth2"]`, wc["oifs"])
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestNormalizeEmptyLists: lists are [] rather than null in the JSON, so a
// script can iterate without checking.
func TestNormalizeEmptyLists(t *testing.T) {
	s := &api.Snapshot{Routes: []api.Route{{Kind: api.KindSG}}}
	s.Normalize()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"interfaces":[]`, `"timers":[]`, `"oifs":[]`, `"oif_timers":{}`, `"bsr":null`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("normalized snapshot JSON lacks %s:\n%s", want, b)
		}
	}
}

func TestSecs(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want api.Seconds
	}{
		{0, 0},
		{1500 * time.Millisecond, 1.5},
		{210 * time.Second, 210},
		{1234567 * time.Microsecond, 1.235},
		{-time.Second, -1},
	} {
		if got := api.Secs(tc.in); got != tc.want {
			t.Errorf("Secs(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if got := api.Secs(tc.in).Duration(); got != tc.in.Round(time.Millisecond) {
			t.Errorf("Secs(%v).Duration() = %v, want %v", tc.in, got, tc.in.Round(time.Millisecond))
		}
	}
}

func TestUntilSince(t *testing.T) {
	now := apitest.TakenAt
	for _, tc := range []struct {
		name         string
		t            time.Time
		until, since api.Seconds
	}{
		{"not running", time.Time{}, 0, 0},
		{"in 2.5 s", now.Add(2500 * time.Millisecond), 2.5, 0},
		{"3 s ago", now.Add(-3 * time.Second), 0, 3},
		{"now", now, 0, 0},
	} {
		if got := api.Until(now, tc.t); got != tc.until {
			t.Errorf("%s: Until = %v, want %v", tc.name, got, tc.until)
		}
		if got := api.Since(now, tc.t); got != tc.since {
			t.Errorf("%s: Since = %v, want %v", tc.name, got, tc.since)
		}
	}
}

func TestParseSections(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []api.Section
		wantErr bool
	}{
		{"none means all", nil, api.AllSections, false},
		{"report order, no duplicates", []string{"timers", "routes", "timers"}, []api.Section{api.SectionRoutes, api.SectionTimers}, false},
		{"unknown", []string{"routes", "mroutes"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.ParseSections(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSections(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseSections(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestDocExample: the example in docs/pim6stat-json.md is a snapshot this
// schema decodes without unknown keys, so the document cannot drift from the
// code unnoticed.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "pim6stat-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(doc, []byte("```json\n"))
	example, _, ok2 := bytes.Cut(rest, []byte("\n```"))
	if !ok || !ok2 {
		t.Fatal("docs/pim6stat-json.md has no ```json example block")
	}
	dec := json.NewDecoder(bytes.NewReader(example))
	dec.DisallowUnknownFields()
	var s api.Snapshot
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("the documented example does not decode as a snapshot: %v", err)
	}
	if s.Version != api.Version || len(s.Routes) == 0 || len(s.Interfaces) == 0 {
		t.Errorf("documented example = version %d, %d routes, %d interfaces; want version %d with routes and interfaces", s.Version, len(s.Routes), len(s.Interfaces), api.Version)
	}
}

package mld

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6d/pim6d/stack"
)

// seedMessages are the checked-in seeds of both fuzzers (testdata/fuzz).
func seedMessages() [][]byte {
	msgs := []Message{
		&Query{V1: true, MaxRespCode: 10000, Group: netip.IPv6Unspecified()},
		&Query{V1: true, MaxRespCode: 1000, Group: grp},
		&Query{MaxRespCode: EncodeMaxRespCode(10 * time.Second), Group: netip.IPv6Unspecified(), QRV: 2, QQIC: 125},
		&Query{MaxRespCode: 0xffff, Group: grp, SuppressRouterSide: true, QRV: 7, QQIC: 0xff, Sources: []netip.Addr{s1, s2}},
		&V1Report{Group: grp},
		&V1Done{Group: grp},
		&Report{Records: []Record{
			rec(ModeIsInclude, grp, s1), rec(ModeIsExclude, grp), rec(ChangeToInclude, grp, s1, s2),
			rec(ChangeToExclude, grp, s3), rec(AllowNewSources, ssmGrp, s4), rec(BlockOldSources, ssmGrp, s5),
			{Type: ModeIsInclude, Group: grp, Sources: []netip.Addr{s1}, AuxData: []byte{1, 2, 3, 4}},
		}},
		&Report{Records: []Record{rec(ModeIsExclude, grp)}},
	}
	var bs [][]byte
	for _, m := range msgs {
		bs = append(bs, Marshal(m, hostAddr, allMLDv2Routers))
	}
	// truncated and lying counts
	bs = append(bs, []byte{143, 0, 0, 0, 0, 0, 0xff, 0xff}, []byte{130, 0, 0, 0}, bs[3][:30])
	return bs
}

// TestWriteFuzzSeeds regenerates testdata/fuzz when MLD_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("MLD_WRITE_SEEDS") == "" {
		t.Skip("set MLD_WRITE_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	for _, name := range []string{"FuzzParse", "FuzzQuerier"} {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range seedMessages() {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzParse: Parse never panics; what it accepts marshals back to at most as
// many bytes and parses to the same message (parse -> marshal -> parse).
func FuzzParse(f *testing.F) {
	for _, b := range seedMessages() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		out := Marshal(m, hostAddr, allMLDv2Routers)
		if len(out) > len(b) {
			t.Fatalf("Marshal produced %d bytes from a %d-byte input", len(out), len(b))
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(b))) = %v", err)
		}
		if diff := cmp.Diff(m, m2, addrCmp, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		if out2 := Marshal(m2, hostAddr, allMLDv2Routers); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable:\n%x\n%x", out, out2)
		}
	})
}

// FuzzQuerier feeds arbitrary (checksummed) MLD payloads to a querier with
// small limits: it must not panic, and its state must stay within the limits
// and consistent.
func FuzzQuerier(f *testing.F) {
	for _, b := range seedMessages() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 {
			return
		}
		q := newTestQuerier(t, Config{MaxGroups: 4, MaxSources: 8})
		p := stack.Packet{LinkIndex: testLink, Src: hostAddr, Dst: allMLDv2Routers, HopLimit: 1, RouterAlert: true, Proto: 58,
			Payload: append([]byte(nil), b...)}
		setChecksum(p.Src, p.Dst, p.Payload)
		var out Output
		for i := 0; i < 3; i++ {
			q.HandlePacket(at(time.Duration(i)*time.Second), p, &out)
		}
		q.Tick(at(time.Hour), &out)
		sn := q.Snapshot(at(time.Hour))
		if len(sn.Groups) > 4 || sn.Sources > 8 {
			t.Fatalf("state beyond limits: %d groups, %d sources", len(sn.Groups), sn.Sources)
		}
		n := 0
		for _, g := range sn.Groups {
			n += len(g.Sources)
		}
		if n != sn.Sources {
			t.Fatalf("source count %d, records hold %d", sn.Sources, n)
		}
	})
}

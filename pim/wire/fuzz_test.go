package wire

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds Parse arbitrary bytes (with a checksum made valid, so the
// body parsers are reached, and also as given). Parse must not panic, and a
// message it accepts must survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range samples(innerUDP(f)) {
		b, err := Marshal(llA, AllPIMRouters, s.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzOne(t, b)
		if len(b) >= 4 {
			fixed := append([]byte(nil), b...)
			fixed[2], fixed[3] = 0, 0
			covered := len(fixed)
			if fixed[0]&0x0f == byte(TypeRegister) && covered >= 8 {
				covered = 8
			}
			c := Checksum(llA, AllPIMRouters, covered, fixed[:covered])
			fixed[2], fixed[3] = byte(c>>8), byte(c)
			fuzzOne(t, fixed)
		}
	})
}

func fuzzOne(t *testing.T, b []byte) {
	m, err := Parse(llA, AllPIMRouters, b)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse error %v is not a *ParseError", err)
		}
		if m != nil {
			t.Fatalf("Parse returned %#v with error %v", m, err)
		}
		if DropReason(err) == "other" {
			t.Fatalf("Parse error %v has no drop reason", err)
		}
		return
	}
	out, err := Marshal(llA, AllPIMRouters, m)
	if err != nil {
		t.Fatalf("Marshal(Parse(%x)) = %v", b, err)
	}
	if len(out) != Len(m) {
		t.Fatalf("Len = %d, Marshal wrote %d", Len(m), len(out))
	}
	m2, err := Parse(llA, AllPIMRouters, out)
	if err != nil {
		t.Fatalf("Parse(Marshal(Parse(%x))) = %v", b, err)
	}
	if diff := cmp.Diff(m, m2, cmpAddr); diff != "" {
		t.Fatalf("round trip of %x (-first +second):\n%s", b, diff)
	}
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzParse/ from the samples and
// the broken packets below when PIMWIRE_WRITE_SEEDS=1; otherwise it checks
// that the checked-in corpus has a seed for every message type.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	seeds := map[string][]byte{}
	for _, s := range samples(innerUDP(t)) {
		b, err := Marshal(llA, AllPIMRouters, s.msg)
		if err != nil {
			t.Fatal(err)
		}
		seeds[s.name] = b
	}
	broken := map[string]string{
		"broken-empty":               ``,
		"broken-version-1":           `10 00 0000`,
		"broken-graft":               `26 00 0000 02 00 fe800000000000000000000000000002 00 01 00d2`,
		"broken-hello-short-option":  `20 00 0000 0001 0001 69`,
		"broken-hello-option-runoff": `20 00 0000 0018 0100 0200`,
		"broken-jp-huge-counts": `23 00 0000 02 00 fe800000000000000000000000000002 00 ff 00d2
			02 00 00 80 ff3e0000000000000000000080000001 ffff ffff`,
		"broken-jp-family-1": `23 00 0000 01 00 c0000201`,
		"broken-bsm-rp-runoff": `24 00 0000 0001 7e 01 02 00 20010db800fe00000000000000000001
			02 00 00 08 ff000000000000000000000000000000 02 ff 0000`,
		"broken-crp-adv-count":  `28 00 0000 09 00 0096 02 00 20010db800ff00000000000000000001`,
		"broken-register-short": `21 00 0000 40`,
		"broken-assert-mask-200": `25 00 0000 02 00 00 c8 ff1e0000000000000000000000001234
			02 00 20010db8000100000000000000000100 0000006e 00000014`,
	}
	for name, h := range broken {
		seeds[name] = unhex(t, h)
	}
	if os.Getenv("PIMWIRE_WRITE_SEEDS") == "1" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			body := "go test fuzz v1\n[]byte(" + quoteBytes(b) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range seeds {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("seed %s missing from %s (regenerate with PIMWIRE_WRITE_SEEDS=1): %v", name, dir, err)
		}
	}
}

func quoteBytes(b []byte) string {
	const hexd = "0123456789abcdef"
	out := []byte{'"'}
	for _, c := range b {
		out = append(out, '\\', 'x', hexd[c>>4], hexd[c&15])
	}
	return string(append(out, '"'))
}

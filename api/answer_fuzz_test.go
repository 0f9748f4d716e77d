package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// FuzzAnswer feeds arbitrary request lines to the server's request handling:
// every line gets a response of this version that is either a success or a
// client error (never "internal", which is what a recovered panic becomes),
// and the response encodes as one JSON line.
func FuzzAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"op":"hello"}`,
		`{"version":1,"op":"snapshot"}`,
		`{"version":1,"op":"snapshot","sections":["routes","bsr"]}`,
		`{"version":2,"op":"snapshot"}`,
		`{"version":1,"op":"snapshot","sections":[1]}`,
		`{"version":1e400}`,
		`[]`, `null`, `"x"`, ``, "\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	s := &Server{}
	s.opts.fill()
	provider := func(ctx context.Context) (*Snapshot, error) {
		return &Snapshot{
			Interfaces: []Interface{{Name: "eth0"}},
			Routes:     []Route{{Kind: KindSG, Source: "2001:db8::1", Group: "ff3e::1", OIFs: []string{"eth0"}}},
			BSR:        &BSR{Address: "2001:db8::2"},
		}, nil
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		resp := s.answer(context.Background(), line, provider)
		if resp.Version != Version {
			t.Fatalf("answer(%q).Version = %d, want %d", line, resp.Version, Version)
		}
		if resp.OK == (resp.Error != nil) {
			t.Fatalf("answer(%q) = ok %v with error %v, want exactly one of them", line, resp.OK, resp.Error)
		}
		if resp.Error != nil && resp.Error.Code == CodeInternal {
			t.Fatalf("answer(%q) = internal error %q", line, resp.Error.Message)
		}
		var b bytes.Buffer
		if err := writeResponse(&b, resp); err != nil {
			t.Fatalf("writeResponse: %v", err)
		}
		if n := bytes.Count(b.Bytes(), []byte("\n")); n != 1 || !json.Valid(b.Bytes()) {
			t.Fatalf("response to %q is not one JSON line: %q", line, b.Bytes())
		}
	})
}

// FuzzReadLine: readLine never returns more than max bytes before the
// newline, and what it returns is a prefix of the input.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("abc\ndef"), 2)
	f.Add([]byte("abc\ndef"), 3)
	f.Add([]byte("{\"version\":1}\n"), 64)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		line, err := readLine(bufio.NewReaderSize(bytes.NewReader(in), 16), max)
		if err == errTooLarge {
			return
		}
		if !bytes.HasPrefix(in, line) {
			t.Fatalf("readLine(%q, %d) = %q, not a prefix of the input", in, max, line)
		}
		if n := len(bytes.TrimSuffix(line, []byte("\n"))); n > max {
			t.Fatalf("readLine(%q, %d) returned %d bytes before the newline", in, max, n)
		}
	})
}

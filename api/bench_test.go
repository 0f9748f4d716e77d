package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"

	"github.com/pim6d/pim6d/api"
	"github.com/pim6d/pim6d/api/apitest"
)

const benchRoutes = 100_000

// BenchmarkBuildSnapshot100k is the cost of filling a snapshot with 100,000
// (S,G) entries, addresses formatted as strings: a stand-in for the part a
// daemon's provider spends inside its event loop.
func BenchmarkBuildSnapshot100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		apitest.ManySG(benchRoutes)
	}
}

// BenchmarkEncodeSnapshot100k is the JSON encoding alone (done on the
// connection's goroutine, outside the event loop).
func BenchmarkEncodeSnapshot100k(b *testing.B) {
	s := apitest.ManySG(benchRoutes)
	s.Normalize()
	raw, err := json.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		enc := json.NewEncoder(io.Discard)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&api.Response{Version: api.Version, OK: true, Snapshot: s}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchServer serves one prebuilt 100k-route snapshot (normalised once, so
// the server's own Normalize is the no-op it is for a provider that fills
// every list).
func benchServer(b *testing.B) (path string, size int) {
	s := apitest.ManySG(benchRoutes)
	s.Normalize()
	raw, _ := json.Marshal(s)
	path = socketPathB(b)
	srv, err := api.Listen(path, api.ServeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(context.Context) (*api.Snapshot, error) { return s, nil }) }()
	b.Cleanup(func() { cancel(); <-done })
	return path, len(raw)
}

func socketPathB(b *testing.B) string { return b.TempDir() + "/pim6d.sock" }

// BenchmarkServeSnapshot100k: one request over the unix socket, served,
// encoded, sent, and decoded into an api.Snapshot by the client.
func BenchmarkServeSnapshot100k(b *testing.B) {
	path, size := benchServer(b)
	c, err := api.Dial(path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Snapshot(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Routes) != benchRoutes {
			b.Fatalf("snapshot has %d routes, want %d", len(s.Routes), benchRoutes)
		}
	}
}

// BenchmarkServeSnapshotRaw100k is the same with the client keeping the raw
// JSON (pim6stat -j), so the time is the server's plus the transfer.
func BenchmarkServeSnapshotRaw100k(b *testing.B) {
	path, size := benchServer(b)
	c, err := api.Dial(path)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SnapshotJSON(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeSnapshotWire100k: one request over the unix socket with a
// client that only reads the response line: the server's whole cost (provider
// call, filter, normalise, encode, write) plus the transfer.
func BenchmarkServeSnapshotWire100k(b *testing.B) {
	path, size := benchServer(b)
	conn, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 1<<20)
	req := []byte(`{"version":1,"op":"snapshot"}` + "\n")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			line, err := r.ReadSlice('\n')
			n += len(line)
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
		}
		if n < size {
			b.Fatalf("response of %d bytes, want at least %d", n, size)
		}
	}
}

// BenchmarkSocketCopyReference is the reference for the figures above: the
// same number of bytes, already encoded, written over a unix socket and read
// as one line, with no JSON work at all.
func BenchmarkSocketCopyReference(b *testing.B) {
	s := apitest.ManySG(benchRoutes)
	s.Normalize()
	payload, err := json.Marshal(&api.Response{Version: api.Version, OK: true, Snapshot: s})
	if err != nil {
		b.Fatal(err)
	}
	payload = append(payload, '\n')
	ln, err := net.Listen("unix", socketPathB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadBytes('\n'); err != nil {
				return
			}
			if _, err := c.Write(payload); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 1<<20)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		conn.Write([]byte("go\n"))
		for {
			_, err := r.ReadSlice('\n')
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
		}
	}
}

package main

import (
	"os"
	"sync"
	"testing"

	"github.com/pim6d/pim6d/lab"
)

// The lab tests share one pim6d binary, built on first use.
var (
	buildDir  string
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func pim6dBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "pim6d-test-"); buildErr == nil {
			buildBin, buildErr = lab.GoBuild("github.com/pim6d/pim6d/cmd/pim6d", buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

package lab

import (
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// GoBuild builds the Go command pkg (an import path such as
// "github.com/pim6d/pim6d/cmd/pim6d") into dir and returns the binary's path.
// It runs from the current directory, which must be inside the module.
func GoBuild(pkg, dir string) (string, error) {
	out := filepath.Join(dir, path.Base(pkg))
	// go test and go run put the running toolchain's bin first in PATH.
	if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// MustGoBuild is GoBuild into a test's temporary directory; it fails the test
// on error.
func MustGoBuild(t testing.TB, pkg string) string {
	t.Helper()
	bin, err := GoBuild(pkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

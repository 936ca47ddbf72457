package fleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Programs are the six service programs, by the name of their directory
// under services/ (also the name of the binary).
var Programs = []string{"state", "user", "room", "connection", "analytics", "monitor"}

// mongoProgram is the MongoDB-wire server the harness runs.
const mongoProgram = "ferretdb"

var built struct {
	once sync.Once
	dir  string
	err  error
}

// Binaries builds the six programs and the harness's MongoDB server once
// per test binary and returns the directory holding them (named after
// their program). The build goes to a directory that Cleanup (called from
// TestMain) removes.
func Binaries(t testing.TB) string {
	t.Helper()
	built.once.Do(func() { built.dir, built.err = build() })
	if built.err != nil {
		t.Fatalf("build the programs: %v", built.err)
	}
	return built.dir
}

// Cleanup removes the built programs; call it from TestMain after m.Run.
func Cleanup() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "fleet-bin-")
	if err != nil {
		return "", err
	}
	pkgs := []string{"./e2e/fleet/internal/" + mongoProgram}
	for _, p := range Programs {
		pkgs = append(pkgs, "./services/"+p+"/cmd/"+p)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if os.Getenv("FLEET_RACE") == "1" {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	fmt.Fprintf(os.Stderr, "fleet: built %d programs in %v\n", len(pkgs), time.Since(start).Round(time.Millisecond))
	return dir, nil
}

// moduleRoot is the directory of the root module's go.mod (the workspace
// builds every service module from there).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a module (go env GOMOD = %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}

// ModuleRoot is the repository's root directory (where deploy/ is).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tugcluster/tug/internal/version"
)

// Set by TestMain.
var (
	// tugBinary is the tug binary built from this checkout.
	tugBinary string
	// repoRoot is the directory holding go.mod.
	repoRoot string
	// kubectlDir holds kubectl.1.27 … kubectl.1.33, next to the kubectl on
	// PATH.
	kubectlDir string
)

// TestMain builds the tug binary once for every test in the package.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tug-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := setup(dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		return 1
	}
	return m.Run()
}

func setup(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("not inside a Go module")
	}
	repoRoot = filepath.Dir(gomod)
	tugBinary = filepath.Join(dir, "tug")
	build := exec.Command("go", "build", "-tags", version.BuildTags, "-o", tugBinary, "./cmd/tug")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/tug: %w\n%s", err, out)
	}
	onPath, err := exec.LookPath("kubectl")
	if err != nil {
		return fmt.Errorf("kubectl not on PATH: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(onPath)
	if err != nil {
		return fmt.Errorf("resolve kubectl: %w", err)
	}
	kubectlDir = filepath.Dir(resolved)
	return nil
}

var recordSourcesOnce sync.Once

// recordSources stats the sources the binary is built from. go test caches
// a package's result keyed by the files its tests open; the binary is built
// before the tests run, so without this a cached pass would survive a change
// to the server.
func recordSources(t *testing.T) {
	recordSourcesOnce.Do(func() {
		for _, name := range []string{"go.mod", "go.sum"} {
			if _, err := os.Stat(filepath.Join(repoRoot, name)); err != nil {
				t.Logf("stat %s: %v", name, err)
			}
		}
		for _, sub := range []string{"cmd", "internal"} {
			err := filepath.WalkDir(filepath.Join(repoRoot, sub), func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
					return err
				}
				_, err = os.Stat(path)
				return err
			})
			if err != nil {
				t.Logf("walk %s: %v", sub, err)
			}
		}
	})
}

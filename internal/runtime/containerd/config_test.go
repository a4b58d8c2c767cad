package containerd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestConfigGolden(t *testing.T) {
	o := Options{DataDir: "/var/lib/tug/agent", Snapshotter: Overlayfs}.withDefaults()
	tests := []struct {
		name        string
		restrictOOM bool
	}{
		{"config.toml", false},
		{"config-restrict-oom.toml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConfig(o, pathsFor(o.DataDir), "/usr/lib/cni", tt.restrictOOM)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("config differs from %s (-want +got), run with -update if intended:\n%s", golden, diff)
			}
		})
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/tug":     `"/var/lib/tug"`,
		`a "quoted" \path`: `"a \"quoted\" \\path"`,
		"<tab>\t":          `"<tab>\t"`,
	} {
		got, err := tomlString(in)
		if err != nil || got != want {
			t.Errorf("tomlString(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	o := Options{DataDir: "/d"}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o = o.withDefaults()
	if o.CNIConfDir != "/d/cni/net.d" || o.SandboxImage != "tug.local/pause:1" || len(o.CNIBinDirs) == 0 ||
		o.StartTimeout != DefaultStartTimeout || o.StopTimeout != DefaultStopTimeout {
		t.Errorf("defaults = %+v", o)
	}
	for _, bad := range []Options{{}, {DataDir: "/d", Snapshotter: "zfs"}, {DataDir: "/d", StopTimeout: -1}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

func TestCNIBinDir(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for dir, names := range map[string][]string{a: {"bridge", "portmap"}, b: {"bridge", "bandwidth"}} {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, err := cniBinDir([]string{a}, "/unused"); err != nil || got != a {
		t.Errorf("one directory: %q, %v; want it as is", got, err)
	}
	farm := filepath.Join(t.TempDir(), "cni", "bin")
	// A stale link from an earlier start is dropped.
	if err := os.MkdirAll(farm, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent", filepath.Join(farm, "stale")); err != nil {
		t.Fatal(err)
	}
	got, err := cniBinDir([]string{a, b, filepath.Join(b, "missing")}, farm)
	if err != nil || got != farm {
		t.Fatalf("cniBinDir = %q, %v; want %q", got, err, farm)
	}
	links := map[string]string{}
	entries, err := os.ReadDir(farm)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(farm, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		links[e.Name()] = target
	}
	want := map[string]string{
		"bridge":    filepath.Join(a, "bridge"), // the first directory wins
		"portmap":   filepath.Join(a, "portmap"),
		"bandwidth": filepath.Join(b, "bandwidth"),
	}
	if diff := cmp.Diff(want, links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
}

func TestCheckBinaries(t *testing.T) {
	// The machines tug is tested on have everything.
	if err := CheckBinaries(); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	err := checkBinaries([]string{empty})
	if err == nil {
		t.Fatal("checkBinaries with no plugins = nil, want an error")
	}
	for _, want := range []string{"bridge, host-local, loopback, portmap", empty, "apt-get install containerd runc containernetworking-plugins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	t.Setenv("PATH", empty)
	err = checkBinaries([]string{"/usr/lib/cni"})
	if err == nil || !strings.Contains(err.Error(), "containerd (not on PATH)") || !strings.Contains(err.Error(), "runc (not on PATH)") {
		t.Errorf("with an empty PATH: %v, want containerd and runc named", err)
	}
}

func TestOverlaySupported(t *testing.T) {
	dir := t.TempDir()
	ok, err := overlaySupported(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The test machines' /tmp is ext4 or tmpfs, where overlay works.
	if !ok {
		t.Errorf("overlaySupported(%s) = false", dir)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the check left %v behind (%v)", entries, err)
	}
}

func TestHasCapability(t *testing.T) {
	// CAP_CHOWN (0): tests run as root, and no environment drops it.
	if !hasCapability(0) {
		t.Error("hasCapability(CAP_CHOWN) = false for root")
	}
	if hasCapability(63) {
		t.Error("hasCapability(63) = true: no such capability")
	}
}

package version

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKubernetesVersionFromModule(t *testing.T) {
	tests := []struct {
		module string
		want   string
		wantOK bool
	}{
		{module: "v0.37.2", want: "v1.37.2", wantOK: true},
		{module: "v0.38.0-rc.1", want: "v1.38.0-rc.1", wantOK: true},
		{module: "v0.100.0", want: "v1.100.0", wantOK: true},
		{module: "v0.0.0-20260101000000-0123456789ab", wantOK: false},
		{module: "v1.37.2", wantOK: false},
		{module: "v0.", wantOK: false},
		{module: "(devel)", wantOK: false},
		{module: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			got, ok := kubernetesVersionFromModule(tt.module)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("kubernetesVersionFromModule(%q) = %q, %v; want %q, %v", tt.module, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	want := func(version, commit, kube string) Info {
		return Info{
			Version:           version,
			GitCommit:         commit,
			KubernetesVersion: kube,
			GoVersion:         runtime.Version(),
			Platform:          platform,
		}
	}
	kubeAPI := func(v string) *debug.Module { return &debug.Module{Path: "k8s.io/api", Version: v} }

	tests := []struct {
		name    string
		version string
		commit  string
		bi      *debug.BuildInfo
		want    Info
	}{
		{
			name: "no build info, nothing stamped",
			want: want(DevVersion, "unknown", kubernetesVersionFallback),
		},
		{
			name:    "ldflags win over build info",
			version: "v0.1.0",
			commit:  "abc123",
			bi: &debug.BuildInfo{
				Main:     debug.Module{Version: "v0.0.9"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "def456"}},
				Deps:     []*debug.Module{kubeAPI("v0.38.1")},
			},
			want: want("v0.1.0", "abc123", "v1.38.1"),
		},
		{
			name: "build info fills what ldflags left empty",
			bi: &debug.BuildInfo{
				Main: debug.Module{Version: "v0.2.0"},
				Settings: []debug.BuildSetting{
					{Key: "vcs", Value: "git"},
					{Key: "vcs.revision", Value: "def456"},
					{Key: "vcs.modified", Value: "false"},
				},
				Deps: []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, kubeAPI("v0.37.2")},
			},
			want: want("v0.2.0", "def456", "v1.37.2"),
		},
		{
			name: "modified work tree marks the commit dirty",
			bi: &debug.BuildInfo{
				Main: debug.Module{Version: "(devel)"},
				Settings: []debug.BuildSetting{
					{Key: "vcs.modified", Value: "true"},
					{Key: "vcs.revision", Value: "def456"},
				},
			},
			want: want(DevVersion, "def456-dirty", kubernetesVersionFallback),
		},
		{
			name: "replaced k8s.io/api reports the replacement version",
			bi: &debug.BuildInfo{
				Deps: []*debug.Module{{
					Path: "k8s.io/api", Version: "v0.37.2",
					Replace: &debug.Module{Path: "k8s.io/api", Version: "v0.37.3"},
				}},
			},
			want: want(DevVersion, "unknown", "v1.37.3"),
		},
		{
			name: "pseudo-version of k8s.io/api falls back",
			bi: &debug.BuildInfo{
				Deps: []*debug.Module{kubeAPI("v0.0.0-20260101000000-0123456789ab")},
			},
			want: want(DevVersion, "unknown", kubernetesVersionFallback),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.version, tt.commit, tt.bi)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolve() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGet(t *testing.T) {
	got := Get()
	if got.Version == "" || got.GitCommit == "" || got.KubernetesVersion == "" {
		t.Errorf("Get() left a field empty: %+v", got)
	}
}

func TestText(t *testing.T) {
	info := Info{
		Version:           "v0.1.0",
		GitCommit:         "abc123",
		KubernetesVersion: "v1.37.2",
		GoVersion:         "go1.26.8",
		Platform:          "linux/amd64",
	}
	want := "" +
		"Version:        v0.1.0\n" +
		"Git commit:     abc123\n" +
		"Kubernetes API: v1.37.2\n" +
		"Go version:     go1.26.8\n" +
		"Platform:       linux/amd64\n"
	if diff := cmp.Diff(want, info.Text()); diff != "" {
		t.Errorf("Text() mismatch (-want +got):\n%s", diff)
	}
}

// TestFallbackMatchesGoMod keeps the fallback honest: it must name the
// Kubernetes version of the k8s.io/api that go.mod requires.
func TestFallbackMatchesGoMod(t *testing.T) {
	f, err := os.Open("../../go.mod")
	if err != nil {
		t.Fatalf("open go.mod: %v", err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("close go.mod: %v", err)
		}
	}()
	var required string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(s.Text()), "require "))
		if len(fields) >= 2 && fields[0] == kubernetesModule {
			required = fields[1]
			break
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	if required == "" {
		t.Fatalf("go.mod does not require %s", kubernetesModule)
	}
	want, ok := kubernetesVersionFromModule(required)
	if !ok {
		t.Fatalf("go.mod requires %s %s, which names no Kubernetes release", kubernetesModule, required)
	}
	if kubernetesVersionFallback != want {
		t.Errorf("kubernetesVersionFallback = %q, but go.mod requires %s %s (Kubernetes %s)",
			kubernetesVersionFallback, kubernetesModule, required, want)
	}
}

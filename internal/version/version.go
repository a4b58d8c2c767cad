// Package version reports which build of tug is running: its release, the
// git commit it was built from and the Kubernetes API version it serves.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the tug release, set at link time with
//
//	-ldflags "-X github.com/tugcluster/tug/internal/version.Version=v0.1.0"
//
// When empty, the main module version from the build info is used (set by
// `go install module@version` and by builds with VCS stamping), else
// DevVersion.
var Version string

// GitCommit is the git commit tug was built from, set at link time with
//
//	-ldflags "-X github.com/tugcluster/tug/internal/version.GitCommit=$(git rev-parse HEAD)"
//
// When empty, vcs.revision from the build info is used (with "-dirty" when
// vcs.modified is true), else "unknown".
var GitCommit string

// BuildTags are the build tags tug is built (and tested) with:
// fieldsv1string keeps managedFields as interned strings, so the objects
// the API server caches share the field sets they have in common (every
// pod of a template has the creator's) instead of holding a copy each.
// scripts/setup.sh, scripts/test.sh and .golangci.yml repeat it.
const BuildTags = "fieldsv1string"

// DevVersion is reported when no release was stamped into the binary.
const DevVersion = "v0.0.0-dev"

// unknownCommit is reported when neither -ldflags nor the build info name a
// commit, for example in builds with -buildvcs=false.
const unknownCommit = "unknown"

// kubernetesModule is the module whose types tug serves; its version
// v0.X.Y is Kubernetes v1.X.Y.
const kubernetesModule = "k8s.io/api"

// kubernetesVersionFallback is reported when k8s.io/api is not linked into
// the binary or there is no build info. A test keeps it equal to go.mod.
const kubernetesVersionFallback = "v1.37.2"

// Info describes a build of tug.
type Info struct {
	// Version is the tug release, for example v0.1.0.
	Version string `json:"version"`
	// GitCommit is the commit the binary was built from, or "unknown".
	GitCommit string `json:"gitCommit"`
	// KubernetesVersion is the Kubernetes API version served, for example v1.37.2.
	KubernetesVersion string `json:"kubernetesVersion"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Get returns the Info of the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(Version, GitCommit, bi)
}

// Text renders i as aligned "Key: value" lines, one per field.
func (i Info) Text() string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"Version", i.Version},
		{"Git commit", i.GitCommit},
		{"Kubernetes API", i.KubernetesVersion},
		{"Go version", i.GoVersion},
		{"Platform", i.Platform},
	} {
		fmt.Fprintf(&b, "%-16s%s\n", kv[0]+":", kv[1])
	}
	return b.String()
}

// resolve combines the link-time values with bi, which is nil when the
// binary carries no build info.
func resolve(version, commit string, bi *debug.BuildInfo) Info {
	info := Info{
		Version:           version,
		GitCommit:         commit,
		KubernetesVersion: kubernetesVersionFallback,
		GoVersion:         runtime.Version(),
		Platform:          runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.GitCommit == "" {
			info.GitCommit = vcsCommit(bi.Settings)
		}
		if v, ok := kubernetesVersion(bi.Deps); ok {
			info.KubernetesVersion = v
		}
	}
	if info.Version == "" {
		info.Version = DevVersion
	}
	if info.GitCommit == "" {
		info.GitCommit = unknownCommit
	}
	return info
}

// vcsCommit returns the vcs.revision build setting, with "-dirty" appended
// when the work tree had uncommitted changes, or "" when absent.
func vcsCommit(settings []debug.BuildSetting) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}

// kubernetesVersion finds k8s.io/api among the linked modules and maps its
// version to the Kubernetes version. It reports false when the module is
// not linked or its version does not have the v0.X.Y form.
func kubernetesVersion(deps []*debug.Module) (string, bool) {
	for _, m := range deps {
		if m == nil || m.Path != kubernetesModule {
			continue
		}
		v := m.Version
		if m.Replace != nil && m.Replace.Version != "" {
			v = m.Replace.Version
		}
		return kubernetesVersionFromModule(v)
	}
	return "", false
}

// kubernetesVersionFromModule maps a k8s.io/api module version to the
// Kubernetes version: v0.37.2 is v1.37.2 and v0.38.0-rc.1 is v1.38.0-rc.1.
// Pseudo-versions of untagged commits (v0.0.0-…) and other shapes report false.
func kubernetesVersionFromModule(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, "v0.")
	if !ok || rest == "" || rest[0] < '1' || rest[0] > '9' {
		return "", false
	}
	return "v1." + rest, true
}

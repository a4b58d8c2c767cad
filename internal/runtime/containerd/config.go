package containerd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"golang.org/x/sys/unix"
)

// disabledPlugins are containerd plugins a node never uses. Each costs
// start-up work (devmapper probes its pool and logs an error, aufs, btrfs
// and zfs probe the file system); opt would create /opt/containerd, outside
// tug's data directory. (runtime.v1.linux, the pre-shim-v2 runtime, cannot
// go: containerd 1.6's tasks service, and so CRI, needs it.) Containerd
// ignores names it does not know, so this list may name
// plugins a given version lacks.
var disabledPlugins = []string{
	"io.containerd.internal.v1.opt",
	"io.containerd.internal.v1.tracing",
	"io.containerd.snapshotter.v1.aufs",
	"io.containerd.snapshotter.v1.btrfs",
	"io.containerd.snapshotter.v1.devmapper",
	"io.containerd.snapshotter.v1.zfs",
	"io.containerd.tracing.processor.v1.otlp",
}

// configTemplate is containerd's config (format version 2, which
// containerd 1.6 and 1.7 read). Every value is quoted by toml.
var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{"toml": tomlString}).Parse(
	`# Written by tug at every start of the agent: edits are lost.
version = 2
root = {{toml .Root}}
state = {{toml .State}}
disabled_plugins = [{{range $i, $p := .Disabled}}{{if $i}}, {{end}}{{toml $p}}{{end}}]

[grpc]
  address = {{toml .Socket}}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = {{toml .SandboxImage}}
  # Streams (exec, attach, port-forward) are proxied by the kubelet: loopback only.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
{{- if .RestrictOOMScoreAdj}}
  # tug lacks CAP_SYS_RESOURCE: no container may get a lower OOM score than containerd's.
  restrict_oom_score_adj = true
{{- end}}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = {{toml .CNIBinDir}}
    conf_dir = {{toml .CNIConfDir}}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = {{toml .Snapshotter}}
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # runc's state beside containerd's, not in the host-wide /run/containerd/runc.
        Root = {{toml .RuncRoot}}
`))

// configData fills configTemplate.
type configData struct {
	Root, State, Socket, RuncRoot string
	Disabled                      []string
	SandboxImage                  string
	CNIBinDir, CNIConfDir         string
	Snapshotter                   string
	RestrictOOMScoreAdj           bool
}

// renderConfig returns containerd's config.toml for resolved options.
// restrictOOM is set where tug cannot lower OOM scores.
func renderConfig(o Options, p paths, cniBinDir string, restrictOOM bool) ([]byte, error) {
	var buf bytes.Buffer
	err := configTemplate.Execute(&buf, configData{
		Root:                p.root,
		State:               p.state,
		Socket:              p.socket,
		RuncRoot:            filepath.Join(p.state, "runc"),
		Disabled:            disabledPlugins,
		SandboxImage:        o.SandboxImage,
		CNIBinDir:           cniBinDir,
		CNIConfDir:          o.CNIConfDir,
		Snapshotter:         o.Snapshotter,
		RestrictOOMScoreAdj: restrictOOM,
	})
	if err != nil {
		return nil, fmt.Errorf("containerd config: %w", err)
	}
	return buf.Bytes(), nil
}

// tomlString quotes s as a TOML basic string; JSON's string escapes are
// all valid TOML escapes.
func tomlString(s string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// cniBinDir returns the one plugin directory containerd 1.6's CRI config
// can name. With several directories it fills <agent>/cni/bin with a
// symlink per plugin, the first directory that has a name winning, as a
// search path would.
func cniBinDir(dirs []string, farm string) (string, error) {
	if len(dirs) == 1 {
		return dirs[0], nil
	}
	if err := os.RemoveAll(farm); err != nil {
		return "", fmt.Errorf("CNI plugin directory: %w", err)
	}
	if err := os.MkdirAll(farm, 0o755); err != nil {
		return "", fmt.Errorf("CNI plugin directory: %w", err)
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("CNI plugin directory: %w", err)
		}
		for _, e := range entries {
			link := filepath.Join(farm, e.Name())
			if _, err := os.Lstat(link); err == nil {
				continue // an earlier directory has it
			}
			if err := os.Symlink(filepath.Join(dir, e.Name()), link); err != nil {
				return "", fmt.Errorf("CNI plugin directory: %w", err)
			}
		}
	}
	return farm, nil
}

// overlaySupported tries an overlay mount in dir, which is on the file
// system containerd's snapshots will be on. It fails where the kernel lacks
// overlay and where dir's file system cannot be an upper layer (overlay on
// overlay, as in a container without a volume for the data directory).
func overlaySupported(dir string) (bool, error) {
	tmp, err := os.MkdirTemp(dir, "overlay-check-")
	if err != nil {
		return false, fmt.Errorf("check overlay support: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }() // a leftover is harmless
	sub := func(name string) string { return filepath.Join(tmp, name) }
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(sub(d), 0o700); err != nil {
			return false, fmt.Errorf("check overlay support: %w", err)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", sub("lower"), sub("upper"), sub("work"))
	if err := unix.Mount("overlay", sub("merged"), "overlay", 0, opts); err != nil {
		// A failed mount is the answer, not an error.
		return false, nil
	}
	if err := unix.Unmount(sub("merged"), unix.MNT_DETACH); err != nil {
		return false, fmt.Errorf("check overlay support: unmount: %w", err)
	}
	return true, nil
}

// hasCapability reports whether this process has capability c in its
// effective set.
func hasCapability(c int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			set, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && set&(1<<c) != 0
		}
	}
	return false
}

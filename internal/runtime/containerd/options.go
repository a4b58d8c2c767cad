// Package containerd supervises the containerd child process a node agent
// starts when it is given no container runtime endpoint: it writes
// containerd's config under the agent's directory, starts containerd, waits
// until its CRI service answers, and stops it when the agent stops.
// Containers outlive a containerd restart: their shims are separate
// processes that the next containerd reconnects to.
package containerd

import (
	"errors"
	"io"
	"path/filepath"
	"time"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/network/cni"
)

// Snapshotters Options.Snapshotter may name.
const (
	// Overlayfs shares image layers between containers; the default where
	// the kernel can mount overlay on the data directory's file system.
	Overlayfs = "overlayfs"
	// Native copies layers; it works on any file system, overlay included.
	Native = "native"
)

// Defaults of Options.
const (
	// DefaultStartTimeout bounds the wait for a started containerd's CRI
	// service to report ready.
	DefaultStartTimeout = time.Minute
	// DefaultStopTimeout is how long containerd has to exit after SIGTERM
	// before it is killed.
	DefaultStopTimeout = 10 * time.Second
)

// Options configure the supervised containerd. The zero value of every
// field but DataDir means its default.
type Options struct {
	// DataDir is the agent's directory (<data-dir>/agent). containerd's
	// config, socket, log, root and state go under <DataDir>/containerd.
	// Required.
	DataDir string
	// CNIBinDirs are the CNI plugin directories, searched in order.
	// Default cni.DefaultBinDirs(): /usr/lib/cni, and /opt/cni/bin when it
	// exists.
	CNIBinDirs []string
	// CNIConfDir is the directory of the CNI network config the runtime
	// loads (cni.WriteConfig writes it). Default <DataDir>/cni/net.d.
	CNIConfDir string
	// SandboxImage is the image of pod sandbox containers. Default
	// images.PauseImageRef, which images.EnsurePause imports.
	SandboxImage string
	// Snapshotter is Overlayfs or Native. Default: Overlayfs when an overlay
	// mount works under DataDir, else Native.
	Snapshotter string
	// Stdout and Stderr receive containerd's output. Default: both append
	// to <DataDir>/containerd/containerd.log.
	Stdout, Stderr io.Writer
	// Command is put before the containerd command line, for example
	// {"nsenter", "--net=/run/netns/test"} to run containerd, and so its
	// CNI plugins and pods, in another network namespace. It must exec
	// containerd in place, so that signals reach it. Default none.
	Command []string
	// Env is added to containerd's environment (which is tug's), for
	// example HTTPS_PROXY. Default none.
	Env []string
	// StartTimeout bounds the wait for the CRI service. Default
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// StopTimeout is the grace period after SIGTERM. Default
	// DefaultStopTimeout.
	StopTimeout time.Duration
}

// Validate reports options Start cannot use.
func (o *Options) Validate() error {
	if o.DataDir == "" {
		return errors.New("containerd: no data directory")
	}
	switch o.Snapshotter {
	case "", Overlayfs, Native:
	default:
		return errors.New("containerd: snapshotter must be overlayfs or native")
	}
	if o.StartTimeout < 0 || o.StopTimeout < 0 {
		return errors.New("containerd: negative timeout")
	}
	return nil
}

// withDefaults returns o with defaults filled in, except Snapshotter,
// which needs a mount test, and Stdout/Stderr, which need the log file.
func (o Options) withDefaults() Options {
	if o.CNIBinDirs == nil {
		o.CNIBinDirs = cni.DefaultBinDirs()
	}
	if o.CNIConfDir == "" {
		o.CNIConfDir = filepath.Join(o.DataDir, "cni", "net.d")
	}
	if o.SandboxImage == "" {
		o.SandboxImage = images.PauseImageRef
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	return o
}

// Paths of containerd's files under the agent directory.
type paths struct {
	dir, config, socket, root, state, log, cniBin string
}

func pathsFor(dataDir string) paths {
	dir := filepath.Join(dataDir, "containerd")
	return paths{
		dir:    dir,
		config: filepath.Join(dir, "config.toml"),
		socket: filepath.Join(dir, "containerd.sock"),
		root:   filepath.Join(dir, "root"),
		state:  filepath.Join(dir, "state"),
		log:    filepath.Join(dir, "containerd.log"),
		cniBin: filepath.Join(dataDir, "cni", "bin"),
	}
}

// SocketPath is where the containerd supervised for agent directory
// dataDir listens, for clients that did not start it (`tug images import`).
func SocketPath(dataDir string) string { return pathsFor(dataDir).socket }

package containerd

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/tugcluster/tug/internal/network/cni"
)

// InstallHint is how to get what a node needs on Debian and Ubuntu.
const InstallHint = "apt-get install containerd runc containernetworking-plugins"

// requiredPlugins are the CNI plugins the node's network config uses.
var requiredPlugins = []string{"bridge", "host-local", "loopback", "portmap"}

// CheckBinaries reports whether this machine has what a node running
// containers needs: containerd, ctr and runc on PATH and the CNI plugins
// tug's network uses in cni.DefaultBinDirs(). Its error names everything
// missing and the packages to install.
func CheckBinaries() error {
	return checkBinaries(cni.DefaultBinDirs())
}

func checkBinaries(cniBinDirs []string) error {
	var missing []string
	for _, prog := range []string{"containerd", "ctr", "runc"} {
		if _, err := exec.LookPath(prog); err != nil {
			missing = append(missing, prog+" (not on PATH)")
		}
	}
	var plugins []string
	for _, p := range requiredPlugins {
		if cni.FindPlugin(cniBinDirs, p) == "" {
			plugins = append(plugins, p)
		}
	}
	if len(plugins) > 0 {
		missing = append(missing, fmt.Sprintf("CNI plugins %s (not in %s)", strings.Join(plugins, ", "), strings.Join(cniBinDirs, ", ")))
	}
	if len(missing) > 0 {
		return fmt.Errorf("running containers needs %s: install them with: %s", strings.Join(missing, "; "), InstallHint)
	}
	return nil
}

// Package cni writes the node's CNI network configuration: a bridge for the
// node's pod CIDRs, with port mapping and, where the plugin exists, traffic
// shaping. The container runtime reads it; this package only writes files.
package cni

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/tugcluster/tug/internal/atomicfile"
)

// Names of the network, its file and its bridge.
const (
	// NetworkName is the CNI network's name; it also names host-local's
	// allocation directory.
	NetworkName = "tug"
	// ConfigFile is the conflist's file name. Runtimes load the first file of
	// the directory in lexical order; "10-" leaves room before it.
	ConfigFile = "10-tug.conflist"
	// BridgeName is the Linux bridge pods are attached to.
	BridgeName = "tug0"
	// Version is the CNI spec version of the config; containernetworking
	// plugins 1.0 and later, and containerd 1.6, support it.
	Version = "1.0.0"
)

// DefaultBinDir is where Debian's containernetworking-plugins installs.
const DefaultBinDir = "/usr/lib/cni"

// UpstreamBinDir is where upstream release tarballs of the plugins go.
const UpstreamBinDir = "/opt/cni/bin"

// DefaultBinDirs are the plugin directories used when none are configured:
// DefaultBinDir, and UpstreamBinDir when it exists.
func DefaultBinDirs() []string {
	dirs := []string{DefaultBinDir}
	if fi, err := os.Stat(UpstreamBinDir); err == nil && fi.IsDir() {
		dirs = append(dirs, UpstreamBinDir)
	}
	return dirs
}

// FindPlugin returns the path of the executable plugin name in the first of
// dirs that has it, or "" when none does.
func FindPlugin(dirs []string, name string) string {
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Options tune the network config.
type Options struct {
	// BinDirs are searched for optional plugins (bandwidth). Default
	// DefaultBinDirs().
	BinDirs []string
	// Masquerade makes the bridge plugin SNAT traffic that leaves the pod
	// network to the node's address. Default false: tug routes pod CIDRs
	// between nodes, so pods keep their addresses.
	Masquerade bool
	// IPAMDataDir is where host-local records allocated addresses. Default
	// empty: host-local's own default, /var/lib/cni/networks.
	IPAMDataDir string
}

// WriteConfig writes <dir>/10-tug.conflist for a node whose pods take
// addresses from podCIDRs (one IPv4 and/or one IPv6 prefix). The file is
// replaced atomically and only when its content changes, since runtimes
// reload the network on every change. dir is created when missing.
func WriteConfig(dir string, podCIDRs []string, opts Options) error {
	data, err := Config(podCIDRs, opts)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, ConfigFile)
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read CNI config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}
	return nil
}

// The conflist, in the field order of the CNI spec's examples.
type (
	confList struct {
		CNIVersion string `json:"cniVersion"`
		Name       string `json:"name"`
		Plugins    []any  `json:"plugins"`
	}
	bridgeConf struct {
		Type        string   `json:"type"`
		Bridge      string   `json:"bridge"`
		IsGateway   bool     `json:"isGateway"`
		IPMasq      bool     `json:"ipMasq"`
		HairpinMode bool     `json:"hairpinMode"`
		IPAM        ipamConf `json:"ipam"`
	}
	ipamConf struct {
		Type    string        `json:"type"`
		Ranges  [][]rangeConf `json:"ranges"`
		Routes  []routeConf   `json:"routes"`
		DataDir string        `json:"dataDir,omitempty"`
	}
	rangeConf struct {
		Subnet string `json:"subnet"`
	}
	routeConf struct {
		Dst string `json:"dst"`
	}
	capabilityConf struct {
		Type         string          `json:"type"`
		Capabilities map[string]bool `json:"capabilities"`
		SNAT         *bool           `json:"snat,omitempty"`
	}
)

// Config returns the conflist WriteConfig writes.
func Config(podCIDRs []string, opts Options) ([]byte, error) {
	if len(podCIDRs) == 0 {
		return nil, errors.New("CNI config: no pod CIDR")
	}
	ipam := ipamConf{Type: "host-local", DataDir: opts.IPAMDataDir}
	var v4, v6 bool
	for _, c := range podCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("CNI config: pod CIDR: %w", err)
		}
		p = p.Masked()
		if p.Addr().Is4() && !v4 {
			v4 = true
		} else if p.Addr().Is6() && !v6 {
			v6 = true
		} else {
			return nil, fmt.Errorf("CNI config: pod CIDRs %v: at most one per IP family", podCIDRs)
		}
		// One range set per CIDR: host-local gives each pod one address
		// from every set, so a dual-stack node's pods get both families.
		ipam.Ranges = append(ipam.Ranges, []rangeConf{{Subnet: p.String()}})
	}
	if v4 {
		ipam.Routes = append(ipam.Routes, routeConf{Dst: "0.0.0.0/0"})
	}
	if v6 {
		ipam.Routes = append(ipam.Routes, routeConf{Dst: "::/0"})
	}
	snat := true
	list := confList{
		CNIVersion: Version,
		Name:       NetworkName,
		Plugins: []any{
			bridgeConf{
				Type:      "bridge",
				Bridge:    BridgeName,
				IsGateway: true,
				IPMasq:    opts.Masquerade,
				// Hairpin lets a pod reach itself through a service address
				// that the proxy translates back to the pod.
				HairpinMode: true,
				IPAM:        ipam,
			},
			// snat makes hostPort traffic from the node itself work.
			capabilityConf{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}, SNAT: &snat},
		},
	}
	binDirs := opts.BinDirs
	if binDirs == nil {
		binDirs = DefaultBinDirs()
	}
	if FindPlugin(binDirs, "bandwidth") != "" {
		list.Plugins = append(list.Plugins, capabilityConf{Type: "bandwidth", Capabilities: map[string]bool{"bandwidth": true}})
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("CNI config: %w", err)
	}
	return append(data, '\n'), nil
}

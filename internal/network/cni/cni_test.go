package cni

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// binDir returns a plugin directory holding executables named plugins.
func binDir(t *testing.T, plugins ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range plugins {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestConfigGolden(t *testing.T) {
	withBandwidth := binDir(t, "bridge", "bandwidth")
	without := binDir(t, "bridge")
	tests := []struct {
		name     string
		podCIDRs []string
		opts     Options
	}{
		{"ipv4", []string{"10.42.0.0/24"}, Options{BinDirs: []string{without, withBandwidth}}},
		{"no-bandwidth", []string{"10.42.1.0/24"}, Options{BinDirs: []string{without}}},
		{"dual-stack", []string{"10.42.2.0/24", "fd00:42:0:2::/64"}, Options{BinDirs: []string{without}}},
		{"masquerade-datadir", []string{"10.42.3.7/24"}, Options{BinDirs: []string{without}, Masquerade: true, IPAMDataDir: "/var/lib/tug/agent/cni/networks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Config(tt.podCIDRs, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".conflist")
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

// TestConfigSemantics checks what the plugins read, independent of layout.
func TestConfigSemantics(t *testing.T) {
	data, err := Config([]string{"10.250.0.0/24", "fd00::/64"}, Options{BinDirs: []string{binDir(t, "bandwidth")}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		CNIVersion string `json:"cniVersion"`
		Name       string `json:"name"`
		Plugins    []struct {
			Type         string          `json:"type"`
			Bridge       string          `json:"bridge"`
			IsGateway    bool            `json:"isGateway"`
			IPMasq       bool            `json:"ipMasq"`
			HairpinMode  bool            `json:"hairpinMode"`
			SNAT         bool            `json:"snat"`
			Capabilities map[string]bool `json:"capabilities"`
			IPAM         struct {
				Type   string `json:"type"`
				Ranges [][]struct {
					Subnet string `json:"subnet"`
				} `json:"ranges"`
				Routes []struct {
					Dst string `json:"dst"`
				} `json:"routes"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("config is not JSON: %v\n%s", err, data)
	}
	if got.CNIVersion != "1.0.0" || got.Name != "tug" {
		t.Errorf("cniVersion %q name %q, want 1.0.0 tug", got.CNIVersion, got.Name)
	}
	var types []string
	for _, p := range got.Plugins {
		types = append(types, p.Type)
	}
	if diff := cmp.Diff([]string{"bridge", "portmap", "bandwidth"}, types); diff != "" {
		t.Fatalf("plugin chain (-want +got):\n%s", diff)
	}
	br := got.Plugins[0]
	if br.Bridge != "tug0" || !br.IsGateway || br.IPMasq || !br.HairpinMode || br.IPAM.Type != "host-local" {
		t.Errorf("bridge = %+v", br)
	}
	if len(br.IPAM.Ranges) != 2 || br.IPAM.Ranges[0][0].Subnet != "10.250.0.0/24" || br.IPAM.Ranges[1][0].Subnet != "fd00::/64" {
		t.Errorf("ranges = %+v, want one set per CIDR", br.IPAM.Ranges)
	}
	if len(br.IPAM.Routes) != 2 || br.IPAM.Routes[0].Dst != "0.0.0.0/0" || br.IPAM.Routes[1].Dst != "::/0" {
		t.Errorf("routes = %+v", br.IPAM.Routes)
	}
	if pm := got.Plugins[1]; !pm.Capabilities["portMappings"] || !pm.SNAT {
		t.Errorf("portmap = %+v", pm)
	}
	if bw := got.Plugins[2]; !bw.Capabilities["bandwidth"] {
		t.Errorf("bandwidth = %+v", bw)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cidrs := range [][]string{nil, {"10.42.0.0"}, {"10.42.0.0/24", "10.43.0.0/24"}, {"fd00::/64", "fd01::/64"}} {
		if _, err := Config(cidrs, Options{BinDirs: []string{}}); err == nil {
			t.Errorf("Config(%v) succeeded, want an error", cidrs)
		}
	}
}

func TestWriteConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net.d")
	opts := Options{BinDirs: []string{}}
	path := filepath.Join(dir, ConfigFile)
	inode := func() uint64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}

	if err := WriteConfig(dir, []string{"10.42.0.0/24"}, opts); err != nil {
		t.Fatal(err)
	}
	want, err := Config([]string{"10.42.0.0/24"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
		t.Fatalf("file = %q, %v; want %q", got, err, want)
	}
	first := inode()

	// Same content: the file is left alone (an atomic rewrite would give it
	// a new inode, and the runtime would reload the network for nothing).
	if err := WriteConfig(dir, []string{"10.42.0.0/24"}, opts); err != nil {
		t.Fatal(err)
	}
	if inode() != first {
		t.Error("unchanged config was rewritten")
	}

	if err := WriteConfig(dir, []string{"10.42.9.0/24"}, opts); err != nil {
		t.Fatal(err)
	}
	want, err = Config([]string{"10.42.9.0/24"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
		t.Fatalf("file after change = %q, %v; want %q", got, err, want)
	}
	if inode() == first {
		t.Error("changed config kept the old inode: not replaced atomically")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only %s", dir, len(entries), ConfigFile)
	}
}

func TestFindPlugin(t *testing.T) {
	a, b := binDir(t, "bridge"), binDir(t, "bridge", "portmap")
	if err := os.WriteFile(filepath.Join(a, "notexec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want string
	}{
		{"bridge", filepath.Join(a, "bridge")},
		{"portmap", filepath.Join(b, "portmap")},
		{"notexec", ""},
		{"missing", ""},
	}
	for _, tt := range tests {
		if got := FindPlugin([]string{a, b}, tt.name); got != tt.want {
			t.Errorf("FindPlugin(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

package kubelet

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// hostNameservers reads the nameserver lines of the node's resolv.conf,
// which Default-policy pods inherit.
func hostNameservers(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Skipf("no host resolv.conf: %v", err)
	}
	var servers []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			servers = append(servers, f[1])
		}
	}
	return servers
}

// The expectations follow the kubelet's pkg/kubelet/network/dns: cluster
// DNS and search path for ClusterFirst (hostNetwork pods fall back to
// Default unless ClusterFirstWithHostNet), the node's resolv.conf for
// Default, nothing for None, then the pod's dnsConfig appended with
// options replaced by name. Options have no order there.
func TestDNSConfig(t *testing.T) {
	host, err := hostResolvConf()
	if err != nil {
		t.Skipf("no host resolv.conf: %v", err)
	}
	clusterSearch := append([]string{"ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"}, host.Searches...)
	pod := func(policy corev1.DNSPolicy, hostNetwork bool, cfg *corev1.PodDNSConfig) *corev1.Pod {
		p := testPod(corev1.RestartPolicyAlways, nil, "a")
		p.Spec.DNSPolicy, p.Spec.HostNetwork, p.Spec.DNSConfig = policy, hostNetwork, cfg
		return p
	}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		want        *runtimeapi.DNSConfig
		hostServers bool // want.Servers are the node's
	}{
		{
			name: "ClusterFirst",
			pod:  pod(corev1.DNSClusterFirst, false, nil),
			want: &runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: clusterSearch, Options: []string{"ndots:5"}},
		},
		{
			name: "unset policy is ClusterFirst",
			pod:  pod("", false, nil),
			want: &runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: clusterSearch, Options: []string{"ndots:5"}},
		},
		{
			name: "ClusterFirstWithHostNet on the host network",
			pod:  pod(corev1.DNSClusterFirstWithHostNet, true, nil),
			want: &runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: clusterSearch, Options: []string{"ndots:5"}},
		},
		{
			name: "ClusterFirstWithHostNet off the host network",
			pod:  pod(corev1.DNSClusterFirstWithHostNet, false, nil),
			want: &runtimeapi.DNSConfig{Servers: []string{"10.43.0.10"}, Searches: clusterSearch, Options: []string{"ndots:5"}},
		},
		{
			name:        "ClusterFirst on the host network falls back to Default",
			pod:         pod(corev1.DNSClusterFirst, true, nil),
			want:        &runtimeapi.DNSConfig{Searches: host.Searches, Options: host.Options},
			hostServers: true,
		},
		{
			name:        "Default",
			pod:         pod(corev1.DNSDefault, false, nil),
			want:        &runtimeapi.DNSConfig{Searches: host.Searches, Options: host.Options},
			hostServers: true,
		},
		{
			name: "None takes the pod's dnsConfig only",
			pod: pod(corev1.DNSNone, false, &corev1.PodDNSConfig{
				Nameservers: []string{"192.0.2.53"},
				Searches:    []string{"example.com"},
				Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "edns0"}},
			}),
			want: &runtimeapi.DNSConfig{Servers: []string{"192.0.2.53"}, Searches: []string{"example.com"}, Options: []string{"edns0", "ndots:2"}},
		},
		{
			name: "None without dnsConfig",
			pod:  pod(corev1.DNSNone, false, nil),
			want: &runtimeapi.DNSConfig{},
		},
		{
			name: "ClusterFirst plus the pod's dnsConfig",
			pod: pod(corev1.DNSClusterFirst, false, &corev1.PodDNSConfig{
				Nameservers: []string{"192.0.2.53"},
				Searches:    []string{"example.com"},
				Options: []corev1.PodDNSConfigOption{
					{Name: "ndots", Value: ptr.To("1")}, {Name: "timeout", Value: ptr.To("2")}, {Name: "single-request"},
				},
			}),
			want: &runtimeapi.DNSConfig{
				Servers:  []string{"10.43.0.10", "192.0.2.53"},
				Searches: append(slices.Clone(clusterSearch), "example.com"),
				Options:  []string{"ndots:1", "single-request", "timeout:2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newTestKubelet()
			got, err := k.dnsConfig(tt.pod)
			if err != nil {
				t.Fatal(err)
			}
			want := proto(tt.want)
			if tt.hostServers {
				want.Servers = hostNameservers(t)
			}
			slices.Sort(got.Options)
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("dnsConfig (-want +got):\n%s", diff)
			}
		})
	}
}

// proto copies a DNSConfig so that rows sharing slices stay independent.
func proto(c *runtimeapi.DNSConfig) *runtimeapi.DNSConfig {
	return &runtimeapi.DNSConfig{Servers: slices.Clone(c.Servers), Searches: slices.Clone(c.Searches), Options: slices.Clone(c.Options)}
}

func TestMergeOption(t *testing.T) {
	tests := []struct {
		opts []string
		opt  string
		want []string
	}{
		{opts: nil, opt: "ndots:2", want: []string{"ndots:2"}},
		{opts: []string{"ndots:5"}, opt: "ndots:2", want: []string{"ndots:2"}},
		{opts: []string{"ndots:5", "rotate"}, opt: "rotate", want: []string{"ndots:5", "rotate"}},
		{opts: []string{"ndots:5"}, opt: "timeout:1", want: []string{"ndots:5", "timeout:1"}},
		{opts: []string{"ndots:5"}, opt: "ndots", want: []string{"ndots"}},
		{opts: []string{"ndots:5"}, opt: "ndots5", want: []string{"ndots:5", "ndots5"}},
	}
	for _, tt := range tests {
		got := mergeOption(slices.Clone(tt.opts), tt.opt)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("mergeOption(%q, %q) (-want +got):\n%s", tt.opts, tt.opt, diff)
		}
	}
}

// The kubelet's GeneratePodHostNameAndDomain and truncatePodHostnameIfNeeded:
// spec.hostname or the pod name, cut to 63 without a trailing - or .;
// none for host-network pods (the sandbox keeps the node's).
func TestPodHostname(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		name, podName, hostname string
		hostNetwork             bool
		want                    string
	}{
		{name: "pod name", podName: "web-0", want: "web-0"},
		{name: "spec.hostname", podName: "web-0", hostname: "db", want: "db"},
		{name: "host network", podName: "web-0", hostNetwork: true, want: ""},
		{name: "63 kept", podName: strings.Repeat("b", 63), want: strings.Repeat("b", 63)},
		{name: "cut to 63", podName: long, want: long[:63]},
		{name: "no trailing dash", podName: strings.Repeat("a", 61) + "--bbb", want: strings.Repeat("a", 61)},
		{name: "no trailing dot", podName: strings.Repeat("a", 62) + ".b", want: strings.Repeat("a", 62)},
		{name: "long spec.hostname", podName: "p", hostname: strings.Repeat("c", 64), want: strings.Repeat("c", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			pod.Name, pod.Spec.Hostname, pod.Spec.HostNetwork = tt.podName, tt.hostname, tt.hostNetwork
			if got := podHostname(pod); got != tt.want {
				t.Errorf("podHostname = %q, want %q", got, tt.want)
			}
		})
	}
}

// The kubelet's managedHostsFileContent, byte for byte.
func TestEtcHosts(t *testing.T) {
	const header = "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n"
	tests := []struct {
		name                string
		hostname, subdomain string
		aliases             []corev1.HostAlias
		ips                 []string
		want                string
	}{
		{name: "no IPs yet", want: header},
		{name: "pod name", ips: []string{"10.42.0.7", "fd00::7"},
			want: header + "10.42.0.7\tweb\n" + "fd00::7\tweb\n"},
		{name: "hostname", hostname: "db", ips: []string{"10.42.0.7"}, want: header + "10.42.0.7\tdb\n"},
		{name: "subdomain", hostname: "db-0", subdomain: "db", ips: []string{"10.42.0.7"},
			want: header + "10.42.0.7\tdb-0.db.ns1.svc.cluster.local\tdb-0\n"},
		{name: "subdomain without hostname", subdomain: "sub", ips: []string{"10.42.0.7"},
			want: header + "10.42.0.7\tweb.sub.ns1.svc.cluster.local\tweb\n"},
		{name: "host aliases", ips: []string{"10.42.0.7"},
			aliases: []corev1.HostAlias{{IP: "127.0.0.2", Hostnames: []string{"foo.local", "bar.local"}}, {IP: "10.1.2.3", Hostnames: []string{"baz"}}},
			want: header + "10.42.0.7\tweb\n" + "\n# Entries added by HostAliases.\n" +
				"127.0.0.2\tfoo.local\tbar.local\n" + "10.1.2.3\tbaz\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			pod.Spec.Hostname, pod.Spec.Subdomain, pod.Spec.HostAliases = tt.hostname, tt.subdomain, tt.aliases
			if diff := cmp.Diff(tt.want, etcHosts(pod, tt.ips, "cluster.local")); diff != "" {
				t.Errorf("etcHosts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEtcHostsMount(t *testing.T) {
	k := newTestKubelet()
	k.cfg.RootDir = t.TempDir()
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	m := k.etcHostsMount(pod, []string{"10.42.0.7"})
	if m == nil || m.ContainerPath != "/etc/hosts" {
		t.Fatalf("mount = %v, want one at /etc/hosts", m)
	}
	if want := filepath.Join(k.cfg.RootDir, "pods", "uid-1", "etc-hosts"); m.HostPath != want {
		t.Errorf("host path = %s, want %s", m.HostPath, want)
	}
	data, err := os.ReadFile(m.HostPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != etcHosts(pod, []string{"10.42.0.7"}, "cluster.local") {
		t.Errorf("file content = %q", data)
	}
	// On the host network: the node's file, then the pod's hostAliases.
	pod.Spec.HostNetwork = true
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"alias.example"}}}
	m = k.etcHostsMount(pod, nil)
	if m == nil {
		t.Fatal("host-network pod got no /etc/hosts")
	}
	node, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(m.HostPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(node) + "\n# Entries added by HostAliases.\n10.1.2.3\talias.example\n"; string(data) != want {
		t.Errorf("host-network hosts file = %q, want %q", data, want)
	}
}

func TestPodLabels(t *testing.T) {
	pod := testPod(corev1.RestartPolicyAlways, nil, "a")
	pod.Labels = map[string]string{"app": "web"}
	want := map[string]string{
		"io.kubernetes.pod.name":      "web",
		"io.kubernetes.pod.namespace": "ns1",
		"io.kubernetes.pod.uid":       "uid-1",
	}
	got := podLabels(pod)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q", k, got[k], v)
		}
	}
	// Each call is a fresh map: callers add the container name to it.
	got[LabelContainerName] = "a"
	if _, ok := podLabels(pod)[LabelContainerName]; ok {
		t.Error("podLabels returned a shared map")
	}
}

// The kubelet's generatePodSandboxLinuxConfig: namespaces from hostNetwork,
// hostPID, hostIPC and shareProcessNamespace; pod-level user, groups and
// sysctls; privileged when any container is.
func TestLinuxSandboxConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*corev1.Pod)
		want *runtimeapi.LinuxPodSandboxConfig
	}{
		{
			name: "defaults",
			mod:  func(*corev1.Pod) {},
			want: sandboxLinux(runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD, nil),
		},
		{
			name: "host namespaces",
			mod:  func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true },
			want: sandboxLinux(runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_NODE, runtimeapi.NamespaceMode_NODE, nil),
		},
		{
			name: "shared process namespace",
			mod:  func(p *corev1.Pod) { p.Spec.ShareProcessNamespace = ptr.To(true) },
			want: sandboxLinux(runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_POD, nil),
		},
		{
			name: "pod security context and sysctls",
			mod: func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{
					RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](3000),
					SupplementalGroups: []int64{4000}, FSGroup: ptr.To[int64](2000),
					Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
				}
			},
			want: sandboxLinux(runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD,
				func(l *runtimeapi.LinuxPodSandboxConfig) {
					l.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
					l.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 3000}
					l.SecurityContext.SupplementalGroups = []int64{2000, 4000}
					l.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}
				}),
		},
		{
			name: "a privileged init container makes the sandbox privileged",
			mod: func(p *corev1.Pod) {
				c := initC("setup")
				c.SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
				p.Spec.InitContainers = append(p.Spec.InitContainers, c)
			},
			want: sandboxLinux(runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER, runtimeapi.NamespaceMode_POD,
				func(l *runtimeapi.LinuxPodSandboxConfig) { l.SecurityContext.Privileged = true }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(corev1.RestartPolicyAlways, nil, "a")
			tt.mod(pod)
			got := newTestKubelet().linuxSandboxConfig(pod)
			slices.Sort(got.SecurityContext.SupplementalGroups) // a set: the kubelet puts fsGroup first
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("linuxSandboxConfig (-want +got):\n%s", diff)
			}
		})
	}
}

func sandboxLinux(network, pid, ipc runtimeapi.NamespaceMode, mod func(*runtimeapi.LinuxPodSandboxConfig)) *runtimeapi.LinuxPodSandboxConfig {
	l := &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: network, Pid: pid, Ipc: ipc},
	}}
	if mod != nil {
		mod(l)
	}
	return l
}

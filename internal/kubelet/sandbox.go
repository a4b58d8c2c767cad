package kubelet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// podLogDir is where the runtime writes pod's container logs.
func (k *Kubelet) podLogDir(pod *corev1.Pod) string {
	return filepath.Join(k.cfg.PodLogsDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// podsDir is where pods' volumes live.
func podsDir(rootDir string) string { return filepath.Join(rootDir, "pods") }

// sandboxConfig is the CRI sandbox of pod, attempt counting its sandboxes.
func (k *Kubelet) sandboxConfig(pod *corev1.Pod, attempt uint32) (*runtimeapi.PodSandboxConfig, error) {
	hostname := podHostname(pod)
	dns, err := k.dnsConfig(pod)
	if err != nil {
		return nil, err
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{
			Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt,
		},
		Hostname:     hostname,
		LogDirectory: k.podLogDir(pod),
		DnsConfig:    dns,
		Labels:       podLabels(pod),
		Annotations:  pod.Annotations,
		Linux:        k.linuxSandboxConfig(pod),
	}
	for _, c := range allContainers(pod) {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			cfg.PortMappings = append(cfg.PortMappings, &runtimeapi.PortMapping{
				Protocol:      protocolOf(p.Protocol),
				ContainerPort: p.ContainerPort,
				HostPort:      p.HostPort,
				HostIp:        p.HostIP,
			})
		}
	}
	return cfg, nil
}

func protocolOf(p corev1.Protocol) runtimeapi.Protocol {
	switch p {
	case corev1.ProtocolUDP:
		return runtimeapi.Protocol_UDP
	case corev1.ProtocolSCTP:
		return runtimeapi.Protocol_SCTP
	default:
		return runtimeapi.Protocol_TCP
	}
}

// linuxSandboxConfig sets the sandbox's namespaces and pod-level security.
func (k *Kubelet) linuxSandboxConfig(pod *corev1.Pod) *runtimeapi.LinuxPodSandboxConfig {
	user, group, groups := podRunAs(pod)
	sc := &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: namespaceOptions(pod), RunAsUser: user, RunAsGroup: group, SupplementalGroups: groups,
	}
	for _, c := range allContainers(pod) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			sc.Privileged = true
		}
	}
	linux := &runtimeapi.LinuxPodSandboxConfig{SecurityContext: sc}
	if psc := pod.Spec.SecurityContext; psc != nil && len(psc.Sysctls) > 0 {
		linux.Sysctls = map[string]string{}
		for _, s := range psc.Sysctls {
			linux.Sysctls[s.Name] = s.Value
		}
	}
	return linux
}

// namespaceOptions are the pod's network, PID and IPC namespaces: the
// pod's own, or the node's (host*), with a shared PID namespace on request.
func namespaceOptions(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{
		Network: runtimeapi.NamespaceMode_POD,
		Pid:     runtimeapi.NamespaceMode_CONTAINER,
		Ipc:     runtimeapi.NamespaceMode_POD,
	}
	if pod.Spec.HostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostPID {
		ns.Pid = runtimeapi.NamespaceMode_NODE
	} else if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if pod.Spec.HostIPC {
		ns.Ipc = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

// podRunAs is the pod security context's user, group and supplemental
// groups (fsGroup among them).
func podRunAs(pod *corev1.Pod) (user, group *runtimeapi.Int64Value, groups []int64) {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		return nil, nil, nil
	}
	if psc.RunAsUser != nil {
		user = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
	}
	if psc.RunAsGroup != nil {
		group = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
	}
	groups = append(groups, psc.SupplementalGroups...)
	if psc.FSGroup != nil {
		groups = append(groups, *psc.FSGroup)
	}
	return user, group, groups
}

// podHostname is the pod's hostname: spec.hostname or the pod name, cut to
// 63 characters as the kubelet does; none on the host network, whose
// pods share the node's UTS namespace (runc refuses to set one there).
func podHostname(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork {
		return ""
	}
	name := pod.Name
	if pod.Spec.Hostname != "" {
		name = pod.Spec.Hostname
	}
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-.")
	}
	return name
}

// dnsConfig is the pod's resolv.conf as its dnsPolicy says.
func (k *Kubelet) dnsConfig(pod *corev1.Pod) (*runtimeapi.DNSConfig, error) {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	cfg := &runtimeapi.DNSConfig{}
	switch policy {
	case corev1.DNSNone:
	case corev1.DNSDefault:
		host, err := hostResolvConf()
		if err != nil {
			return nil, err
		}
		cfg = host
	default: // ClusterFirst, ClusterFirstWithHostNet
		host, _ := hostResolvConf()
		d := k.cfg.ClusterDomain
		cfg.Servers = append(cfg.Servers, k.cfg.ClusterDNS...)
		cfg.Searches = []string{pod.Namespace + ".svc." + d, "svc." + d, d}
		if host != nil {
			cfg.Searches = append(cfg.Searches, host.Searches...)
		}
		cfg.Options = []string{"ndots:5"}
	}
	if pc := pod.Spec.DNSConfig; pc != nil {
		cfg.Servers = append(cfg.Servers, pc.Nameservers...)
		cfg.Searches = append(cfg.Searches, pc.Searches...)
		for _, o := range pc.Options {
			opt := o.Name
			if o.Value != nil && *o.Value != "" {
				opt += ":" + *o.Value
			}
			cfg.Options = mergeOption(cfg.Options, opt)
		}
	}
	cfg.Servers = firstUnique(cfg.Servers, maxDNSNameservers)
	cfg.Searches = limitSearches(firstUnique(cfg.Searches, maxDNSSearches))
	return cfg, nil
}

// The resolver's limits, as the kubelet applies them.
const (
	maxDNSNameservers     = 3
	maxDNSSearches        = 32
	maxDNSSearchListChars = 2048
)

// firstUnique drops repeated entries and keeps at most n.
func firstUnique(in []string, n int) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] && len(out) < n {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// limitSearches keeps the search domains that fit the resolver's
// character limit.
func limitSearches(in []string) []string {
	total := 0
	for i, s := range in {
		total += len(s) + 1
		if total > maxDNSSearchListChars {
			return in[:i]
		}
	}
	return in
}

// mergeOption adds opt, replacing an option of the same name.
func mergeOption(opts []string, opt string) []string {
	name, _, _ := strings.Cut(opt, ":")
	for i, o := range opts {
		if n, _, _ := strings.Cut(o, ":"); n == name {
			opts[i] = opt
			return opts
		}
	}
	return append(opts, opt)
}

// hostResolvConf reads the node's /etc/resolv.conf.
func hostResolvConf() (*runtimeapi.DNSConfig, error) {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("read host resolv.conf: %w", err)
	}
	defer func() { _ = f.Close() }()
	cfg := &runtimeapi.DNSConfig{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			cfg.Servers = append(cfg.Servers, fields[1])
		case "search":
			cfg.Searches = fields[1:]
		case "options":
			cfg.Options = fields[1:]
		}
	}
	return cfg, sc.Err()
}

// createSandbox runs a new sandbox for pod and returns its ID.
func (k *Kubelet) createSandbox(ctx context.Context, pod *corev1.Pod, attempt uint32) (string, error) {
	cfg, err := k.sandboxConfig(pod, attempt)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", fmt.Errorf("create log directory: %w", err)
	}
	resp, err := k.runtime.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		return "", fmt.Errorf("run sandbox: %w", err)
	}
	klog.FromContext(ctx).V(2).Info("Sandbox running", "sandbox", resp.PodSandboxId, "attempt", attempt)
	return resp.PodSandboxId, nil
}

// sandboxConfigAndIPs returns the config the sandbox was made with (the
// runtime wants it again for each container) and its pod IPs.
func (k *Kubelet) sandboxConfigAndIPs(ctx context.Context, pod *corev1.Pod, sb *runtimeapi.PodSandbox) (*runtimeapi.PodSandboxConfig, []string, error) {
	cfg, err := k.sandboxConfig(pod, sb.Metadata.GetAttempt())
	if err != nil {
		return nil, nil, err
	}
	ips, err := k.sandboxIPs(ctx, pod, sb.Id)
	return cfg, ips, err
}

// sandboxIPs are the pod's IPs: the node's on the host network.
func (k *Kubelet) sandboxIPs(ctx context.Context, pod *corev1.Pod, sandboxID string) ([]string, error) {
	if pod.Spec.HostNetwork {
		ips := make([]string, 0, len(k.cfg.NodeIPs))
		for _, ip := range k.cfg.NodeIPs {
			ips = append(ips, ip.String())
		}
		return ips, nil
	}
	st, err := k.runtime.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandboxID})
	if err != nil {
		return nil, fmt.Errorf("sandbox status: %w", err)
	}
	var ips []string
	if n := st.GetStatus().GetNetwork(); n != nil && n.Ip != "" {
		ips = append(ips, n.Ip)
		for _, a := range n.AdditionalIps {
			ips = append(ips, a.Ip)
		}
	}
	return ips, nil
}

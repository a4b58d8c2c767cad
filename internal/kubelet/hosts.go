package kubelet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// etcHostsMount is the /etc/hosts the kubelet writes for a pod: off the
// host network localhost, the pod's own name and IPs; on it the node's
// file; then the pod's hostAliases.
func (k *Kubelet) etcHostsMount(pod *corev1.Pod, podIPs []string) *runtimeapi.Mount {
	content := etcHosts(pod, podIPs, k.cfg.ClusterDomain)
	if pod.Spec.HostNetwork {
		node, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return nil
		}
		content = string(node) + hostAliases(pod)
	}
	path := filepath.Join(podsDir(k.cfg.RootDir), string(pod.UID), "etc-hosts")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil { //nolint:gosec // read by every container user
		return nil
	}
	return &runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: path}
}

// etcHosts is the content of a pod's /etc/hosts.
func etcHosts(pod *corev1.Pod, podIPs []string, domain string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	hostname := podHostname(pod)
	for _, ip := range podIPs {
		if pod.Spec.Subdomain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, hostname, pod.Spec.Subdomain, pod.Namespace, domain, hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
		}
	}
	b.WriteString(hostAliases(pod))
	return b.String()
}

// hostAliases is the hosts-file block of the pod's hostAliases.
func hostAliases(pod *corev1.Pod) string {
	if len(pod.Spec.HostAliases) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, a := range pod.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return b.String()
}

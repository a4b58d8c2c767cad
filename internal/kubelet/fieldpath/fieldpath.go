package fieldpath

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FieldValue returns the value of fieldPath in pod, as the downward API
// presents it. Supported paths: metadata.name, metadata.namespace,
// metadata.uid, metadata.labels['key'], metadata.annotations['key'] (empty
// when the key is absent), metadata.labels and metadata.annotations (the
// whole map as sorted key="value" lines; the API allows these only in
// volumes), spec.nodeName, spec.serviceAccountName, status.hostIP,
// status.hostIPs, status.podIP and status.podIPs (the lists comma-joined).
func FieldValue(pod *corev1.Pod, fieldPath string) (string, error) {
	if path, key, ok := subscript(fieldPath); ok {
		switch path {
		case "metadata.labels":
			return pod.Labels[key], nil
		case "metadata.annotations":
			return pod.Annotations[key], nil
		}
		return "", fmt.Errorf("unsupported field path %q", fieldPath)
	}
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.hostIPs":
		ips := make([]string, 0, len(pod.Status.HostIPs))
		for _, ip := range pod.Status.HostIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, 0, len(pod.Status.PodIPs))
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	}
	return "", fmt.Errorf("unsupported field path %q", fieldPath)
}

// subscript splits "metadata.labels['key']" into the map path and the key.
// The key is the text between the quotes as written: label and annotation
// keys cannot hold a quote, so there is nothing to unescape.
func subscript(fieldPath string) (path, key string, ok bool) {
	open := strings.Index(fieldPath, "['")
	if open < 0 || !strings.HasSuffix(fieldPath, "']") || open+2 > len(fieldPath)-2 {
		return "", "", false
	}
	return fieldPath[:open], fieldPath[open+2 : len(fieldPath)-2], true
}

// formatMap renders a label or annotation map as one key="value" line per
// entry, sorted by key so that the file content is stable, with the value
// quoted the way Go quotes strings (which is what Kubernetes clients parse).
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

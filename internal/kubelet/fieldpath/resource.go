package fieldpath

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ResourceValue returns a container's request or limit as the downward API
// presents it: ref.Resource is limits.<name> or requests.<name> for cpu,
// memory, ephemeral-storage or hugepages-<size>, divided by ref.Divisor
// (default 1) and rounded up to an integer, so that a container asking for
// 250m CPU sees 1 and one asking for 1.5Gi with divisor 1Gi sees 2. A
// limit the container does not set is the node's allocatable amount, since
// that is the most the container can use. ref.ContainerName names a
// container or init container of pod; callers resolving an env var fill in
// the current container when the API left it empty.
func ResourceValue(pod *corev1.Pod, ref *corev1.ResourceFieldSelector, nodeAllocatable corev1.ResourceList) (string, error) {
	c := findContainer(pod, ref.ContainerName)
	if c == nil {
		return "", fmt.Errorf("container %q not found in pod %s/%s", ref.ContainerName, pod.Namespace, pod.Name)
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") || !supportedResource(name) {
		return "", fmt.Errorf("unsupported resource %q", ref.Resource)
	}
	var q resource.Quantity
	if kind == "limits" {
		var set bool
		if q, set = c.Resources.Limits[corev1.ResourceName(name)]; !set {
			q = nodeAllocatable[corev1.ResourceName(name)]
		}
	} else {
		q = c.Resources.Requests[corev1.ResourceName(name)]
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == string(corev1.ResourceCPU) {
		// CPU divisors go down to 1m, so compare in millicores.
		return strconv.FormatInt(ceilDiv(q.MilliValue(), divisor.MilliValue()), 10), nil
	}
	return strconv.FormatInt(ceilDiv(q.Value(), divisor.Value()), 10), nil
}

func supportedResource(name string) bool {
	switch corev1.ResourceName(name) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	return nil
}

// ceilDiv divides a by b rounding up; quantities are never negative. A
// divisor that rounds to zero (such as 1m for memory) counts as 1.
func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		b = 1
	}
	q := a / b
	if a%b > 0 {
		q++
	}
	return q
}

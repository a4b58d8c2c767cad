package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// explicitNames are the resources every container must state once a
// quota limits them: Kubernetes has asked this since before QoS classes
// existed, and clients rely on the refusal.
var explicitNames = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
}

// PodConstraints returns an error naming, per resource, the containers
// that do not state a request or limit the quota constrains (required are
// the quota's resources that charge pods). Pod-level resources satisfy it
// for the whole pod.
func PodConstraints(required []corev1.ResourceName, pod *corev1.Pod) error {
	if r := pod.Spec.Resources; r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		return nil
	}
	var checked []corev1.ResourceName
	for _, name := range required {
		for _, e := range explicitNames {
			if name == e {
				checked = append(checked, name)
			}
		}
	}
	if len(checked) == 0 {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			c := &cs[i]
			stated := computeUsage(containerRequests(c), c.Resources.Limits)
			for _, name := range checked {
				if _, ok := stated[name]; !ok {
					missing[name] = append(missing[name], c.Name)
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	parts := make([]string, 0, len(missing))
	for name, containers := range missing {
		sort.Strings(containers)
		parts = append(parts, fmt.Sprintf("%s for: %s", name, strings.Join(containers, ",")))
	}
	sort.Strings(parts)
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

// Package quotatest builds and prints resource lists for tests: of quota
// usage, the resource quota controller and its admission plugin, and the
// kubelet's resource admission.
package quotatest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// List builds a ResourceList from name, quantity pairs.
func List(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// Show prints a list for comparison: quantities compare by value, and
// "1000m" and "1" print alike.
func Show(l corev1.ResourceList) map[string]string {
	out := map[string]string{}
	for name, v := range l {
		out[string(name)] = v.String()
	}
	return out
}

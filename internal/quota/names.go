// Package quota evaluates ResourceQuota usage: what an object charges
// against a quota, which quotas select it (scopes), and the arithmetic on
// resource lists. The resource quota controller and the ResourceQuota
// admission plugin share it so that they always agree on what is used.
package quota

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group resources with their own evaluators; every other resource is only
// counted (count/<resource>.<group>).
var (
	Pods                   = schema.GroupResource{Resource: "pods"}
	Services               = schema.GroupResource{Resource: "services"}
	PersistentVolumeClaims = schema.GroupResource{Resource: "persistentvolumeclaims"}
)

// legacyCounts are the object counts that predate count/*: the quota
// names them by the bare resource.
var legacyCounts = map[corev1.ResourceName]schema.GroupResource{
	corev1.ResourcePods:                   Pods,
	corev1.ResourceServices:               Services,
	corev1.ResourceReplicationControllers: {Resource: "replicationcontrollers"},
	corev1.ResourceQuotas:                 {Resource: "resourcequotas"},
	corev1.ResourceSecrets:                {Resource: "secrets"},
	corev1.ResourceConfigMaps:             {Resource: "configmaps"},
	corev1.ResourcePersistentVolumeClaims: PersistentVolumeClaims,
}

const (
	countPrefix        = "count/"
	storageClassSuffix = ".storageclass.storage.k8s.io/"
)

// CountName is the object-count resource of gr: count/pods,
// count/deployments.apps.
func CountName(gr schema.GroupResource) corev1.ResourceName {
	if gr.Group == "" {
		return corev1.ResourceName(countPrefix + gr.Resource)
	}
	return corev1.ResourceName(countPrefix + gr.Resource + "." + gr.Group)
}

// legacyName is gr's bare object-count name, or "".
func legacyName(gr schema.GroupResource) corev1.ResourceName {
	for name, r := range legacyCounts {
		if r == gr {
			return name
		}
	}
	return ""
}

// StorageClassName is the per-class form of a claim resource:
// gold.storageclass.storage.k8s.io/requests.storage.
func StorageClassName(class string, name corev1.ResourceName) corev1.ResourceName {
	return corev1.ResourceName(class + storageClassSuffix + string(name))
}

// podComputeNames are the pod resources charged from requests and limits.
var podComputeNames = map[corev1.ResourceName]bool{
	corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true,
	corev1.ResourceRequestsCPU: true, corev1.ResourceRequestsMemory: true, corev1.ResourceRequestsEphemeralStorage: true,
	corev1.ResourceLimitsCPU: true, corev1.ResourceLimitsMemory: true, corev1.ResourceLimitsEphemeralStorage: true,
}

// ResourceOf returns the group resource whose objects are charged for
// the quota resource name; ok is false for names nothing is charged for.
func ResourceOf(name corev1.ResourceName) (gr schema.GroupResource, ok bool) {
	s := string(name)
	if rest, found := strings.CutPrefix(s, countPrefix); found {
		resource, group, _ := strings.Cut(rest, ".")
		return schema.GroupResource{Group: group, Resource: resource}, resource != ""
	}
	if gr, found := legacyCounts[name]; found {
		return gr, true
	}
	switch {
	case podComputeNames[name], strings.HasPrefix(s, corev1.ResourceHugePagesPrefix),
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix),
		strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) && isExtended(strings.TrimPrefix(s, corev1.DefaultResourceRequestsPrefix)):
		return Pods, true
	case name == corev1.ResourceServicesNodePorts, name == corev1.ResourceServicesLoadBalancers:
		return Services, true
	case name == corev1.ResourceRequestsStorage:
		return PersistentVolumeClaims, true
	}
	if i := strings.Index(s, storageClassSuffix); i > 0 {
		switch corev1.ResourceName(s[i+len(storageClassSuffix):]) {
		case corev1.ResourceRequestsStorage, corev1.ResourcePersistentVolumeClaims:
			return PersistentVolumeClaims, true
		}
	}
	return schema.GroupResource{}, false
}

// isExtended reports whether a container resource is an extended resource
// (example.com/dongle): domain-qualified, outside kubernetes.io, and not
// itself a requests.* name.
func isExtended(name string) bool {
	return strings.Contains(name, "/") && !strings.Contains(name, "kubernetes.io/") &&
		!strings.HasPrefix(name, corev1.DefaultResourceRequestsPrefix)
}

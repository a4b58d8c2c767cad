package quota

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func one() resource.Quantity { return *resource.NewQuantity(1, resource.DecimalSI) }

// Usage returns what one object of gr charges. Pods, services and
// persistent volume claims charge their own resources when obj is of their
// Go type; every object charges its object count. now decides whether a
// pod being deleted has outlived its grace period.
func Usage(gr schema.GroupResource, obj runtime.Object, now time.Time) corev1.ResourceList {
	switch o := obj.(type) {
	case *corev1.Pod:
		if gr == Pods {
			return PodUsage(o, now)
		}
	case *corev1.Service:
		if gr == Services {
			return ServiceUsage(o)
		}
	case *corev1.PersistentVolumeClaim:
		if gr == PersistentVolumeClaims {
			return ClaimUsage(o)
		}
	}
	return CountUsage(gr)
}

// CountUsage is what an object of gr charges when only counted.
func CountUsage(gr schema.GroupResource) corev1.ResourceList {
	out := corev1.ResourceList{CountName(gr): one()}
	if name := legacyName(gr); name != "" {
		out[name] = one()
	}
	return out
}

// PodCharged reports whether a pod's compute resources (and "pods") are
// charged: not once it has finished, nor once it has been deleted and its
// grace period is over (a pod stuck on a lost node must not block its
// replacement).
func PodCharged(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		end := pod.DeletionTimestamp.Add(time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second)
		if now.After(end) {
			return false
		}
	}
	return true
}

// PodUsage is what a pod charges: count/pods always, the rest while it is
// charged (PodCharged).
func PodUsage(pod *corev1.Pod, now time.Time) corev1.ResourceList {
	out := corev1.ResourceList{CountName(Pods): one()}
	if !PodCharged(pod, now) {
		return out
	}
	return Add(out, computeUsage(PodRequests(pod), PodLimits(pod)))
}

// computeUsage turns requests and limits into the quota names they charge.
func computeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: one()}
	for _, r := range []struct{ bare, req, lim corev1.ResourceName }{
		{corev1.ResourceCPU, corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU},
		{corev1.ResourceMemory, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory},
		{corev1.ResourceEphemeralStorage, corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage},
	} {
		if v, ok := requests[r.bare]; ok {
			out[r.bare] = v.DeepCopy()
			out[r.req] = v.DeepCopy()
		}
		if v, ok := limits[r.bare]; ok {
			out[r.lim] = v.DeepCopy()
		}
	}
	for name, v := range requests {
		s := string(name)
		switch {
		case strings.HasPrefix(s, corev1.ResourceHugePagesPrefix):
			out[name] = v.DeepCopy()
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+s)] = v.DeepCopy()
		case isExtended(s):
			// Extended resources are quota'd by their requests only.
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+s)] = v.DeepCopy()
		}
	}
	return out
}

// containerRequests are a container's requests, a limit standing in for a
// missing request as API defaulting makes it (admission sees pods before
// defaulting).
func containerRequests(c *corev1.Container) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, v := range c.Resources.Limits {
		out[name] = v
	}
	for name, v := range c.Resources.Requests {
		out[name] = v
	}
	return out
}

func containerLimits(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits }

// PodRequests is the pod's effective request: its containers and sidecars
// together, or the largest init container phase if that is more, plus
// overhead; pod-level requests replace the aggregate where set.
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
	out := aggregate(pod, containerRequests)
	if pod.Spec.Resources != nil {
		for name, v := range pod.Spec.Resources.Limits {
			out[name] = v.DeepCopy()
		}
		for name, v := range pod.Spec.Resources.Requests {
			out[name] = v.DeepCopy()
		}
	}
	return Add(out, pod.Spec.Overhead)
}

// PodLimits is the pod's effective limit, aggregated as PodRequests.
func PodLimits(pod *corev1.Pod) corev1.ResourceList {
	out := aggregate(pod, containerLimits)
	if pod.Spec.Resources != nil {
		for name, v := range pod.Spec.Resources.Limits {
			out[name] = v.DeepCopy()
		}
	}
	// Overhead adds to a limit only where there is one.
	for name, v := range pod.Spec.Overhead {
		if cur, ok := out[name]; ok {
			cur.Add(v)
			out[name] = cur
		}
	}
	return out
}

// aggregate sums what the pod's containers and sidecars (restartable init
// containers) hold, then takes, per resource, the larger of that and the
// peak of the init phase: each init container runs alone beside the
// sidecars started before it.
func aggregate(pod *corev1.Pod, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		sum = Add(sum, of(&pod.Spec.Containers[i]))
	}
	sidecars, initPeak := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		r := of(c)
		phase := Add(sidecars, r)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sum = Add(sum, r)
			sidecars = phase
		}
		maxInto(initPeak, phase)
	}
	maxInto(sum, initPeak)
	return sum
}

func maxInto(dst, src corev1.ResourceList) {
	for name, v := range src {
		if cur, ok := dst[name]; !ok || v.Cmp(cur) > 0 {
			dst[name] = v.DeepCopy()
		}
	}
}

// IsBestEffort reports whether the pod has the BestEffort QoS class: no
// container, and not the pod, sets a cpu or memory request or limit.
func IsBestEffort(pod *corev1.Pod) bool {
	positive := func(list corev1.ResourceList) bool {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if v, ok := list[name]; ok && v.Sign() > 0 {
				return true
			}
		}
		return false
	}
	if r := pod.Spec.Resources; r != nil && (positive(r.Requests) || positive(r.Limits)) {
		return false
	}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if positive(cs[i].Resources.Requests) || positive(cs[i].Resources.Limits) {
				return false
			}
		}
	}
	return true
}

// ServiceUsage is what a service charges: itself, a load balancer, and a
// node port per port for NodePort services and for LoadBalancer services
// that allocate node ports.
func ServiceUsage(svc *corev1.Service) corev1.ResourceList {
	out := CountUsage(Services)
	ports := *resource.NewQuantity(int64(len(svc.Spec.Ports)), resource.DecimalSI)
	zero := *resource.NewQuantity(0, resource.DecimalSI)
	out[corev1.ResourceServicesNodePorts] = zero.DeepCopy()
	out[corev1.ResourceServicesLoadBalancers] = zero.DeepCopy()
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		out[corev1.ResourceServicesNodePorts] = ports
	case corev1.ServiceTypeLoadBalancer:
		out[corev1.ResourceServicesLoadBalancers] = one()
		if a := svc.Spec.AllocateLoadBalancerNodePorts; a == nil || *a {
			out[corev1.ResourceServicesNodePorts] = ports
		}
	}
	return out
}

// ClaimStorageClass is the claim's storage class: the field, else the old
// beta annotation.
func ClaimStorageClass(pvc *corev1.PersistentVolumeClaim) string {
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return pvc.Annotations[corev1.BetaStorageClassAnnotation]
}

// ClaimUsage is what a claim charges: itself and the storage it requests
// (or was allocated, if more, while an expansion is under way), also per
// storage class.
func ClaimUsage(pvc *corev1.PersistentVolumeClaim) corev1.ResourceList {
	out := CountUsage(PersistentVolumeClaims)
	class := ClaimStorageClass(pvc)
	if class != "" {
		out[StorageClassName(class, corev1.ResourcePersistentVolumeClaims)] = one()
	}
	storage, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if allocated, has := pvc.Status.AllocatedResources[corev1.ResourceStorage]; has && (!ok || allocated.Cmp(storage) > 0) {
		storage, ok = allocated, true
	}
	if ok {
		out[corev1.ResourceRequestsStorage] = storage.DeepCopy()
		if class != "" {
			out[StorageClassName(class, corev1.ResourceRequestsStorage)] = storage.DeepCopy()
		}
	}
	return out
}

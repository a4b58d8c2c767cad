package framework

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Resource is an amount of each schedulable resource: cpu in millicores,
// memory and ephemeral storage in bytes, pod count, and extended resources
// (hugepages, devices) by name.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	ScalarResources  map[corev1.ResourceName]int64
}

// NewResource reads a ResourceList (a node's allocatable, a container's
// requests).
func NewResource(rl corev1.ResourceList) *Resource {
	r := &Resource{}
	r.Add(rl)
	return r
}

// Add adds each quantity in rl.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if IsScalarResource(name) {
				r.AddScalar(name, q.Value())
			}
		}
	}
}

// AddScalar adds n of an extended resource.
func (r *Resource) AddScalar(name corev1.ResourceName, n int64) {
	if r.ScalarResources == nil {
		r.ScalarResources = map[corev1.ResourceName]int64{}
	}
	r.ScalarResources[name] += n
}

// AddResource adds every amount in o (pods included).
func (r *Resource) AddResource(o *Resource) { r.combine(o, 1) }

// SubtractResource subtracts every amount in o (pods included).
func (r *Resource) SubtractResource(o *Resource) { r.combine(o, -1) }

func (r *Resource) combine(o *Resource, sign int64) {
	r.MilliCPU += sign * o.MilliCPU
	r.Memory += sign * o.Memory
	r.EphemeralStorage += sign * o.EphemeralStorage
	r.AllowedPodNumber += sign * o.AllowedPodNumber
	for name, n := range o.ScalarResources {
		r.AddScalar(name, sign*n)
	}
}

// SetMax raises each amount in r to at least the one in rl.
func (r *Resource) SetMax(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for name, n := range o.ScalarResources {
		if n > r.ScalarResources[name] {
			if r.ScalarResources == nil {
				r.ScalarResources = map[corev1.ResourceName]int64{}
			}
			r.ScalarResources[name] = n
		}
	}
}

// Clone returns a deep copy.
func (r *Resource) Clone() *Resource {
	out := *r
	if r.ScalarResources != nil {
		out.ScalarResources = make(map[corev1.ResourceName]int64, len(r.ScalarResources))
		for k, v := range r.ScalarResources {
			out.ScalarResources[k] = v
		}
	}
	return &out
}

// IsScalarResource reports resources counted as plain integers by the
// scheduler: extended resources (a domain-qualified name outside
// kubernetes.io), hugepages and attachable volumes.
func IsScalarResource(name corev1.ResourceName) bool {
	s := string(name)
	if strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(s, "attachable-volumes-") {
		return true
	}
	domain, _, found := strings.Cut(s, "/")
	if !found || domain == "" {
		return false
	}
	return domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io") && domain != "requests"
}

// Defaults the scheduler assumes for containers that request no cpu or
// memory, so that scoring spreads such pods instead of piling them onto
// one node (Kubernetes uses the same values).
const (
	DefaultMilliCPURequest int64 = 100
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024
)

// PodRequests returns what pod asks a node for, the way the kubelet admits
// it: the larger of (regular containers plus restartable init "sidecar"
// containers) and the peak during init (each init container plus the
// sidecars started before it), plus the pod overhead. Pod-level resources
// (spec.resources), when set, replace the container sums.
// AllowedPodNumber is 1. With nonZero, containers without a cpu or memory
// request count the defaults above.
func PodRequests(pod *corev1.Pod, nonZero bool) *Resource {
	total := &Resource{}
	sidecars := &Resource{}
	initPeak := &Resource{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		req := containerRequests(c, nonZero)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.AddResource(req)
			initPeak.SetMax(sidecars)
			continue
		}
		during := sidecars.Clone()
		during.AddResource(req)
		initPeak.SetMax(during)
	}
	for i := range pod.Spec.Containers {
		total.AddResource(containerRequests(&pod.Spec.Containers[i], nonZero))
	}
	total.AddResource(sidecars)
	total.SetMax(initPeak)
	if pod.Spec.Resources != nil && len(pod.Spec.Resources.Requests) > 0 {
		level := NewResource(pod.Spec.Resources.Requests)
		if _, ok := pod.Spec.Resources.Requests[corev1.ResourceCPU]; ok {
			total.MilliCPU = level.MilliCPU
		}
		if _, ok := pod.Spec.Resources.Requests[corev1.ResourceMemory]; ok {
			total.Memory = level.Memory
		}
	}
	if pod.Spec.Overhead != nil {
		total.Add(pod.Spec.Overhead)
	}
	total.AllowedPodNumber = 1
	return total
}

func containerRequests(c *corev1.Container, nonZero bool) *Resource {
	r := NewResource(c.Resources.Requests)
	r.AllowedPodNumber = 0
	if nonZero {
		if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
			r.MilliCPU = DefaultMilliCPURequest
		}
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			r.Memory = DefaultMemoryRequest
		}
	}
	return r
}

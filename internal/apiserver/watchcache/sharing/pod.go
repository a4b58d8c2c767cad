package sharing

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// podTables hold the shared parts of pod specs.
type podTables struct {
	// specs are specs without what differs between the pods of one
	// template: their node and host names.
	specs *table[corev1.PodSpec]
	// Pods whose specs differ share what they can on its own: the rest
	// of the spec (without containers and volumes), containers without
	// their volume mounts, and volume sources.
	rests      *table[corev1.PodSpec]
	containers *table[corev1.Container]
	volumes    *table[corev1.VolumeSource]
	// conditions are alike for pods that started in the same second.
	conditions *table[[]corev1.PodCondition]
}

func newPodTables() podTables {
	return podTables{
		specs:      newTable("pod spec", protoKey[corev1.PodSpec]),
		rests:      newTable("pod spec without containers and volumes", protoKey[corev1.PodSpec]),
		containers: newTable("container", protoKey[corev1.Container]),
		volumes:    newTable("volume source", protoKey[corev1.VolumeSource]),
		conditions: newTable("pod conditions", protosKey[corev1.PodCondition]),
	}
}

func (s *sharer) sharePod(obj runtime.Object) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if c := pod.Status.Conditions; len(c) > 0 {
		pod.Status.Conditions = s.pods.conditions.share(&s.key, c)
	}
	spec := &pod.Spec
	key, ok := s.pods.specs.encode(&s.key, withoutOwnNames(*spec))
	if !ok {
		return
	}
	if shared, ok := s.pods.specs.get(&s.key, key); ok {
		*spec = withOwnNames(shared, spec)
		return
	}
	specKey := string(key) // the parts below reuse the key buffer

	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		v.VolumeSource = s.pods.volumes.share(&s.key, v.VolumeSource)
	}
	for i := range spec.InitContainers {
		s.shareContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		s.shareContainer(&spec.Containers[i])
	}
	rest := withoutOwnNames(*spec)
	rest.Volumes, rest.InitContainers, rest.Containers, rest.EphemeralContainers = nil, nil, nil, nil
	shared := s.pods.rests.share(&s.key, rest)
	shared.Volumes, shared.InitContainers, shared.Containers, shared.EphemeralContainers =
		spec.Volumes, spec.InitContainers, spec.Containers, spec.EphemeralContainers
	*spec = withOwnNames(shared, spec)
	s.pods.specs.add(specKey, withoutOwnNames(*spec))
}

// withoutOwnNames is spec without the names that differ between the pods
// of one template: node, host and subdomain.
func withoutOwnNames(spec corev1.PodSpec) corev1.PodSpec {
	spec.NodeName, spec.Hostname, spec.Subdomain = "", "", ""
	return spec
}

// withOwnNames is shared with spec's own node, host and subdomain names.
func withOwnNames(shared corev1.PodSpec, spec *corev1.PodSpec) corev1.PodSpec {
	shared.NodeName, shared.Hostname, shared.Subdomain = spec.NodeName, spec.Hostname, spec.Subdomain
	return shared
}

// shareContainer shares all of c but its volume mounts, which may name a
// pod's own volumes.
func (s *sharer) shareContainer(c *corev1.Container) {
	rest := *c
	rest.VolumeMounts = nil
	shared := s.pods.containers.share(&s.key, rest)
	shared.VolumeMounts = c.VolumeMounts
	*c = shared
}

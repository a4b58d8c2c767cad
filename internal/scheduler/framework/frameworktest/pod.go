package frameworktest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// PodBuilder builds a test pod fluently:
// MakePod().Name("p").Req("cpu", "1").Obj().
type PodBuilder struct{ pod *corev1.Pod }

// MakePod returns a builder for an empty pod.
func MakePod() *PodBuilder { return &PodBuilder{pod: &corev1.Pod{}} }

// Obj returns the pod built.
func (b *PodBuilder) Obj() *corev1.Pod { return b.pod }

// Namespace sets the namespace.
func (b *PodBuilder) Namespace(ns string) *PodBuilder {
	b.pod.Namespace = ns
	return b
}

// Name sets the name.
func (b *PodBuilder) Name(name string) *PodBuilder {
	b.pod.Name = name
	return b
}

// UID sets the UID.
func (b *PodBuilder) UID(uid string) *PodBuilder {
	b.pod.UID = types.UID(uid)
	return b
}

// Labels replaces the labels with the key, value pairs kv (an empty, not
// nil, map when kv is empty).
func (b *PodBuilder) Labels(kv ...string) *PodBuilder {
	b.pod.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pod.Labels[kv[i]] = kv[i+1]
	}
	return b
}

// Priority sets spec.priority.
func (b *PodBuilder) Priority(p int32) *PodBuilder {
	b.pod.Spec.Priority = &p
	return b
}

// SchedulerName sets spec.schedulerName.
func (b *PodBuilder) SchedulerName(name string) *PodBuilder {
	b.pod.Spec.SchedulerName = name
	return b
}

// Req adds a request of quantity (as kubectl writes it) for resource
// name to the first container, adding a container "c" if there is none.
func (b *PodBuilder) Req(name corev1.ResourceName, quantity string) *PodBuilder {
	if len(b.pod.Spec.Containers) == 0 {
		b.pod.Spec.Containers = []corev1.Container{{Name: "c"}}
	}
	c := &b.pod.Spec.Containers[0]
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	c.Resources.Requests[name] = resource.MustParse(quantity)
	return b
}

// NodeSelector sets spec.nodeSelector to {k: v}.
func (b *PodBuilder) NodeSelector(k, v string) *PodBuilder {
	b.pod.Spec.NodeSelector = map[string]string{k: v}
	return b
}

// OwnedBy adds a controller owner reference (whose UID is its name).
func (b *PodBuilder) OwnedBy(apiVersion, kind, name string) *PodBuilder {
	b.pod.OwnerReferences = append(b.pod.OwnerReferences, metav1.OwnerReference{
		APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(name), Controller: ptr.To(true),
	})
	return b
}

// Terminating sets a (zero) deletion timestamp.
func (b *PodBuilder) Terminating() *PodBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{}
	return b
}

// With lets a test change the pod in ways the builder has no method for.
func (b *PodBuilder) With(modify func(*corev1.Pod)) *PodBuilder {
	modify(b.pod)
	return b
}

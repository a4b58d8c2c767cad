package simulated

import (
	"time"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Pod is the slim copy of a pod the agent's cache keeps: what moving it
// through its phases needs and nothing else. A full corev1.Pod struct
// alone is over a kilobyte before any of its strings, maps and slices;
// at 150,000 pods that difference is the agent's memory budget.
//
// Pod implements runtime.Object and metav1.Object (podmeta.go) only as far
// as the informer's store needs: keys, resource versions and deletion.
// Objects in the cache are shared and must not be mutated.
type Pod struct {
	Namespace         string
	Name              string
	UID               types.UID
	ResourceVersion   string
	DeletionTimestamp *metav1.Time
	NodeName          string
	RestartPolicy     corev1.RestartPolicy
	// HostNetwork pods use their node's address and need no pod CIDR.
	HostNetwork bool
	Phase       corev1.PodPhase
	PodIP       string
	StartTime   time.Time // zero until the pod runs
	// Ready is the pod's Ready condition; the node controller clears it
	// while the node is unreachable, and the agent sets it again.
	Ready          bool
	Containers     []Container
	InitContainers []Container
}

// Container is the slim copy of a container: what its status shows.
type Container struct {
	Name  string
	Image string
	// Sidecar marks an init container that keeps running beside the
	// containers (restartPolicy Always).
	Sidecar bool
}

var _ runtime.Object = (*Pod)(nil)

// GetObjectKind implements runtime.Object; slim pods carry no type meta.
func (p *Pod) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (p *Pod) DeepCopyObject() runtime.Object {
	c := *p
	if p.DeletionTimestamp != nil {
		t := *p.DeletionTimestamp
		c.DeletionTimestamp = &t
	}
	c.Containers = append([]Container(nil), p.Containers...)
	c.InitContainers = append([]Container(nil), p.InitContainers...)
	return &c
}

// slimPod turns a pod into its slim copy. Strings many pods share
// (namespaces, node names, images, container names) are interned, so each
// is stored once. Anything not a *corev1.Pod is returned unchanged, which
// makes the transform idempotent as the informer requires.
func slimPod(obj any, nodeName func(string) string) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	p := &Pod{
		Namespace:         intern(pod.Namespace),
		Name:              pod.Name,
		UID:               pod.UID,
		ResourceVersion:   pod.ResourceVersion,
		DeletionTimestamp: pod.DeletionTimestamp,
		NodeName:          nodeName(pod.Spec.NodeName),
		RestartPolicy:     corev1.RestartPolicy(intern(string(pod.Spec.RestartPolicy))),
		HostNetwork:       pod.Spec.HostNetwork,
		Phase:             corev1.PodPhase(intern(string(pod.Status.Phase))),
		PodIP:             pod.Status.PodIP,
		Containers:        slimContainers(pod.Spec.Containers),
		InitContainers:    slimContainers(pod.Spec.InitContainers),
	}
	if pod.Status.StartTime != nil {
		p.StartTime = pod.Status.StartTime.Time
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			p.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return p, nil
}

func slimContainers(cs []corev1.Container) []Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Container, len(cs))
	for i, c := range cs {
		out[i] = Container{
			Name:    intern(c.Name),
			Image:   intern(c.Image),
			Sidecar: c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways,
		}
	}
	return out
}

// intern returns the one copy of s that every equal string shares.
func intern(s string) string { return unique.Make(s).Value() }

// runsToCompletion reports whether p's containers exit rather than being
// restarted: restartPolicy Never or OnFailure.
func (p *Pod) runsToCompletion() bool {
	return p.RestartPolicy == corev1.RestartPolicyNever || p.RestartPolicy == corev1.RestartPolicyOnFailure
}

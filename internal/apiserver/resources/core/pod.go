package core

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// podStrategy defaults, validates and selects pods, and gives pods on a
// node time to stop when deleted.
type podStrategy struct{ registry.DefaultStrategy }

var (
	_ registry.Strategy        = podStrategy{}
	_ registry.GracefulDeleter = podStrategy{}
)

func newPodStrategy() podStrategy {
	return podStrategy{registry.DefaultStrategy{HasStatus: true}}
}

// PrepareForCreate starts every pod Pending, whatever status it was sent with.
func (s podStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	s.DefaultStrategy.PrepareForCreate(ctx, obj)
	if pod, ok := obj.(*corev1.Pod); ok {
		pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	}
}

// Default applies the pod spec defaults, the ones only pods get, and the
// QoS class, which follows from the (immutable) resources.
func (podStrategy) Default(obj runtime.Object) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	DefaultPodSpec(&pod.Spec)
	spec := &pod.Spec
	if spec.EnableServiceLinks == nil {
		spec.EnableServiceLinks = ptr.To(corev1.DefaultEnableServiceLinks)
	}
	// Without a PriorityClass admission plugin, every pod has priority 0
	// and the default preemption policy.
	if spec.Priority == nil && spec.PriorityClassName == "" {
		spec.Priority = ptr.To[int32](0)
	}
	if spec.PreemptionPolicy == nil {
		spec.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
	}
	// A limit without a request requests what it limits.
	for i := range spec.InitContainers {
		requestsFromLimits(&spec.InitContainers[i].Resources)
	}
	for i := range spec.Containers {
		requestsFromLimits(&spec.Containers[i].Resources)
	}
	if spec.Resources != nil {
		requestsFromLimits(spec.Resources)
	}
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = QOSClass(pod)
	}
	syncPodIPs(&pod.Status)
}

func requestsFromLimits(r *corev1.ResourceRequirements) {
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[name] = limit.DeepCopy()
	}
}

// Validate implements registry.Strategy.
func (podStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return wrongType(obj)
	}
	return ValidatePodSpec(&pod.Spec, field.NewPath("spec"))
}

// ValidateUpdate allows only the spec changes Kubernetes allows on a pod.
func (podStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pod, ok := obj.(*corev1.Pod)
	oldPod, ok2 := old.(*corev1.Pod)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	specPath := field.NewPath("spec")
	errs := ValidatePodSpec(&pod.Spec, specPath)
	return append(errs, validatePodSpecUpdate(&pod.Spec, &oldPod.Spec, specPath)...)
}

// GetAttrs implements registry.Strategy with the fields pods can be
// selected by.
func (podStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	podIP := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	fs := metaFields(&pod.ObjectMeta, true)
	fs["spec.nodeName"] = pod.Spec.NodeName
	fs["spec.restartPolicy"] = string(pod.Spec.RestartPolicy)
	fs["spec.schedulerName"] = pod.Spec.SchedulerName
	fs["spec.serviceAccountName"] = pod.Spec.ServiceAccountName
	fs["spec.hostNetwork"] = strconv.FormatBool(pod.Spec.HostNetwork)
	fs["status.phase"] = string(pod.Status.Phase)
	fs["status.podIP"] = podIP
	fs["status.nominatedNodeName"] = pod.Status.NominatedNodeName
	return labels.Set(pod.Labels), fs, nil
}

// GracePeriod implements registry.GracefulDeleter: a pod that never ran on
// a node, or has finished, goes at once; others get the requested grace
// period or their own terminationGracePeriodSeconds.
func (podStrategy) GracePeriod(obj runtime.Object, opts *metav1.DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return 0
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if opts != nil && opts.GracePeriodSeconds != nil {
		return max(*opts.GracePeriodSeconds, 0)
	}
	grace := defaultTerminationGracePeriod
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	// A negative period in an old object means "as fast as possible",
	// which the kubelet needs at least a second for.
	if grace < 0 {
		grace = 1
	}
	return grace
}

var _ registry.PartUpdater = podStrategy{}

// WritesPart implements registry.PartUpdater.
func (podStrategy) WritesPart(subresource string) bool {
	return subresource == "ephemeralcontainers" || subresource == "resize"
}

// MergePart implements registry.PartUpdater: pods/ephemeralcontainers
// adds debugging containers, pods/resize changes container resources.
func (podStrategy) MergePart(subresource string, obj, current runtime.Object) (runtime.Object, error) {
	if subresource == "ephemeralcontainers" {
		return withEphemeralContainersOf(current, obj)
	}
	return withResourcesOf(current, obj)
}

// ValidatePart implements registry.PartUpdater. The ephemeral containers
// were checked as they were merged.
func (s podStrategy) ValidatePart(ctx context.Context, subresource string, obj, old runtime.Object) field.ErrorList {
	if subresource == "resize" {
		return s.ValidateResize(ctx, obj, old)
	}
	return nil
}

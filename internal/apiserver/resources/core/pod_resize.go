package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// resizable are the resources pods/resize may change.
var resizable = map[corev1.ResourceName]bool{corev1.ResourceCPU: true, corev1.ResourceMemory: true}

// ValidateResize checks a write through pods/resize, which may change
// only the CPU and memory of containers (and their resize policies): the
// pod keeps its QoS class, a limit or request once set stays set, and the
// init containers that run to completion keep what they had.
func (podStrategy) ValidateResize(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pod, ok := obj.(*corev1.Pod)
	oldPod, ok2 := old.(*corev1.Pod)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	spec := field.NewPath("spec")
	errs := ValidatePodSpec(&pod.Spec, spec)
	for i := range pod.Spec.Containers {
		errs = append(errs, validateContainerResize(&pod.Spec.Containers[i], &oldPod.Spec.Containers[i],
			pod.Spec.RestartPolicy, spec.Child("containers").Index(i))...)
	}
	for i := range pod.Spec.InitContainers {
		c, oc := &pod.Spec.InitContainers[i], &oldPod.Spec.InitContainers[i]
		p := spec.Child("initContainers").Index(i)
		if oc.RestartPolicy == nil || *oc.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			if !apiequality.Semantic.DeepEqual(c.Resources, oc.Resources) || !apiequality.Semantic.DeepEqual(c.ResizePolicy, oc.ResizePolicy) {
				errs = append(errs, field.Forbidden(p.Child("resources"), "resources for non-sidecar init containers are immutable"))
			}
			continue
		}
		errs = append(errs, validateContainerResize(c, oc, pod.Spec.RestartPolicy, p)...)
	}
	oldQOS := oldPod.Status.QOSClass
	if oldQOS == "" {
		oldQOS = QOSClass(oldPod)
	}
	if QOSClass(pod) != oldQOS {
		errs = append(errs, field.Forbidden(spec.Child("containers"), "Pod QOS Class may not change as a result of resizing"))
	}
	return errs
}

// validateContainerResize checks one container's new resources against
// its old ones.
func validateContainerResize(c, old *corev1.Container, podRestart corev1.RestartPolicy, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	res := path.Child("resources")
	for _, list := range []struct {
		name     string
		cur, old corev1.ResourceList
	}{{"limits", c.Resources.Limits, old.Resources.Limits}, {"requests", c.Resources.Requests, old.Resources.Requests}} {
		for name, q := range list.old {
			if _, ok := list.cur[name]; !ok && resizable[name] {
				errs = append(errs, field.Forbidden(res.Child(list.name), "resource "+list.name+" cannot be removed"))
				break
			}
			if cur, ok := list.cur[name]; !resizable[name] && (!ok || cur.Cmp(q) != 0) {
				errs = append(errs, field.Forbidden(res, "only cpu and memory resources are mutable"))
				break
			}
		}
		for name := range list.cur {
			if _, ok := list.old[name]; !ok && !resizable[name] {
				errs = append(errs, field.Forbidden(res, "only cpu and memory resources are mutable"))
				break
			}
		}
	}
	if len(c.Resources.Claims) != len(old.Resources.Claims) || !apiequality.Semantic.DeepEqual(c.Resources.Claims, old.Resources.Claims) {
		errs = append(errs, field.Forbidden(res.Child("claims"), "resource claims cannot be changed on resize"))
	}
	return append(errs, validateResizePolicy(c.ResizePolicy, podRestart, path.Child("resizePolicy"))...)
}

// validateResizePolicy allows one policy per resizable resource, each
// NotRequired or RestartContainer (only NotRequired in a pod that never
// restarts its containers).
func validateResizePolicy(policies []corev1.ContainerResizePolicy, podRestart corev1.RestartPolicy, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.ResourceName]bool{}
	for i, p := range policies {
		ip := path.Index(i)
		switch {
		case !resizable[p.ResourceName]:
			errs = append(errs, field.NotSupported(ip.Child("resourceName"), p.ResourceName, []string{string(corev1.ResourceCPU), string(corev1.ResourceMemory)}))
		case seen[p.ResourceName]:
			errs = append(errs, field.Duplicate(ip.Child("resourceName"), p.ResourceName))
		}
		seen[p.ResourceName] = true
		switch p.RestartPolicy {
		case corev1.NotRequired:
		case corev1.RestartContainer:
			if podRestart == corev1.RestartPolicyNever {
				errs = append(errs, field.Invalid(ip.Child("restartPolicy"), p.RestartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
			}
		default:
			errs = append(errs, field.NotSupported(ip.Child("restartPolicy"), p.RestartPolicy, []string{string(corev1.NotRequired), string(corev1.RestartContainer)}))
		}
	}
	return errs
}

// withResourcesOf returns the current pod with the container resources
// and resize policies of obj: pods/resize changes nothing else. Containers
// are matched by position, so a renamed or reordered one is an error.
func withResourcesOf(current, obj runtime.Object) (runtime.Object, error) {
	cur, ok1 := current.(*corev1.Pod)
	upd, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return nil, apierrors.NewBadRequest("resize is a subresource of pods")
	}
	spec := field.NewPath("spec")
	out := cur.DeepCopy()
	errs := copyResources(out.Spec.Containers, upd.Spec.Containers, spec.Child("containers"))
	errs = append(errs, copyResources(out.Spec.InitContainers, upd.Spec.InitContainers, spec.Child("initContainers"))...)
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Pod").GroupKind(), cur.Name, errs)
	}
	return out, nil
}

func copyResources(dst, src []corev1.Container, path *field.Path) field.ErrorList {
	if len(dst) != len(src) {
		return field.ErrorList{field.Forbidden(path, "containers may not be added or removed on resize")}
	}
	var errs field.ErrorList
	for i := range src {
		if src[i].Name != dst[i].Name {
			errs = append(errs, field.Forbidden(path.Index(i).Child("name"), "containers may not be renamed or reordered on resize"))
			continue
		}
		dst[i].Resources = *src[i].Resources.DeepCopy()
		dst[i].ResizePolicy = append([]corev1.ContainerResizePolicy(nil), src[i].ResizePolicy...)
	}
	return errs
}

package registry

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ResizeValidator is implemented by strategies of resources with a
// resize subresource (pods): it replaces ValidateUpdate for writes
// through pods/resize, whose rules differ from the main resource's.
type ResizeValidator interface {
	ValidateResize(ctx context.Context, obj, old runtime.Object) field.ErrorList
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

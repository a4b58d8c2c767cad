package core

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withEphemeralContainersOf returns the current pod with the ephemeral
// containers of obj, after checking what pods/ephemeralcontainers allows:
// containers may be added, never changed or removed, and each needs a
// name of its own and an image.
func withEphemeralContainersOf(current, obj runtime.Object) (runtime.Object, error) {
	cur, ok1 := current.(*corev1.Pod)
	upd, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return nil, apierrors.NewBadRequest("ephemeralcontainers is a subresource of pods")
	}
	path := field.NewPath("spec", "ephemeralContainers")
	var errs field.ErrorList
	names := map[string]bool{}
	for _, c := range cur.Spec.Containers {
		names[c.Name] = true
	}
	for _, c := range cur.Spec.InitContainers {
		names[c.Name] = true
	}
	old := map[string]corev1.EphemeralContainer{}
	for _, ec := range cur.Spec.EphemeralContainers {
		old[ec.Name] = ec
	}
	for i, ec := range upd.Spec.EphemeralContainers {
		p := path.Index(i)
		if prev, ok := old[ec.Name]; ok {
			if !apiequality.Semantic.DeepEqual(prev, ec) {
				errs = append(errs, field.Forbidden(p, "existing ephemeral containers may not be changed"))
			}
			delete(old, ec.Name)
			continue
		}
		for _, msg := range validation.IsDNS1123Label(ec.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ec.Name, msg))
		}
		if names[ec.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), ec.Name))
		}
		names[ec.Name] = true
		if ec.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		if len(ec.Ports) > 0 || ec.LivenessProbe != nil || ec.ReadinessProbe != nil || ec.StartupProbe != nil || ec.Lifecycle != nil {
			errs = append(errs, field.Forbidden(p, "ephemeral containers may not have ports, probes or lifecycle hooks"))
		}
	}
	for name := range old {
		errs = append(errs, field.Forbidden(path, fmt.Sprintf("existing ephemeral containers %q may not be removed", name)))
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Pod").GroupKind(), cur.Name, errs)
	}
	// Only the ephemeral containers change; metadata and status stay.
	out := cur.DeepCopy()
	out.Spec.EphemeralContainers = upd.Spec.EphemeralContainers
	return out, nil
}

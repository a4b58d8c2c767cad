package core

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/treeequal"
)

// podUpdateMessage starts the error of a forbidden pod spec change; clients
// and conformance tests look for its first words.
const podUpdateMessage = "pod updates may not change fields other than " +
	"`spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, " +
	"`spec.tolerations` (only additions to existing tolerations), " +
	"`spec.terminationGracePeriodSeconds` (only to 1 when it was negative), " +
	"`spec.schedulingGates` (only removals) and `spec.nodeSelector` (only additions while gated)"

// validatePodSpecUpdate allows the few changes a running pod can take;
// everything else in a pod's spec is fixed at creation.
func validatePodSpecUpdate(spec, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) != len(old.Containers) {
		errs = append(errs, field.Forbidden(path.Child("containers"), "pod updates may not add or remove containers"))
	}
	if len(spec.InitContainers) != len(old.InitContainers) {
		errs = append(errs, field.Forbidden(path.Child("initContainers"), "pod updates may not add or remove containers"))
	}
	if len(errs) > 0 {
		return errs
	}
	if d, od := spec.ActiveDeadlineSeconds, old.ActiveDeadlineSeconds; od != nil {
		if d == nil {
			errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), nil, "must not be removed once set"))
		} else if *d > *od {
			errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *d, "must be less than or equal to previous value"))
		}
	}
	for _, t := range old.Tolerations {
		if !hasToleration(spec.Tolerations, t) {
			errs = append(errs, field.Forbidden(path.Child("tolerations"), "existing tolerations may not be removed or changed, except to shorten tolerationSeconds"))
			break
		}
	}
	oldGates := map[string]bool{}
	for _, g := range old.SchedulingGates {
		oldGates[g.Name] = true
	}
	for i, g := range spec.SchedulingGates {
		if !oldGates[g.Name] {
			errs = append(errs, field.Forbidden(path.Child("schedulingGates").Index(i), "scheduling gates may only be removed, and "+g.Name+" is new"))
		}
	}

	// Apply the allowed changes to the old spec: what remains must match.
	m := old.DeepCopy()
	for i := range m.Containers {
		m.Containers[i].Image = spec.Containers[i].Image
	}
	for i := range m.InitContainers {
		m.InitContainers[i].Image = spec.InitContainers[i].Image
	}
	m.ActiveDeadlineSeconds = spec.ActiveDeadlineSeconds
	m.Tolerations = spec.Tolerations
	m.SchedulingGates = spec.SchedulingGates
	if g, og := spec.TerminationGracePeriodSeconds, old.TerminationGracePeriodSeconds; og != nil && *og < 0 && g != nil && *g == 1 {
		m.TerminationGracePeriodSeconds = g
	}
	if len(old.SchedulingGates) > 0 && isSuperset(spec.NodeSelector, old.NodeSelector) {
		m.NodeSelector = spec.NodeSelector
	}
	// Most updates leave the spec as it was: an exact comparison settles
	// those cheaply; the semantic one (quantities by value) decides the rest.
	if !treeequal.Equal(m, spec) && !apiequality.Semantic.DeepEqual(m, spec) {
		errs = append(errs, field.Forbidden(path, podUpdateMessage+"; changed: "+strings.Join(changedFields(m, spec, path), ", ")))
	}
	return errs
}

// hasToleration reports whether list still holds t, possibly with a
// shorter tolerationSeconds.
func hasToleration(list []corev1.Toleration, t corev1.Toleration) bool {
	for _, n := range list {
		if n.Key != t.Key || n.Operator != t.Operator || n.Value != t.Value || n.Effect != t.Effect {
			continue
		}
		switch {
		case t.TolerationSeconds == nil && n.TolerationSeconds == nil:
			return true
		case t.TolerationSeconds != nil && n.TolerationSeconds != nil && *n.TolerationSeconds <= *t.TolerationSeconds:
			return true
		}
	}
	return false
}

func isSuperset(m, sub map[string]string) bool {
	for k, v := range sub {
		if w, ok := m[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// changedFields names the top-level spec fields that differ, by their
// JSON names, for the error message.
func changedFields(a, b *corev1.PodSpec, path *field.Path) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := range va.NumField() {
		if apiequality.Semantic.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
		out = append(out, path.Child(name).String())
	}
	return out
}

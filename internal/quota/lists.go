package quota

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Add returns a + b, per resource.
func Add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, v := range a {
		out[name] = v.DeepCopy()
	}
	for name, v := range b {
		sum := out[name]
		sum.Add(v)
		out[name] = sum
	}
	return out
}

// Mask returns the resources of list that names holds.
func Mask(list corev1.ResourceList, names []corev1.ResourceName) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, name := range names {
		if v, ok := list[name]; ok {
			out[name] = v.DeepCopy()
		}
	}
	return out
}

// Names returns the resources of list, sorted.
func Names(list corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(list))
	for name := range list {
		out = append(out, name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Equal reports whether a and b hold the same resources with equal
// quantities (1000m equals 1).
func Equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name, v := range a {
		w, ok := b[name]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// Exceeded returns the resources of used that are above their hard limit,
// sorted; resources without a limit are never exceeded.
func Exceeded(used, hard corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, name := range Names(used) {
		v := used[name]
		if limit, ok := hard[name]; ok && v.Cmp(limit) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// RemoveZeros returns list without its zero quantities.
func RemoveZeros(list corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, v := range list {
		if !v.IsZero() {
			out[name] = v
		}
	}
	return out
}

// Negative returns the resources of list below zero, sorted.
func Negative(list corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, name := range Names(list) {
		if v := list[name]; v.Sign() < 0 {
			out = append(out, name)
		}
	}
	return out
}

// SubtractFloor returns a - b per resource of a, never below zero: the
// change an update makes, counting only what grew.
func SubtractFloor(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, v := range a {
		d := v.DeepCopy()
		if w, ok := b[name]; ok {
			d.Sub(w)
		}
		if d.Sign() < 0 {
			d = resource.Quantity{Format: v.Format}
		}
		out[name] = d
	}
	return out
}

// Format prints list the way quota messages show it: name=quantity,
// sorted by name, comma separated.
func Format(list corev1.ResourceList) string {
	parts := make([]string, 0, len(list))
	for _, name := range Names(list) {
		v := list[name]
		parts = append(parts, string(name)+"="+v.String())
	}
	return strings.Join(parts, ",")
}

// FormatNames prints names comma separated.
func FormatNames(names []corev1.ResourceName) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n)
	}
	return strings.Join(parts, ",")
}

package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LimitRangeLister returns the LimitRanges of a namespace.
type LimitRangeLister func(ctx context.Context, namespace string) ([]corev1.LimitRange, error)

// LimitRanger applies the namespace's LimitRanges to new pods: it fills
// containers' missing limits and requests from the Container defaults and
// refuses containers outside the min and max bounds.
type LimitRanger struct {
	List LimitRangeLister
}

var _ Plugin = LimitRanger{}

// Admit implements Plugin.
func (p LimitRanger) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	ranges, err := p.List(ctx, a.Namespace)
	if err != nil || len(ranges) == 0 {
		return err
	}
	containers := make([]*corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		containers = append(containers, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		containers = append(containers, &pod.Spec.Containers[i])
	}
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			for _, c := range containers {
				applyDefaults(c, item)
				if err := checkBounds(pod.Name, c, item); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func applyDefaults(c *corev1.Container, item corev1.LimitRangeItem) {
	// A limit the pod sets is its request too, as API defaulting does
	// before admission: the LimitRange's default request comes after.
	for name, v := range c.Resources.Limits {
		if _, set := c.Resources.Requests[name]; !set {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[name] = v.DeepCopy()
		}
	}
	for name, v := range item.Default {
		if _, set := c.Resources.Limits[name]; !set {
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[name] = v.DeepCopy()
		}
	}
	for name, v := range item.DefaultRequest {
		if _, set := c.Resources.Requests[name]; !set {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[name] = v.DeepCopy()
		}
	}
}

func checkBounds(pod string, c *corev1.Container, item corev1.LimitRangeItem) error {
	forbid := func(format string, args ...any) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod, fmt.Errorf(format, args...))
	}
	for name, minimum := range item.Min {
		if r, ok := c.Resources.Requests[name]; ok && r.Cmp(minimum) < 0 {
			return forbid("minimum %s usage per Container is %s, but request is %s", name, minimum.String(), r.String())
		}
		if l, ok := c.Resources.Limits[name]; ok && l.Cmp(minimum) < 0 {
			return forbid("minimum %s usage per Container is %s, but limit is %s", name, minimum.String(), l.String())
		}
	}
	for name, maximum := range item.Max {
		l, ok := c.Resources.Limits[name]
		if !ok {
			return forbid("maximum %s usage per Container is %s, but no limit is specified", name, maximum.String())
		}
		if l.Cmp(maximum) > 0 {
			return forbid("maximum %s usage per Container is %s, but limit is %s", name, maximum.String(), l.String())
		}
	}
	return nil
}

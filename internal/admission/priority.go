package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PriorityClassLister lists every PriorityClass.
type PriorityClassLister func(ctx context.Context) ([]schedulingv1.PriorityClass, error)

// Priority resolves a new pod's priorityClassName into spec.priority and
// spec.preemptionPolicy, as upstream's Priority admission plugin does: an
// empty name takes the globalDefault class, if one exists (priority 0
// otherwise); an unknown name, or a priority or policy in the pod that
// disagrees with its class, is refused.
type Priority struct {
	List PriorityClassLister
}

var _ Plugin = Priority{}

// Admit implements Plugin.
func (p Priority) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	classes, err := p.List(ctx)
	if err != nil {
		return err
	}
	class := findPriorityClass(classes, pod.Spec.PriorityClassName)
	forbidden := func(format string, args ...any) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod.Name, fmt.Errorf(format, args...))
	}
	var value int32
	policy := corev1.PreemptLowerPriority
	switch {
	case class != nil:
		pod.Spec.PriorityClassName = class.Name
		value = class.Value
		if class.PreemptionPolicy != nil {
			policy = *class.PreemptionPolicy
		}
	case pod.Spec.PriorityClassName != "":
		return forbidden("no PriorityClass with name %s was found", pod.Spec.PriorityClassName)
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != value {
		return forbidden("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name",
			*pod.Spec.Priority, value)
	}
	pod.Spec.Priority = &value
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != policy {
		return forbidden("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name",
			*pod.Spec.PreemptionPolicy, policy)
	}
	pod.Spec.PreemptionPolicy = &policy
	return nil
}

// findPriorityClass returns the class called name, or for an empty name
// the global default (the one with the lowest value if several claim it,
// as upstream picks).
func findPriorityClass(classes []schedulingv1.PriorityClass, name string) *schedulingv1.PriorityClass {
	var found *schedulingv1.PriorityClass
	for i := range classes {
		c := &classes[i]
		switch {
		case name != "" && c.Name == name:
			return c
		case name == "" && c.GlobalDefault && (found == nil || c.Value < found.Value):
			found = c
		}
	}
	return found
}

// SystemPriorityClasses are the classes every cluster has, with upstream's
// names, values and descriptions.
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	mk := func(name string, value int32, description string) *schedulingv1.PriorityClass {
		policy := corev1.PreemptLowerPriority
		pc := &schedulingv1.PriorityClass{Value: value, Description: description, PreemptionPolicy: &policy}
		pc.Name = name
		return pc
	}
	return []*schedulingv1.PriorityClass{
		mk("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
		mk("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
	}
}

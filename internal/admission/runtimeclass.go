package admission

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RuntimeClassGetter returns a RuntimeClass; a NotFound error means it
// does not exist.
type RuntimeClassGetter func(ctx context.Context, name string) (*nodev1.RuntimeClass, error)

// RuntimeClass applies the RuntimeClass a pod names, as upstream's
// RuntimeClass admission plugin does: it refuses pods that name one that
// does not exist, sets the pod's overhead from the class (refusing an
// overhead that differs), and adds the class's scheduling node selector
// (refusing a conflicting one) and tolerations.
type RuntimeClass struct {
	Get RuntimeClassGetter
}

var _ Plugin = RuntimeClass{}

var podsResource = corev1.SchemeGroupVersion.WithResource("pods")

// Admit implements Plugin.
func (p RuntimeClass) Admit(ctx context.Context, a *Attributes) error {
	if a.Operation != Create || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok || pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName == "" {
		return nil
	}
	name := *pod.Spec.RuntimeClassName
	rc, err := p.Get(ctx, name)
	if apierrors.IsNotFound(err) {
		return forbidPod(pod, fmt.Errorf("pod rejected: RuntimeClass %q not found", name))
	}
	if err != nil {
		return err
	}
	if rc.Overhead != nil && len(rc.Overhead.PodFixed) > 0 {
		if pod.Spec.Overhead != nil && !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return forbidPod(pod, errors.New("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	} else if pod.Spec.Overhead != nil {
		return forbidPod(pod, errors.New("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"))
	}
	if s := rc.Scheduling; s != nil {
		for k, v := range s.NodeSelector {
			if cur, ok := pod.Spec.NodeSelector[k]; ok && cur != v {
				return forbidPod(pod, fmt.Errorf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, cur))
			}
			if pod.Spec.NodeSelector == nil {
				pod.Spec.NodeSelector = map[string]string{}
			}
			pod.Spec.NodeSelector[k] = v
		}
		for _, tol := range s.Tolerations {
			if !slices.ContainsFunc(pod.Spec.Tolerations, func(t corev1.Toleration) bool { return t.MatchToleration(&tol) }) {
				pod.Spec.Tolerations = append(pod.Spec.Tolerations, tol)
			}
		}
	}
	return nil
}

func forbidPod(pod *corev1.Pod, err error) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, pod.Name, err)
}

package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// DefaultNodeTolerationSeconds is how long, by default, a pod stays on a
// node that became not ready or unreachable before the node lifecycle
// controller evicts it.
const DefaultNodeTolerationSeconds int64 = 300

// DefaultTolerationSeconds gives each pod written (created or updated, not
// its subresources) a bounded toleration of the not-ready and unreachable
// NoExecute taints, unless it already says how it tolerates them, as
// upstream's DefaultTolerationSeconds plugin does: without it a node
// failure would evict every pod at once. On update it puts back defaults
// a client dropped, which pod validation would otherwise refuse as a
// removed toleration.
type DefaultTolerationSeconds struct {
	// NotReady and Unreachable are the tolerationSeconds added for the
	// node.kubernetes.io/not-ready and node.kubernetes.io/unreachable
	// taints (upstream's default: DefaultNodeTolerationSeconds each).
	NotReady, Unreachable int64
}

var _ Plugin = DefaultTolerationSeconds{}

// Admit implements Plugin.
func (p DefaultTolerationSeconds) Admit(_ context.Context, a *Attributes) error {
	if (a.Operation != Create && a.Operation != Update) || a.Resource != podsResource || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	for _, d := range []struct {
		key     string
		seconds int64
	}{{corev1.TaintNodeNotReady, p.NotReady}, {corev1.TaintNodeUnreachable, p.Unreachable}} {
		if toleratesNoExecute(pod.Spec.Tolerations, d.key) {
			continue
		}
		seconds := d.seconds
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: d.key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds,
		})
	}
	return nil
}

// toleratesNoExecute reports whether one of tolerations already speaks
// for NoExecute taints with key: it names the key (or every key) and the
// NoExecute effect (or every effect). Its operator and value do not
// matter: the pod's author chose, and the plugin does not second-guess.
func toleratesNoExecute(tolerations []corev1.Toleration, key string) bool {
	for _, t := range tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}

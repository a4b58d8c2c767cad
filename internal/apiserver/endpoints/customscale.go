package endpoints

import (
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// customScaleOf reads the Scale of a custom resource at the paths its CRD
// names. As upstream, a missing spec replicas reads as 0 and the selector
// is the string found at the selector path.
func customScaleOf(paths *resources.ScalePaths, u *unstructured.Unstructured, accessor metav1.Object) (*autoscalingv1.Scale, error) {
	scale := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{
			Name: accessor.GetName(), Namespace: accessor.GetNamespace(), UID: accessor.GetUID(),
			ResourceVersion: accessor.GetResourceVersion(), CreationTimestamp: accessor.GetCreationTimestamp(),
		},
	}
	if n, ok, _ := unstructured.NestedInt64(u.Object, jsonPathFields(paths.SpecReplicas)...); ok {
		scale.Spec.Replicas = int32(n)
	}
	if paths.StatusReplicas != "" {
		if n, ok, _ := unstructured.NestedInt64(u.Object, jsonPathFields(paths.StatusReplicas)...); ok {
			scale.Status.Replicas = int32(n)
		}
	}
	if paths.LabelSelector != "" {
		if sel, ok, _ := unstructured.NestedString(u.Object, jsonPathFields(paths.LabelSelector)...); ok {
			scale.Status.Selector = sel
		}
	}
	return scale, nil
}

// jsonPathFields splits a simple JSON path (".spec.replicas") into its
// fields, as CRDs' scale paths are written.
func jsonPathFields(path string) []string {
	return strings.Split(strings.TrimPrefix(path, "."), ".")
}

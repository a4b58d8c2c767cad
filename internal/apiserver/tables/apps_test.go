package tables

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// webTemplate is a pod template with two containers.
var webTemplate = corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
	{Name: "web", Image: "nginx:1.27"}, {Name: "sidecar", Image: "envoy:1"},
}}}

var webSelector = &metav1.LabelSelector{
	MatchLabels:      map[string]string{"app": "web"},
	MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
}

func TestDeploymentCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"rolling", &appsv1.Deployment{
			ObjectMeta: om("web"),
			Spec:       appsv1.DeploymentSpec{Replicas: ptr[int32](3), Selector: webSelector, Template: webTemplate},
			Status:     appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 1, AvailableReplicas: 2},
		}, []any{"web", "2/3", int64(1), int64(2), "5m", "web,sidecar", "nginx:1.27,envoy:1", "app=web,tier in (a,b)"}},
		{"unset replicas, no selector", &appsv1.Deployment{ObjectMeta: om("bare")},
			[]any{"bare", "0/1", int64(0), int64(0), "5m", "", "", "<none>"}},
	})
}

func TestReplicaSetCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"scaled", &appsv1.ReplicaSet{
			ObjectMeta: om("web-5d4f"),
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: webTemplate},
			Status:     appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1},
		}, []any{"web-5d4f", int64(2), int64(2), int64(1), "5m", "web,sidecar", "nginx:1.27,envoy:1", "app=web"}},
		{"scaled down", &appsv1.ReplicaSet{ObjectMeta: om("old"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr[int32](0), Selector: &metav1.LabelSelector{}}},
			[]any{"old", int64(0), int64(0), int64(0), "5m", "", "", "<none>"}},
	})
}

func TestStatefulSetCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"db", &appsv1.StatefulSet{
			ObjectMeta: om("db"),
			Spec:       appsv1.StatefulSetSpec{Replicas: ptr[int32](3), Template: webTemplate},
			Status:     appsv1.StatefulSetStatus{ReadyReplicas: 3},
		}, []any{"db", "3/3", "5m", "web,sidecar", "nginx:1.27,envoy:1"}},
	})
}

func TestDaemonSetCells(t *testing.T) {
	tmpl := webTemplate
	tmpl.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	runCellCases(t, []cellCase{
		{"proxy", &appsv1.DaemonSet{
			ObjectMeta: om("kube-proxy"),
			Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-proxy"}}, Template: tmpl},
			Status:     appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2},
		}, []any{"kube-proxy", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "5m", "web,sidecar", "nginx:1.27,envoy:1", "k8s-app=kube-proxy"}},
		{"no node selector", &appsv1.DaemonSet{ObjectMeta: om("agent")},
			[]any{"agent", int64(0), int64(0), int64(0), int64(0), int64(0), "<none>", "5m", "", "", "<none>"}},
	})
}

func TestControllerRevisionCells(t *testing.T) {
	owned := om("web-7c9f")
	owned.OwnerReferences = []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "Pod", Name: "not-controller"},
		{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", Controller: ptr(true)},
	}
	coreOwned := om("core-1")
	coreOwned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ReplicationController", Name: "rc", Controller: ptr(true)}}
	runCellCases(t, []cellCase{
		{"statefulset", &appsv1.ControllerRevision{ObjectMeta: owned, Revision: 3}, []any{"web-7c9f", "statefulset.apps/web", int64(3), "5m"}},
		{"core owner", &appsv1.ControllerRevision{ObjectMeta: coreOwned, Revision: 1}, []any{"core-1", "replicationcontroller/rc", int64(1), "5m"}},
		{"orphan", &appsv1.ControllerRevision{ObjectMeta: om("orphan"), Revision: 1}, []any{"orphan", "<none>", int64(1), "5m"}},
	})
}

package sharing

import (
	"fmt"
	"reflect"
	goruntime "runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// templatePod is a pod as a ReplicaSet makes it and admission completes
// it: its own name, uid and node, the rest from the template and token
// volume; decoded from protobuf, as a watch cache's objects are.
func templatePod(t testing.TB, i int, image, token string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("web-%d", i), Namespace: "shop", UID: types.UID(fmt.Sprintf("uid-%d", i)),
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d9f8b6c5d"},
			Annotations: map[string]string{"prometheus.io/scrape": "true"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8b6c5d", UID: "rs-uid",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
				Time: &metav1.Time{}, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{}}`),
			}},
		},
		Spec: corev1.PodSpec{
			NodeName: fmt.Sprintf("node-%d", i%3),
			Containers: []corev1.Container{{
				Name: "web", Image: image, Args: []string{"--listen=:8080"},
				Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "config", MountPath: "/etc/web"},
					{Name: token, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"},
				}}},
				{Name: token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
						Path: "token", ExpirationSeconds: ptr.To[int64](3607),
					}}},
				}}},
			},
			Tolerations:  []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists}},
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.0.0.%d", i),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	return roundTrip(t, pod)
}

// token is the name tug's admission gives the token volume of a pod of
// the default service account.
const token = "kube-api-access-4kzbp"

// roundTrip returns pod as decoding its protobuf encoding makes it.
func roundTrip(t testing.TB, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	data, err := pod.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := &corev1.Pod{}
	if err := out.Unmarshal(data); err != nil {
		t.Fatal(err)
	}
	return out
}

// shareAll shares each object in turn, checking that sharing changed
// none of their contents.
func shareAll(t *testing.T, share Func, objs ...runtime.Object) {
	t.Helper()
	for _, obj := range objs {
		before := obj.DeepCopyObject()
		share(obj)
		if !reflect.DeepEqual(before, obj) {
			t.Fatalf("sharing changed %T", obj)
		}
	}
}

func samePointer(a, b any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestPodsOfOneTemplateShareTheirSpec(t *testing.T) {
	share := New()
	a, b := templatePod(t, 1, "web:v1", token), templatePod(t, 2, "web:v1", token)
	shareAll(t, share, a, b)
	for part, p := range map[string][2]any{
		"containers": {a.Spec.Containers, b.Spec.Containers},
		"volumes":    {a.Spec.Volumes, b.Spec.Volumes},
		"labels":     {a.Labels, b.Labels},
		"conditions": {a.Status.Conditions, b.Status.Conditions},
	} {
		if !samePointer(p[0], p[1]) {
			t.Errorf("%s: not shared", part)
		}
	}
	if a.Spec.NodeName != "node-1" || b.Spec.NodeName != "node-2" {
		t.Errorf("node names %q, %q", a.Spec.NodeName, b.Spec.NodeName)
	}
}

// TestPodsWithOwnVolumesShareTheRest: pods whose token volumes have names
// of their own, as Kubernetes names them, share all else.
func TestPodsWithOwnVolumesShareTheRest(t *testing.T) {
	share := New()
	a, b := templatePod(t, 1, "web:v1", "kube-api-access-own01"), templatePod(t, 2, "web:v1", "kube-api-access-own02")
	shareAll(t, share, a, b)

	shared := map[string][2]any{
		"labels":          {a.Labels, b.Labels},
		"annotations":     {a.Annotations, b.Annotations},
		"ownerReferences": {a.OwnerReferences, b.OwnerReferences},
		"managedFields":   {a.ManagedFields, b.ManagedFields},
		"container args":  {a.Spec.Containers[0].Args, b.Spec.Containers[0].Args},
		"container env":   {a.Spec.Containers[0].Env, b.Spec.Containers[0].Env},
		"requests":        {a.Spec.Containers[0].Resources.Requests, b.Spec.Containers[0].Resources.Requests},
		"probe":           {a.Spec.Containers[0].ReadinessProbe, b.Spec.Containers[0].ReadinessProbe},
		"configMap":       {a.Spec.Volumes[0].ConfigMap, b.Spec.Volumes[0].ConfigMap},
		"projected token": {a.Spec.Volumes[1].Projected, b.Spec.Volumes[1].Projected},
		"tolerations":     {a.Spec.Tolerations, b.Spec.Tolerations},
		"nodeSelector":    {a.Spec.NodeSelector, b.Spec.NodeSelector},
	}
	for part, p := range shared {
		if !samePointer(p[0], p[1]) {
			t.Errorf("%s: not shared", part)
		}
	}
	own := map[string][2]any{
		"containers":   {a.Spec.Containers, b.Spec.Containers},
		"volumeMounts": {a.Spec.Containers[0].VolumeMounts, b.Spec.Containers[0].VolumeMounts},
		"volumes":      {a.Spec.Volumes, b.Spec.Volumes},
	}
	for part, p := range own {
		if samePointer(p[0], p[1]) {
			t.Errorf("%s: shared, but each pod has its own", part)
		}
	}
	if a.Spec.NodeName != "node-1" || b.Spec.NodeName != "node-2" || b.Spec.Volumes[1].Name != "kube-api-access-own02" {
		t.Errorf("own fields lost: %q %q %q", a.Spec.NodeName, b.Spec.NodeName, b.Spec.Volumes[1].Name)
	}
}

func TestDifferentPartsStayApart(t *testing.T) {
	share := New()
	a, b := templatePod(t, 1, "web:v1", token), templatePod(t, 2, "web:v2", token)
	b.Labels["pod-template-hash"] = "other"
	shareAll(t, share, a, b)
	if samePointer(a.Spec.Containers[0].Args, b.Spec.Containers[0].Args) {
		t.Error("containers with different images share their args")
	}
	if samePointer(a.Labels, b.Labels) {
		t.Error("different labels are shared")
	}
	if !samePointer(a.Spec.Tolerations, b.Spec.Tolerations) || !samePointer(a.OwnerReferences, b.OwnerReferences) {
		t.Error("equal tolerations and owner references of pods with different containers are not shared")
	}
	if a.Spec.Containers[0].Image != "web:v1" || b.Spec.Containers[0].Image != "web:v2" {
		t.Errorf("images %q, %q", a.Spec.Containers[0].Image, b.Spec.Containers[0].Image)
	}
}

func TestMetadataOfOtherKindsIsShared(t *testing.T) {
	share := New()
	cm := func(name, data string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
			Data:       map[string]string{"k": data},
		}
	}
	a, b := cm("a", "1"), cm("b", "2")
	shareAll(t, share, a, b)
	if !samePointer(a.Labels, b.Labels) {
		t.Error("equal labels of two ConfigMaps are not shared")
	}
	if b.Data["k"] != "2" {
		t.Errorf("data = %v", b.Data)
	}
}

func TestFullTableStartsOver(t *testing.T) {
	share := New()
	var first *corev1.Pod
	for i := range maxEntries + 10 {
		p := templatePod(t, i, fmt.Sprintf("web:v%d", i), token) // a table entry per pod
		shareAll(t, share, p)
		if i == 0 {
			first = p
		}
	}
	again := templatePod(t, 0, "web:v0", token)
	shareAll(t, share, again)
	if samePointer(first.Spec.Containers[0].Args, again.Spec.Containers[0].Args) {
		t.Error("a part dropped from the full table is still handed out")
	}
	next := templatePod(t, 99999, "web:v0", token)
	shareAll(t, share, next)
	if !samePointer(again.Spec.Containers[0].Args, next.Spec.Containers[0].Args) {
		t.Error("the table shares nothing after starting over")
	}
}

func TestChangedSharedPartIsReported(t *testing.T) {
	defer func(was bool) { checkShared = was }(checkShared)
	checkShared = true
	share := New()
	a := templatePod(t, 1, "web:v1", token)
	share(a)
	a.Spec.Containers[0].Args[0] = "--listen=:9090" // what a cache's user must never do
	defer func() {
		if recover() == nil {
			t.Error("reusing a part changed in place did not panic")
		}
	}()
	share(templatePod(t, 2, "web:v1", token))
}

// BenchmarkSharePod is the cost of sharing one pod of a template.
func BenchmarkSharePod(b *testing.B) {
	share := New()
	pods := make([]*corev1.Pod, 1000)
	for i := range pods {
		pods[i] = templatePod(b, i, "web:v1", token)
	}
	b.ResetTimer()
	for i := range b.N {
		share(pods[i%len(pods)])
	}
}

// BenchmarkCachedPodMemory reports the heap that 10,000 pods of one
// template hold, decoded as a watch cache holds them, with and without
// sharing.
func BenchmarkCachedPodMemory(b *testing.B) {
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			for range b.N {
				before := liveHeap()
				share := New()
				pods := make([]*corev1.Pod, 10000)
				for i := range pods {
					pods[i] = templatePod(b, i, "web:v1", token)
					if shared {
						share(pods[i])
					}
				}
				b.ReportMetric(float64(liveHeap()-before)/float64(len(pods)), "B/pod")
				goruntime.KeepAlive(pods)
				goruntime.KeepAlive(share)
			}
		})
	}
}

func liveHeap() uint64 {
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapAlloc
}

package typedpatch

import (
	"bytes"
	"encoding/json"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

var codecs = serializer.NewCodecFactory(scheme.Scheme)

// documentPath is what the API server does without the fast path: encode
// the object as JSON, merge the documents, decode the result strictly. It
// returns nil when the result does not decode strictly.
func documentPath(t *testing.T, obj runtime.Object, patch []byte, strategic bool) runtime.Object {
	t.Helper()
	gvk := kindOf(t, obj)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	current, err := runtime.Encode(codecs.EncoderForVersion(info.Serializer, gvk.GroupVersion()), obj)
	if err != nil {
		t.Fatal(err)
	}
	var merged []byte
	if strategic {
		merged, err = strategicpatch.StrategicMergePatch(current, patch, obj)
	} else {
		merged, err = jsonpatch.MergePatch(current, patch)
	}
	if err != nil {
		return nil
	}
	out, _, err := info.StrictSerializer.Decode(merged, &gvk, newOf(t, gvk))
	if err != nil {
		return nil
	}
	return out
}

func kindOf(t *testing.T, obj runtime.Object) schema.GroupVersionKind {
	t.Helper()
	kinds, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		t.Fatal(err)
	}
	return kinds[0]
}

func newOf(t *testing.T, gvk schema.GroupVersionKind) runtime.Object {
	t.Helper()
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// fastPath is Merge on a copy of obj, with the kind set as decoding sets it.
func fastPath(t *testing.T, obj runtime.Object, patch []byte, strategic bool) (runtime.Object, bool) {
	t.Helper()
	out := obj.DeepCopyObject()
	if !Merge(out, patch, strategic) {
		return nil, false
	}
	out.GetObjectKind().SetGroupVersionKind(kindOf(t, obj))
	return out, true
}

// expectSame applies patch both ways and fails unless the fast path took
// it and agrees with the document path, field for field and byte for byte.
func expectSame(t *testing.T, obj runtime.Object, patch []byte, strategic bool) {
	t.Helper()
	want := documentPath(t, obj, patch, strategic)
	if want == nil {
		t.Fatalf("the document path refused %s", patch)
	}
	got, ok := fastPath(t, obj, patch, strategic)
	if !ok {
		t.Fatalf("the fast path refused %s", patch)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Fatalf("patch %s:\nfast     %s\ndocument %s", patch, mustJSON(t, got), mustJSON(t, want))
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Fatalf("patch %s encodes differently:\nfast     %s\ndocument %s", patch, g, w)
	}
}

func mustJSON(t *testing.T, obj any) string {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func pendingPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", UID: "0b4c", ResourceVersion: "41",
			CreationTimestamp: metav1.Unix(1767225600, 0),
			Labels:            map[string]string{"app": "web", "pod-template-hash": "7d9f"},
			Annotations:       map[string]string{"prometheus.io/scrape": "true"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f", UID: "aa",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
				APIVersion: "v1", Time: ptr.To(metav1.Unix(1767225600, 0)), FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`)}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "web", Image: "shop/web:v1", Args: []string{"--listen=:8080"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/ready", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}}, PeriodSeconds: 10},
				TerminationMessagePath: "/dev/termination-log", ImagePullPolicy: corev1.PullIfNotPresent,
			}},
			RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: ptr.To[int64](30), SchedulerName: "default-scheduler",
			Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}},
			EnableServiceLinks: ptr.To(true),
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(1767225601, 0)}}},
	}
}

func runningPod() *corev1.Pod {
	pod := pendingPod()
	pod.ResourceVersion = "57"
	pod.Spec.NodeName = "sim-0042"
	pod.Labels["tier"] = "front"
	delete(pod.Labels, "pod-template-hash")
	pod.Annotations = nil
	pod.Finalizers = []string{"shop.example/keep"}
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), FSGroup: ptr.To[int64](2000)}
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, HostIP: "198.18.0.42",
		HostIPs: []corev1.HostIP{{IP: "198.18.0.42"}}, PodIP: "10.42.0.7", PodIPs: []corev1.PodIP{{IP: "10.42.0.7"}},
		StartTime: ptr.To(metav1.Unix(1767225602, 0)),
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(1767225601, 0)},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(1767225603, 0)},
		},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, Image: "shop/web:v1", ImageID: "sha256:ab",
			ContainerID: "containerd://c1", Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Unix(1767225602, 0)}}}},
	}
	return pod
}

func deployment(image string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 3, Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("25%"))}},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: replicas},
	}
}

func node() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0042", Labels: map[string]string{"kubernetes.io/os": "linux"}},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.0.0/24", Taints: []corev1.Taint{{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("32Gi")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				LastHeartbeatTime: metav1.Unix(1767225600, 0), LastTransitionTime: metav1.Unix(1767225600, 0)}},
		},
	}
}

func TestMergeAgreesWithTheDocumentPath(t *testing.T) {
	configMap := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "shop"}}
	service := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10",
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}}}
	cases := []struct {
		name  string
		obj   runtime.Object
		patch string
	}{
		{"pod status as a kubelet posts it", pendingPod(), `{"status":{"phase":"Running","hostIP":"198.18.0.42","podIP":"10.42.0.7",` +
			`"podIPs":[{"ip":"10.42.0.7"}],"startTime":"2026-01-01T00:00:02Z","conditions":[{"type":"Ready","status":"True",` +
			`"lastTransitionTime":"2026-01-01T00:00:03Z"}],"containerStatuses":[{"name":"web","ready":true,"restartCount":0,` +
			`"image":"shop/web:v1","imageID":"","state":{"running":{"startedAt":"2026-01-01T00:00:02Z"}}}]}}`},
		{"labels added and removed", pendingPod(), `{"metadata":{"labels":{"tier":"front","pod-template-hash":null}}}`},
		{"only nulls into a missing map", configMap, `{"metadata":{"annotations":{"gone":null}}}`},
		{"a map that did not exist", configMap, `{"data":{"k":"v"},"binaryData":{"b":"AQI="}}`},
		{"list replaced", pendingPod(), `{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"u"}]}}`},
		{"list cleared", pendingPod(), `{"spec":{"tolerations":null}}`},
		{"pointer scalar", deployment("web:v1", 3), `{"spec":{"replicas":5}}`},
		{"pointer scalar cleared", deployment("web:v1", 3), `{"spec":{"replicas":null}}`},
		{"int-or-string inside a pointer struct", deployment("web:v1", 3), `{"spec":{"strategy":{"rollingUpdate":{"maxSurge":"50%","maxUnavailable":1}}}}`},
		{"a struct that did not exist", pendingPod(), `{"spec":{"securityContext":{"runAsUser":1000,"sysctls":[{"name":"a","value":"b"}]}}}`},
		{"an empty struct that did not exist", pendingPod(), `{"spec":{"securityContext":{}}}`},
		{"nested template", deployment("web:v1", 3), `{"spec":{"template":{"metadata":{"annotations":{"restartedAt":"now"}}}}}`},
		{"quantities in a map", node(), `{"status":{"capacity":{"cpu":"8","memory":null,"pods":"110"}}}`},
		{"time", pendingPod(), `{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z","deletionGracePeriodSeconds":30}}`},
		{"struct cleared", pendingPod(), `{"status":null}`},
		{"nothing", pendingPod(), `{}`},
		{"whitespace", service, " {\n \"metadata\" : { \"labels\" : { \"a\" : \"b\" } } }\n"},
		{"service ports", service, `{"spec":{"ports":[{"port":443,"targetPort":"https","protocol":"TCP"}],"type":"NodePort"}}`},
		{"inlined type meta fields stay put", pendingPod(), `{"metadata":{"name":"web-1"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectSame(t, c.obj, []byte(c.patch), false) })
	}
}

// TestMergeOfComputedPatches turns each object into another of its kind
// by the merge patch between their documents: every field either has, the
// nulls for what only the first has, nested to whatever depth they differ.
func TestMergeOfComputedPatches(t *testing.T) {
	pairs := []struct {
		name     string
		from, to runtime.Object
	}{
		{"pod pending to running", pendingPod(), runningPod()},
		{"pod running to pending", runningPod(), pendingPod()},
		{"deployment rollout", deployment("web:v1", 3), deployment("web:v2", 10)},
		{"node to empty node", node(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-0042"}}},
		{"empty node to node", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-0042"}}, node()},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			from, to := mustJSON(t, p.from), mustJSON(t, p.to)
			patch, err := jsonpatch.CreateMergePatch([]byte(from), []byte(to))
			if err != nil {
				t.Fatal(err)
			}
			expectSame(t, p.from, patch, false)
			got, _ := fastPath(t, p.from, patch, false)
			got.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			if mustJSON(t, got) != to {
				t.Fatalf("patch %s did not reach the target:\ngot  %s\nwant %s", patch, mustJSON(t, got), to)
			}
		})
	}
}

func TestStrategicMergeWithoutListsAgrees(t *testing.T) {
	for _, patch := range []string{
		`{"metadata":{"labels":{"tier":"front","app":null}}}`,
		`{"spec":{"securityContext":{"runAsUser":1000}}}`,
		`{"status":{"phase":"Failed","reason":"Evicted"}}`,
	} {
		expectSame(t, pendingPod(), []byte(patch), true)
	}
}

func TestMergeRefuses(t *testing.T) {
	cases := []struct {
		name      string
		patch     string
		strategic bool
	}{
		{"an unknown field", `{"spec":{"bogus":1}}`, false},
		{"a field in the wrong case", `{"Spec":{}}`, false},
		{"an unknown field inside a list", `{"status":{"conditions":[{"type":"Ready","bogus":1}]}}`, false},
		{"a duplicate field inside a list", `{"status":{"conditions":[{"type":"Ready","type":"PodScheduled"}]}}`, false},
		{"a value of the wrong type", `{"spec":{"restartPolicy":5}}`, false},
		{"an object for a string", `{"metadata":{"labels":{"a":{"b":"c"}}}}`, false},
		{"a change of kind", `{"kind":"Service"}`, false},
		{"a change of version", `{"apiVersion":"v2"}`, false},
		{"a list for the document", `[]`, false},
		{"a string for the document", `"x"`, false},
		{"broken JSON", `{"metadata":`, false},
		{"a strategic patch with a list", `{"spec":{"tolerations":[]}}`, true},
		{"a strategic directive", `{"metadata":{"$patch":"replace"}}`, true},
		{"a strategic deletion from a primitive list", `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := fastPath(t, pendingPod(), []byte(c.patch), c.strategic); ok {
				t.Fatalf("the fast path took %s", c.patch)
			}
		})
	}
}

func TestStrategicMergeRefusesOtherStrategies(t *testing.T) {
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	// The selector is replaced, not merged: the merge patch keeps app.
	patch := []byte(`{"spec":{"selector":{"matchLabels":{"tier":"front"}}}}`)
	if _, ok := fastPath(t, pdb, patch, true); ok {
		t.Fatal("the fast path took a patch of a replaced field")
	}
	expectSame(t, pdb, patch, false)
	expectSame(t, pdb, []byte(`{"metadata":{"labels":{"a":"b"}}}`), true)
	if _, ok := fastPath(t, deployment("web:v1", 1), []byte(`{"spec":{"strategy":{"type":"Recreate"}}}`), true); ok {
		t.Fatal("the fast path took a patch of a field with retained keys")
	}
}

func TestMergeRefusesWhatIsNotATypedObject(t *testing.T) {
	if Merge(map[string]any{}, []byte(`{}`), false) {
		t.Fatal("merged into a map")
	}
	if Merge(corev1.Pod{}, []byte(`{}`), false) {
		t.Fatal("merged into a value that is not a pointer")
	}
}

// BenchmarkPodStatusPatch compares the two paths on the patch a node agent
// posts when a pod starts.
func BenchmarkPodStatusPatch(b *testing.B) {
	t := &testing.T{}
	from, to := mustJSON(t, pendingPod()), mustJSON(t, runningPod())
	patch, err := jsonpatch.CreateMergePatch([]byte(from), []byte(to))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("typed", func(b *testing.B) {
		for b.Loop() {
			if _, ok := fastPath(t, pendingPod(), patch, false); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("document", func(b *testing.B) {
		for b.Loop() {
			if documentPath(t, pendingPod(), patch, false) == nil {
				b.Fatal("refused")
			}
		}
	})
}

// TestParseObjectSplitsAsTheDecoderDoes compares parseObject with
// decoding into a map of raw messages, on valid objects.
func TestParseObjectSplitsAsTheDecoderDoes(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` { } `, `{"a":1}`, "{\n\t\"a\" : 1 ,\r\n \"b\":[1, 2 ,{\"c\":null}] }",
		`{"s":"a string with } ] { [ , : and \" quotes","n":-1.5e+3,"t":true,"f":false,"z":null}`,
		`{"nested":{"deeper":{"x":"}"},"list":[[],[{}]]},"after":"y"}`,
		`{"esc\"aped":1,"uni\u00e9":2,"back\\slash":3}`,
		`{"dup":1,"dup":{"second":true}}`,
		`{"empty":"","e":{},"l":[]}`,
	} {
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatalf("test input %s: %v", doc, err)
		}
		got, ok := parseObject([]byte(doc))
		if !ok {
			t.Fatalf("parseObject(%s) refused a valid object", doc)
		}
		if len(got) != len(want) {
			t.Fatalf("parseObject(%s) = %d members, want %d", doc, len(got), len(want))
		}
		for name, raw := range want {
			if string(bytes.TrimSpace(got[name])) != string(raw) {
				t.Fatalf("parseObject(%s)[%q] = %q, want %q", doc, name, got[name], raw)
			}
		}
	}
	for _, notObject := range []string{`[]`, `"s"`, `1`, ``} {
		if _, ok := parseObject([]byte(notObject)); ok {
			t.Fatalf("parseObject(%s) accepted what is not an object", notObject)
		}
	}
	if Merge(&corev1.Pod{}, []byte(`{"metadata":{"name":"x"}`), false) {
		t.Fatal("Merge accepted an unterminated patch")
	}
}

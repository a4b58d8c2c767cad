package endpoints

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

// TestCreatedFieldsRecordAsTheFieldManager creates objects through the
// memo, each twice under other identities (a hit), and expects the
// managedFields the field manager records for the object itself, with a
// fresh time; objects that differ in anything else must not share a record.
func TestCreatedFieldsRecordAsTheFieldManager(t *testing.T) {
	// The server's converter for built-in kinds: client-go's generated schema.
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	manager := func(gvr schema.GroupVersionResource, sub string) *managedfields.FieldManager {
		return serverFieldManager(t, converter, gvr, sub)
	}
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	podFM, statusFM := manager(pods, ""), manager(pods, "status")
	deployFM := manager(appsv1.SchemeGroupVersion.WithResource("deployments"), "")
	eventFM := manager(eventsv1.SchemeGroupVersion.WithResource("events"), "")

	base := testPod()
	base.Status = corev1.PodStatus{Phase: corev1.PodPending}
	variant := func(change func(*corev1.Pod)) *corev1.Pod {
		p := base.DeepCopy()
		change(p)
		return p
	}
	owned := variant(func(p *corev1.Pod) {
		p.GenerateName = "web-"
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "u1", Controller: ptr.To(true)}}
	})
	deployment := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: base.Spec}},
	}
	scheduled := func(pod, node string, at time.Time, series bool) *eventsv1.Event {
		e := &eventsv1.Event{
			TypeMeta:            metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"},
			EventTime:           metav1.NewMicroTime(at),
			ReportingController: "default-scheduler", ReportingInstance: "default-scheduler-vm",
			Action: "Binding", Reason: "Scheduled", Type: corev1.EventTypeNormal,
			Note:      "Successfully assigned default/" + pod + " to " + node,
			Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod, UID: types.UID("uid-" + pod), APIVersion: "v1"},
		}
		if series {
			e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(at)}
		}
		return e
	}
	// Cases of one group differ only in values that decide no field: they
	// must share one record, and cases of different groups must not.
	cases := []struct {
		name, group string
		fm          *managedfields.FieldManager
		obj         runtime.Object
	}{
		{"pod", "pod", podFM, base},
		{"pod with other label values", "pod", podFM, variant(func(p *corev1.Pod) { p.Labels["app"] = "db" })},
		{"pod on a node", "pod on a node", podFM, variant(func(p *corev1.Pod) { p.Spec.NodeName = "n1" })},
		{"pod on another node", "pod on a node", podFM, variant(func(p *corev1.Pod) { p.Spec.NodeName = "n2" })},
		// A shape keeps zero values zero, even behind a pointer where
		// zero and five name the same field: two records, each right.
		{"pod with a priority of 0", "pod with a zero priority", podFM, variant(func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](0) })},
		{"pod with a priority of 5", "pod with a priority", podFM, variant(func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](5) })},
		{"pod with a priority of 7", "pod with a priority", podFM, variant(func(p *corev1.Pod) { p.Spec.Priority = ptr.To[int32](7) })},
		{"pod with another label", "pod with another label", podFM, variant(func(p *corev1.Pod) { p.Labels["tier"] = "front" })},
		{"pod with another image", "pod with another image", podFM, variant(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" })},
		// Quantities are kept whole (in a list here, as a map's values
		// elsewhere), by value: 0.1 is the base pod's 100m.
		{"pod requesting 0.1 cpu", "pod", podFM, variant(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.1")}
		})},
		{"pod requesting more cpu", "pod requesting 200m", podFM, variant(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}
		})},
		{"pod with a second container", "pod with a second container", podFM, variant(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "busybox"})
		})},
		{"owned pod", "owned pod", podFM, owned},
		{"pod through status", "pod through status", statusFM, base},
		{"deployment", "deployment", deployFM, deployment},
		{"event", "event", eventFM, scheduled("web-1", "n1", time.Unix(1767225600, 5000), false)},
		{"event of another pod", "event", eventFM, scheduled("db-22", "node-7", time.Unix(1767229999, 0), false)},
		{"event in a series", "event in a series", eventFM, scheduled("web-1", "n1", time.Unix(1767225600, 0), true)},
	}
	var c createdFields
	identities := []struct{ name, namespace, uid string }{{"a", "default", "uid-a"}, {"b", "other", "uid-b"}, {"c", "default", ""}}
	for round := range 2 { // the second round meets every case's record
		for _, entries := range c.memo { // as if recorded long ago: a hit must write its own time
			for i := range entries {
				entries[i].Time = &metav1.Time{Time: time.Unix(946684800, 0)}
			}
		}
		for _, tc := range cases {
			for i, id := range identities {
				obj := tc.obj.DeepCopyObject()
				objMeta, _ := meta.Accessor(obj)
				objMeta.SetName(id.name)
				objMeta.SetNamespace(id.namespace)
				objMeta.SetUID(types.UID(id.uid))
				objMeta.SetCreationTimestamp(metav1.NewTime(time.Unix(int64(1767225600+i), 0)))
				objMeta.SetResourceVersion("")
				empty := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
				wantObj := tc.fm.UpdateNoErrors(empty.DeepCopyObject(), obj.DeepCopyObject(), "kube-controller-manager")
				before := time.Now().UTC().Truncate(time.Second)
				unchanged := obj.DeepCopyObject()
				got := c.track(tc.fm, empty, obj, "kube-controller-manager")
				withoutFields := got.DeepCopyObject()
				if m, err := meta.Accessor(withoutFields); err == nil {
					m.SetManagedFields(nil)
				}
				if !reflect.DeepEqual(withoutFields, unchanged) {
					t.Errorf("round %d, %s as %s: the object changed beyond its managedFields", round, tc.name, id.name)
				}
				gotFields, wantFields := fieldsOf(t, got), fieldsOf(t, wantObj)
				if len(gotFields) != 1 || gotFields[0].Time == nil || gotFields[0].Time.Before(&metav1.Time{Time: before}) {
					t.Fatalf("round %d, %s as %s: fields %+v, want one entry of now", round, tc.name, id.name, gotFields)
				}
				for _, f := range [][]metav1.ManagedFieldsEntry{gotFields, wantFields} {
					f[0].Time = nil
				}
				if !reflect.DeepEqual(gotFields, wantFields) {
					t.Errorf("round %d, %s as %s:\ngot  %+v\nwant %+v", round, tc.name, id.name, gotFields, wantFields)
				}
				gotMeta, _ := meta.Accessor(got)
				if gotMeta.GetName() != id.name || gotMeta.GetNamespace() != id.namespace || string(gotMeta.GetUID()) != id.uid {
					t.Errorf("%s: identity changed to %s/%s %s", tc.name, gotMeta.GetNamespace(), gotMeta.GetName(), gotMeta.GetUID())
				}
			}
		}
	}
	groups := map[string]bool{}
	for _, tc := range cases {
		groups[tc.group] = true
	}
	if len(c.memo) != len(groups) {
		t.Errorf("%d records for %d groups of objects with the same fields", len(c.memo), len(groups))
	}

	t.Run("objects holding interfaces are not served", func(t *testing.T) {
		revision := &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: []byte(`{}`)}, Revision: 1}
		if _, _, ok := createdFieldsKeyOf(podFM, revision, "kube-controller-manager"); ok {
			t.Error("a ControllerRevision (its data holds a runtime.Object) got a memo key")
		}
	})
	t.Run("objects with managedFields of their own are not served", func(t *testing.T) {
		obj := base.DeepCopy()
		obj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "someone", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:app":{}}}}`)}}
		if _, _, ok := createdFieldsKeyOf(podFM, obj, "kubectl"); ok {
			t.Error("an object carrying managedFields got a memo key")
		}
	})
}

func fieldsOf(t *testing.T, obj runtime.Object) []metav1.ManagedFieldsEntry {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return m.GetManagedFields()
}

// BenchmarkCreatedFieldsKey takes the memo key of a pod and of the
// scheduler's Event, the creates a busy cluster makes most.
func BenchmarkCreatedFieldsKey(b *testing.B) {
	event := &eventsv1.Event{
		TypeMeta:            metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"},
		ObjectMeta:          metav1.ObjectMeta{GenerateName: "web-1.", Namespace: "default"},
		EventTime:           metav1.NewMicroTime(time.Unix(1767225600, 5000)),
		ReportingController: "default-scheduler", ReportingInstance: "default-scheduler-vm",
		Action: "Binding", Reason: "Scheduled", Type: corev1.EventTypeNormal,
		Note:      "Successfully assigned default/web-1 to n1",
		Regarding: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1", UID: "uid-web-1", APIVersion: "v1"},
	}
	for name, obj := range map[string]runtime.Object{"pod": testPod(), "event": event} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, ok := createdFieldsKeyOf(nil, obj, "m"); !ok {
					b.Fatal("no key")
				}
			}
		})
	}
}

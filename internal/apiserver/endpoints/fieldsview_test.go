package endpoints

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// TestUpdateManagedFieldsMatchesWholeObjects records each change through
// the field manager twice, once shown the whole objects and once through
// updateManagedFields' copies without their equal parts, and expects the
// same managedFields and the same returned object.
func TestUpdateManagedFieldsMatchesWholeObjects(t *testing.T) {
	converter := newTrustedTypeConverter(libraryConverter(t))
	scheme := resources.Scheme()
	manager := func(obj runtime.Object, sub string) *managedfields.FieldManager {
		return newFieldManager(t, converter, scheme, obj.GetObjectKind().GroupVersionKind(), sub, nil)
	}

	pod := testPod()
	pod.Spec.Containers[0].Args = []string{"--listen=:80"}
	pod.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	running := func(p *corev1.Pod) *corev1.Pod {
		p = p.DeepCopy()
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.5", PodIPs: []corev1.PodIP{{IP: "10.42.0.5"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Unix(1767225600, 0)}}}}}
		return p
	}
	edit := func(p *corev1.Pod, change func(*corev1.Pod)) *corev1.Pod {
		p = p.DeepCopy()
		change(p)
		return p
	}
	deployment := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: pod.Spec},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("25%"))}}},
	}
	scaled := deployment.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](10)
	scaled.Status = appsv1.DeploymentStatus{Replicas: 3, ObservedGeneration: 2}
	lease := &coordinationv1.Lease{
		TypeMeta:   metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0001", Namespace: "kube-node-lease"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("sim-0001"), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: ptr.To(metav1.NewMicroTime(time.Unix(1767225600, 0)))},
	}
	renewed := lease.DeepCopy()
	renewed.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Unix(1767225610, 0)))
	node := &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0001", Labels: map[string]string{"kubernetes.io/os": "linux"}},
		Spec:       corev1.NodeSpec{PodCIDR: "10.42.1.0/24"},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Unix(1767225600, 0)}}},
	}
	beat := node.DeepCopy()
	beat.Status.Conditions[0].LastHeartbeatTime = metav1.Unix(1767225660, 0)

	heldBy := func(l *coordinationv1.Lease, holder string) *coordinationv1.Lease {
		l = l.DeepCopy()
		l.Spec.HolderIdentity = ptr.To(holder)
		return l
	}
	unheld := renewed.DeepCopy()
	unheld.Spec.RenewTime = nil
	cases := []struct {
		name      string
		sub       string
		live, obj runtime.Object
		// by is the manager of the change; the live object carries a
		// create by "creator" and a status write by "kubelet".
		by string
		// fast: the change is of scalars by's entry alone owns, or none
		// (ownedScalarUpdate records it).
		fast bool
	}{
		{"pod status from nothing", "status", pod, running(pod), "kubelet", false},
		{"pod status change", "status", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
			p.Status.PodIP, p.Status.PodIPs = "", nil
		}), "kubelet", false},
		{"bind", "", pod, edit(pod, func(p *corev1.Pod) { p.Spec.NodeName = "sim-0001" }), "scheduler", false},
		{"labels only", "", running(pod), edit(running(pod), func(p *corev1.Pod) { p.Labels["tier"] = "front" }), "labeler", false},
		{"labels taken over", "", pod, edit(pod, func(p *corev1.Pod) { p.Labels["app"] = "api" }), "other", false},
		{"owner added with the status", "status", pod, edit(running(pod), func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs"}}
		}), "kubelet", false},
		{"annotated among equal metadata", "", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Annotations = map[string]string{"note": "x"}
			p.Finalizers = []string{"example.com/keep"}
		}), "other", false},
		{"metadata equal, status changed", "status", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Status.PodIP = "10.42.0.6"
		}), "other", false},
		{"a container changed among equal fields", "", pod, edit(pod, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "busybox:2" }), "creator", false},
		{"a list removed", "", pod, edit(pod, func(p *corev1.Pod) { p.Spec.Tolerations = nil }), "other", false},
		{"nothing changed", "", running(pod), running(pod), "other", true},
		{"nothing changed by the status writer", "status", running(pod), running(pod), "kubelet", true},
		{"managed fields reset by the client", "", pod, edit(pod, func(p *corev1.Pod) {
			p.ManagedFields = []metav1.ManagedFieldsEntry{{}}
		}), "other", false},
		{"deployment scaled", "", deployment, scaled, "scaler", false},
		{"deployment status", "status", deployment, scaled, "controller", false},
		{"lease renewed", "", lease, renewed, "sim-0001", false},
		{"lease renewed by its creator", "", lease, renewed, "creator", true},
		{"lease renewed and taken over by its creator", "", lease, heldBy(renewed, "other"), "creator", true},
		{"lease renewal time dropped", "", lease, unheld, "creator", false},
		{"deployment scaled by its creator", "", deployment, func() runtime.Object {
			d := deployment.DeepCopy()
			d.Spec.Replicas = ptr.To[int32](5)
			return d
		}(), "creator", true},
		{"deployment status by its creator", "", deployment, scaled, "creator", false},
		{"node heartbeat", "status", node, beat, "kubelet", false},
		{"pod phase by the kubelet", "status", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
		}), "kubelet", true},
		{"pod phase by another", "status", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
		}), "other", false},
		{"pod labeled by the kubelet", "status", running(pod), edit(running(pod), func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Labels = map[string]string{"app": "web", "done": "yes"}
		}), "kubelet", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			live := seedManagedFields(t, manager(c.live, ""), manager(c.live, "status"), c.live)
			// Entries of distinct past seconds: where a change moves its
			// entry in the list must match too.
			entries := live.(metav1.Object).GetManagedFields()
			for i := range entries {
				entries[i].Time = ptr.To(metav1.Unix(1767225600+int64(len(entries)-i)*3600, 0))
			}
			key := entryKey{apiVersion: c.live.GetObjectKind().GroupVersionKind().GroupVersion().String(), subresource: c.sub}
			if c.name != "managed fields reset by the client" {
				sent := c.obj.DeepCopyObject()
				sent.(metav1.Object).SetManagedFields(live.(metav1.Object).GetManagedFields())
				withSent, fast := ownedScalarUpdate(live, sent, c.by, key)
				if fast != c.fast {
					t.Fatalf("recorded without the field manager: %v, want %v", fast, c.fast)
				}
				// A client that sends no managedFields keeps them as one
				// that sends them back unchanged.
				withNone, fastNone := ownedScalarUpdate(live, c.obj, c.by, key)
				if fastNone != fast || len(withNone) != len(withSent) {
					t.Fatalf("without managedFields sent: %d entries (%v), with: %d (%v)", len(withNone), fastNone, len(withSent), fast)
				}
			}
			var got [2]runtime.Object
			for i, update := range []func(*managedfields.FieldManager, runtime.Object, runtime.Object, string) runtime.Object{
				func(fm *managedfields.FieldManager, live, obj runtime.Object, by string) runtime.Object {
					return fm.UpdateNoErrors(live, obj, by)
				},
				func(fm *managedfields.FieldManager, live, obj runtime.Object, by string) runtime.Object {
					return updateManagedFields(serverFields(fm, converter, c.live.GetObjectKind().GroupVersionKind(), nil), live, obj, by, key)
				},
			} {
				obj := c.obj.DeepCopyObject()
				if c.name != "managed fields reset by the client" {
					obj.(metav1.Object).SetManagedFields(live.(metav1.Object).GetManagedFields())
				}
				got[i] = withoutTimes(update(manager(c.live, c.sub), live.DeepCopyObject(), obj, c.by))
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Fatalf("results differ:\nwhole:  %+v\npruned: %+v",
					got[0].(metav1.Object).GetManagedFields(), got[1].(metav1.Object).GetManagedFields())
			}
		})
	}
}

// seedManagedFields gives obj the managedFields of a create by "creator"
// and, for kinds with a status, a status write by "kubelet".
func seedManagedFields(t *testing.T, main, status *managedfields.FieldManager, obj runtime.Object) runtime.Object {
	t.Helper()
	empty := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
	empty.GetObjectKind().SetGroupVersionKind(obj.GetObjectKind().GroupVersionKind())
	created := obj.DeepCopyObject()
	statusField := reflect.ValueOf(created).Elem().FieldByName("Status")
	if statusField.IsValid() {
		statusField.SetZero()
	}
	created = main.UpdateNoErrors(empty, created, "creator")
	if !statusField.IsValid() {
		return created
	}
	withStatus := obj.DeepCopyObject()
	withStatus.(metav1.Object).SetManagedFields(created.(metav1.Object).GetManagedFields())
	return status.UpdateNoErrors(created, withStatus, "kubelet")
}

// withoutTimes drops the managedFields timestamps, which differ between
// two runs.
func withoutTimes(obj runtime.Object) runtime.Object {
	entries := obj.(metav1.Object).GetManagedFields()
	for i := range entries {
		entries[i].Time = nil
	}
	return obj
}

func TestWithoutEqualPartsKeepsTheObjects(t *testing.T) {
	live := testPod()
	obj := live.DeepCopy()
	obj.Spec.NodeName = "sim-0001"
	before := obj.DeepCopy()
	liveView, objView, pruned := withoutEqualParts(live, obj)
	if !pruned {
		t.Fatal("nothing pruned from a bind")
	}
	if !reflect.DeepEqual(obj, before) || !reflect.DeepEqual(live, testPod()) {
		t.Fatal("the objects themselves were changed")
	}
	lv, ov := liveView.(*corev1.Pod), objView.(*corev1.Pod)
	if lv.Spec.Containers != nil || ov.Spec.Containers != nil || ov.Spec.NodeName != "sim-0001" || ov.Name != "web" {
		t.Fatalf("views: live %+v, obj %+v", lv.Spec, ov.Spec)
	}
	if _, _, pruned := withoutEqualParts(live, &corev1.Service{}); pruned {
		t.Fatal("pruned objects of different kinds")
	}
}

// TestOwnedScalarUpdateLeavesSharedFields: a scalar its manager owns with
// another (an applier) is the field manager's to record: the other loses it.
func TestOwnedScalarUpdateLeavesSharedFields(t *testing.T) {
	converter := newTrustedTypeConverter(libraryConverter(t))
	lease := &coordinationv1.Lease{
		TypeMeta:   metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
		ObjectMeta: metav1.ObjectMeta{Name: "sim-0001", Namespace: "kube-node-lease"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("sim-0001"),
			RenewTime: ptr.To(metav1.NewMicroTime(time.Unix(1767225600, 0)))},
	}
	fm := newFieldManager(t, converter, resources.Scheme(), lease.GroupVersionKind(), "", nil)
	live := seedManagedFields(t, fm, nil, lease).(*coordinationv1.Lease)
	live.ManagedFields = append(live.ManagedFields, metav1.ManagedFieldsEntry{
		Manager: "applier", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "coordination.k8s.io/v1",
		Time: ptr.To(metav1.Unix(1767225600, 0)), FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:renewTime":{}}}`),
	})
	renewed := live.DeepCopy()
	renewed.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Unix(1767225610, 0)))
	key := entryKey{apiVersion: "coordination.k8s.io/v1"}
	if _, fast := ownedScalarUpdate(live, renewed, "creator", key); fast {
		t.Fatal("a renewal of a time the applier also owns was recorded without the field manager")
	}
	got := updateManagedFields(serverFields(fm, converter, lease.GroupVersionKind(), nil), live.DeepCopy(), renewed, "creator", key).(*coordinationv1.Lease)
	for _, e := range got.ManagedFields {
		if e.Manager == "applier" {
			t.Fatalf("the applier still owns %s after the creator changed its only field", e.FieldsV1.String())
		}
	}
}

// fieldRecorder is one way to record manager's change in managedFields.
type fieldRecorder struct {
	name   string
	update func(live, obj runtime.Object) runtime.Object
}

// fieldRecorders are the field manager shown the whole objects, and the
// server's way (updateManagedFields), for the benchmarks to compare.
func fieldRecorders(k *kindFields, manager string, key entryKey) []fieldRecorder {
	return []fieldRecorder{
		{"whole", func(live, obj runtime.Object) runtime.Object { return k.manager.UpdateNoErrors(live, obj, manager) }},
		{"server", func(live, obj runtime.Object) runtime.Object { return updateManagedFields(k, live, obj, manager, key) }},
	}
}

// serverKindFields is what the server records writes to gvr (through
// sub) with.
func serverKindFields(t testing.TB, converter managedfields.TypeConverter, gvr schema.GroupVersionResource, sub string) *kindFields {
	t.Helper()
	r, ok := resources.Lookup(gvr)
	if !ok {
		t.Fatalf("no resource %v", gvr)
	}
	reset := resetFields(r, sub)[fieldpath.APIVersion(gvr.GroupVersion().String())]
	return serverFields(serverFieldManager(t, converter, gvr, sub), converter, r.GroupVersionKind(), reset)
}

// serverFields is what the server records a kind's writes with: fm, and
// soleOwnerUpdate's shortcut through converter with reset (the filter
// resetFields gives fm for the kind's version).
func serverFields(fm *managedfields.FieldManager, converter managedfields.TypeConverter, gvk schema.GroupVersionKind, reset fieldpath.Filter) *kindFields {
	return &kindFields{manager: fm, sole: &soleOwner{gvk: gvk, converter: converter, reset: reset}}
}

// BenchmarkLeaseRenewalFields records a node's lease renewal, the write a
// cluster at rest makes most: through the field manager (whole), and as
// the server does (updateManagedFields).
func BenchmarkLeaseRenewalFields(b *testing.B) {
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	fm := serverKindFields(b, converter, coordinationv1.SchemeGroupVersion.WithResource("leases"), "")
	start := time.Unix(1767225600, 0)
	// Leases of 5,000 nodes, each owned by its node, so each entry's
	// fields name a different owner uid, as in a cluster.
	lives := make([]*coordinationv1.Lease, 5000)
	for n := range lives {
		name := fmt.Sprintf("sim-%04d", n)
		lease := &coordinationv1.Lease{
			TypeMeta: metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-node-lease", UID: types.UID("u" + name), ResourceVersion: "5",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: name, UID: types.UID("n" + name)}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40),
				RenewTime: ptr.To(metav1.NewMicroTime(start))},
		}
		empty := &coordinationv1.Lease{TypeMeta: lease.TypeMeta}
		lives[n] = fm.manager.UpdateNoErrors(empty, lease, "tug-agent").(*coordinationv1.Lease)
	}
	for _, bc := range fieldRecorders(fm, "tug-agent", entryKey{apiVersion: "coordination.k8s.io/v1"}) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				live := lives[i%len(lives)]
				next := live.DeepCopy()
				next.Spec.RenewTime = ptr.To(metav1.NewMicroTime(start.Add(time.Duration(i+1) * 10 * time.Second)))
				_ = bc.update(live, next)
			}
		})
	}
}

// BenchmarkPodStatusFields records a node's first status report of a
// ReplicaSet's pod (pending to running), the field manager's largest
// share of a scale-up: through the field manager (whole), and as the
// server does (updateManagedFields).
func BenchmarkPodStatusFields(b *testing.B) {
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	created, fm := serverFieldManager(b, converter, pods, ""), serverKindFields(b, converter, pods, "status")
	start := metav1.Unix(1767225600, 0)
	pending := testPod()
	pending.GenerateName, pending.UID, pending.ResourceVersion, pending.CreationTimestamp = "web-5d8f7c9b4-", "uid-web", "7", start
	pending.Labels = map[string]string{"app": "web", "pod-template-hash": "5d8f7c9b4"}
	pending.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f7c9b4",
		UID: "uid-rs", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	pending.Spec.NodeName = "sim-0001"
	pending.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: start}}}
	pending = created.UpdateNoErrors(&corev1.Pod{TypeMeta: pending.TypeMeta}, pending, "kube-controller-manager").(*corev1.Pod)
	running := pending.DeepCopy()
	ip := "10.42.1.7"
	condition := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: start}
	}
	running.Status = corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, HostIP: "10.0.0.1",
		HostIPs: []corev1.HostIP{{IP: "10.0.0.1"}}, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &start,
		Conditions: []corev1.PodCondition{condition("PodReadyToStartContainers"), condition(corev1.PodInitialized),
			condition(corev1.PodReady), condition(corev1.ContainersReady), condition(corev1.PodScheduled)},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, Started: ptr.To(true), Image: "busybox",
			ImageID: "busybox@sha256:0123", ContainerID: "containerd://0123",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: start}}}}}
	for _, bc := range fieldRecorders(fm, "tug-agent", entryKey{apiVersion: "v1", subresource: "status"}) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.update(pending, running.DeepCopy())
			}
		})
	}
}

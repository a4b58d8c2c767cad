package endpoints

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/applyconfigurations"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

// TestSoleOwnerUpdateMatchesFieldManager replays random histories of
// status writes to a pod by a few managers, each write recorded both by
// the field manager shown the whole objects and as the server records it,
// and expects the same managedFields after every write: the same entries
// with the same fields, in the same order, the same ones stamped anew.
// In half the histories only the kubelet writes the status: it owns what
// it changes alone, which the server records with soleOwnerUpdate; the
// test requires that it did for many writes. Every other history uses
// structured-merge-diff's compare in soleOwnerUpdate instead of
// compareFields (a converter compareFields does not read).
func TestSoleOwnerUpdateMatchesFieldManager(t *testing.T) {
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	created, main := serverFieldManager(t, converter, pods, ""), serverKindFields(t, converter, pods, "")
	fast := serverKindFields(t, converter, pods, "status")
	compared := *fast
	compared.sole = &soleOwner{gvk: fast.sole.gvk, converter: converter.TypeConverter, reset: fast.sole.reset}
	statusKey, mainKey := entryKey{apiVersion: "v1", subresource: "status"}, entryKey{apiVersion: "v1"}
	rng := rand.New(rand.NewPCG(1, 2))
	sole, writes := 0, 0
	for history := range 40 {
		pod := testPod()
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "sidecar", Image: "busybox"})
		pod.Status = corev1.PodStatus{}
		live := created.UpdateNoErrors(&corev1.Pod{TypeMeta: pod.TypeMeta}, pod, "creator").(*corev1.Pod)
		// Past entries of distinct seconds, so that order shows which
		// ones a write stamps.
		for i := range live.ManagedFields {
			live.ManagedFields[i].Time = ptr.To(metav1.Unix(1767225600+int64(i), 0))
		}
		live.Spec.NodeName = "sim-0001" // a bind records no fields
		status := map[bool]*kindFields{true: fast, false: &compared}[history%4 < 2]
		for step := range 12 {
			next := live.DeepCopy()
			manager, fields, key := "kubelet", status, statusKey
			if history%2 == 1 && rng.IntN(4) == 0 {
				manager = "other" // from then on, neither owns the status alone
			}
			if rng.IntN(8) == 0 {
				// Through the main resource: the status is not the
				// writer's to change there, but labels are.
				fields, key = main, mainKey
				next.Labels = map[string]string{"app": "web", "step": fmt.Sprint(step)}
			}
			changeStatus(rng, &next.Status)
			start := time.Now()
			var got [2]*corev1.Pod
			for i, record := range []func(live, obj runtime.Object) runtime.Object{
				func(live, obj runtime.Object) runtime.Object {
					return fields.manager.UpdateNoErrors(live, obj, manager)
				},
				func(live, obj runtime.Object) runtime.Object {
					return updateManagedFields(fields, live, obj, manager, key)
				},
			} {
				got[i] = record(live.DeepCopy(), next.DeepCopy()).(*corev1.Pod)
			}
			if _, ok := fields.sole.soleOwnerUpdate(live, next, manager, key); ok {
				sole++
			}
			writes++
			want, have := stampedSince(got[0].ManagedFields, start), stampedSince(got[1].ManagedFields, start)
			if !reflect.DeepEqual(want, have) {
				t.Fatalf("history %d, write %d by %s to %q: managedFields differ\nfield manager: %v\nserver:        %v",
					history, step, manager, key.subresource, want, have)
			}
			live = got[0]
			live.ResourceVersion = fmt.Sprint(step)
			// Later writes land in later seconds than this one.
			for i := range live.ManagedFields {
				if live.ManagedFields[i].Time.After(start) {
					live.ManagedFields[i].Time = ptr.To(metav1.Unix(1767229200+int64(history*100+step), 0))
				}
			}
		}
	}
	if sole < writes/3 {
		t.Fatalf("%d of %d writes recorded by soleOwnerUpdate, want at least a third", sole, writes)
	}
	t.Logf("%d of %d writes recorded by soleOwnerUpdate", sole, writes)
}

// TestSoleOwnerUpdateDeploymentStatus: a controller's status writes to a
// Deployment created by another manager, the second kind of write a
// scale-up repeats.
func TestSoleOwnerUpdateDeploymentStatus(t *testing.T) {
	converter := newTrustedTypeConverter(applyconfigurations.NewTypeConverter(clientscheme.Scheme))
	deployments := appsv1.SchemeGroupVersion.WithResource("deployments")
	created, status := serverFieldManager(t, converter, deployments, ""), serverKindFields(t, converter, deployments, "status")
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: testPod().Spec}}}
	live := created.UpdateNoErrors(&appsv1.Deployment{TypeMeta: d.TypeMeta}, d, "kubectl").(*appsv1.Deployment)
	key := entryKey{apiVersion: "apps/v1", subresource: "status"}
	for _, replicas := range []int32{1, 3, 0} {
		next := live.DeepCopy()
		next.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, ReadyReplicas: replicas,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: fmt.Sprint(replicas)}}}
		if _, ok := status.sole.soleOwnerUpdate(live, next, "tug-controller-manager", key); !ok {
			t.Fatalf("status write of %d replicas not recorded by soleOwnerUpdate", replicas)
		}
		start := time.Now()
		want := status.manager.UpdateNoErrors(live.DeepCopy(), next.DeepCopy(), "tug-controller-manager").(*appsv1.Deployment)
		have := updateManagedFields(status, live.DeepCopy(), next.DeepCopy(), "tug-controller-manager", key).(*appsv1.Deployment)
		if w, h := stampedSince(want.ManagedFields, start), stampedSince(have.ManagedFields, start); !reflect.DeepEqual(w, h) {
			t.Fatalf("%d replicas: managedFields differ\nfield manager: %v\nserver:        %v", replicas, w, h)
		}
		live = want
	}
}

// changeStatus makes a random change of the kinds nodes make to a pod's
// status: conditions come and go and flip, IPs are set and cleared,
// containers start, and now and then nothing changes at all.
func changeStatus(rng *rand.Rand, s *corev1.PodStatus) {
	// Times of one second but different nanoseconds serialize alike.
	at := metav1.NewTime(time.Unix(1767225600+rng.Int64N(1000), rng.Int64N(2)*int64(time.Millisecond)))
	switch rng.IntN(7) {
	case 0:
		s.Phase = []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded}[rng.IntN(3)]
	case 1:
		kind := []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReady, corev1.ContainersReady, corev1.PodInitialized}[rng.IntN(4)]
		cond := corev1.PodCondition{Type: kind, Status: []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse}[rng.IntN(2)], LastTransitionTime: at}
		s.Conditions = upsert(s.Conditions, cond, func(c corev1.PodCondition) bool { return c.Type == kind })
	case 2:
		if len(s.Conditions) > 0 {
			s.Conditions = s.Conditions[:len(s.Conditions)-1]
		}
	case 3:
		ip := fmt.Sprintf("10.42.1.%d", rng.IntN(4))
		s.PodIP, s.PodIPs, s.HostIP, s.HostIPs = ip, []corev1.PodIP{{IP: ip}}, "10.0.0.1", []corev1.HostIP{{IP: "10.0.0.1"}}
		s.StartTime = &at
	case 4:
		s.PodIP, s.PodIPs, s.StartTime = "", nil, nil
	case 5:
		name := []string{"web", "sidecar"}[rng.IntN(2)]
		cs := corev1.ContainerStatus{Name: name, Image: "busybox", Ready: rng.IntN(2) == 0, RestartCount: rng.Int32N(2),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}}}
		if rng.IntN(3) == 0 {
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		}
		s.ContainerStatuses = upsert(s.ContainerStatuses, cs, func(c corev1.ContainerStatus) bool { return c.Name == name })
	}
}

// upsert replaces the first item of list that is like item, or appends
// item.
func upsert[T any](list []T, item T, like func(T) bool) []T {
	if i := slices.IndexFunc(list, like); i >= 0 {
		list[i] = item
		return list
	}
	return append(list, item)
}

// stampedSince returns entries with the times set at or after start (the
// write's own stamp) replaced by one mark, so two recordings compare equal
// while what each stamped still shows.
func stampedSince(entries []metav1.ManagedFieldsEntry, start time.Time) []metav1.ManagedFieldsEntry {
	out := make([]metav1.ManagedFieldsEntry, len(entries))
	for i, e := range entries {
		if e.Time != nil && !e.Time.Before(&metav1.Time{Time: start.Truncate(time.Second)}) {
			e.Time = ptr.To(metav1.Unix(1, 0))
		}
		out[i] = e
	}
	return out
}

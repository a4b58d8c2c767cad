package endpointslice

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testPod(i int, ready bool) *corev1.Pod {
	s := corev1.ConditionFalse
	if ready {
		s = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p" + strconv.Itoa(i), Namespace: "ns", UID: types.UID("u" + strconv.Itoa(i))},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0." + strconv.Itoa(i/200) + "." + strconv.Itoa(i%200),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: s}}},
	}
}

var testSvc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "svc"},
	Spec: corev1.ServiceSpec{Selector: map[string]string{"a": "b"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}

func TestEndpointConditions(t *testing.T) {
	terminating := testPod(3, true)
	terminating.DeletionTimestamp = &metav1.Time{}
	tests := []struct {
		name                        string
		pod                         *corev1.Pod
		publish                     bool
		ready, serving, terminating bool
	}{
		{name: "ready", pod: testPod(1, true), ready: true, serving: true},
		{name: "not ready", pod: testPod(2, false)},
		{name: "terminating", pod: terminating, serving: true, terminating: true},
		{name: "publish not ready", pod: testPod(2, false), publish: true, ready: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := testSvc.DeepCopy()
			svc.Spec.PublishNotReadyAddresses = tt.publish
			ep := endpointOf(svc, tt.pod, tt.pod.Status.PodIP, map[string]string{"n1": "z1"})
			c := ep.Conditions
			if *c.Ready != tt.ready || *c.Serving != tt.serving || *c.Terminating != tt.terminating || ptr.Deref(ep.Zone, "") != "z1" {
				t.Errorf("endpoint = %+v", ep)
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	var pods []*corev1.Pod
	for i := range 150 {
		pods = append(pods, testPod(i, true))
	}
	plan := Reconcile(testSvc, Desired(testSvc, pods, nil), nil)
	if len(plan.Create) != 2 || len(plan.Create[0].Endpoints) != MaxEndpointsPerSlice || len(plan.Create[1].Endpoints) != 50 {
		t.Fatalf("first plan: create %d", len(plan.Create))
	}
	s := plan.Create[0]
	if s.GenerateName != "web-" || s.Labels[LabelServiceName] != "web" || s.Labels[LabelManagedBy] != ManagedBy ||
		!metav1.IsControlledBy(s, testSvc) || *s.Ports[0].Port != 8080 || s.AddressType != discoveryv1.AddressTypeIPv4 {
		t.Errorf("slice = %+v", s.ObjectMeta)
	}
	existing := []*discoveryv1.EndpointSlice{plan.Create[0].DeepCopy(), plan.Create[1].DeepCopy()}
	existing[0].Name, existing[1].Name = "web-a", "web-b"

	t.Run("unchanged", func(t *testing.T) {
		plan := Reconcile(testSvc, Desired(testSvc, pods, nil), existing)
		if n := len(plan.Create) + len(plan.Update) + len(plan.Delete); n != 0 {
			t.Errorf("%d writes, want none", n)
		}
	})
	t.Run("one pod goes, one comes: only the slices concerned change", func(t *testing.T) {
		// p149 goes from whichever slice holds it; p500 takes its place
		// there if that slice has room, else in web-b.
		changed := append([]*corev1.Pod{testPod(500, true)}, pods[:149]...)
		plan := Reconcile(testSvc, Desired(testSvc, changed, nil), existing)
		if len(plan.Create) != 0 || len(plan.Delete) != 0 || len(plan.Update) == 0 || len(plan.Update) > 2 {
			t.Fatalf("plan = create %d update %d delete %d", len(plan.Create), len(plan.Update), len(plan.Delete))
		}
		holds := map[string]bool{}
		for _, s := range plan.Update {
			for _, e := range s.Endpoints {
				holds[e.TargetRef.Name] = true
			}
		}
		if holds["p149"] || !holds["p500"] {
			t.Errorf("updated slices hold p149 %v, p500 %v", holds["p149"], holds["p500"])
		}
	})
	t.Run("no pods leaves a placeholder", func(t *testing.T) {
		plan := Reconcile(testSvc, Desired(testSvc, nil, nil), existing)
		if len(plan.Update) != 1 || len(plan.Update[0].Endpoints) != 0 || len(plan.Delete) != 1 || len(plan.Create) != 0 {
			t.Errorf("plan = create %d update %d delete %d", len(plan.Create), len(plan.Update), len(plan.Delete))
		}
	})
}

package defaultpreemption

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clienttesting "k8s.io/client-go/testing"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// TestPreemptionSideEffects checks what preemption does through the API:
// the preemptor is nominated first, each victim gets its DisruptionTarget
// condition before it is deleted and an Event after, and a lower-priority
// pod nominated to the same node loses its nomination.
func TestPreemptionSideEffects(t *testing.T) {
	victim := makePod("victim", 1, 1000).obj()
	sc := scenario{
		nodes: []*framework.NodeInfo{makeNode("n1", 1000, victim)},
		pod:   makePod("p", 100, 1000).obj(),
		nominated: map[string][]*corev1.Pod{"n1": {
			makePod("lesser", 50, 100).nominatedTo("n1").obj(),
			makePod("greater", 200, 100).nominatedTo("n1").obj(),
		}},
	}
	// The more important nominated pod would not leave room: give the
	// node enough for it.
	sc.nodes[0].Allocatable.MilliCPU = 1100
	got, h := sc.run(t)
	if diff := cmp.Diff(outcome{Code: framework.Success, Nominated: "n1", Deleted: []string{"victim"}, PodNomination: "n1"}, got); diff != "" {
		t.Fatalf("outcome (-want +got):\n%s", diff)
	}

	// The API calls, in order, by pod.
	type call struct{ Verb, Pod, Subresource string }
	var calls []call
	var conditionPatch []byte
	for _, a := range h.Client.Actions() {
		switch a := a.(type) {
		case clienttesting.PatchAction:
			calls = append(calls, call{"patch", a.GetName(), a.GetSubresource()})
			if a.GetName() == "victim" {
				conditionPatch = a.GetPatch()
			}
		case clienttesting.DeleteAction:
			calls = append(calls, call{"delete", a.GetName(), a.GetSubresource()})
		}
	}
	wantCalls := []call{
		{"patch", "p", "status"},
		{"patch", "victim", "status"},
		{"delete", "victim", ""},
		{"patch", "lesser", "status"},
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}

	var patch struct {
		Status struct {
			Conditions []corev1.PodCondition `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(conditionPatch, &patch); err != nil {
		t.Fatalf("condition patch %s: %v", conditionPatch, err)
	}
	wantCond := []corev1.PodCondition{{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: corev1.PodReasonPreemptionByScheduler,
		Message: "default-scheduler: preempting to accommodate a higher priority pod",
	}}
	if diff := cmp.Diff(wantCond, patch.Status.Conditions, cmpIgnoreTransitionTime()); diff != "" {
		t.Errorf("condition (-want +got):\n%s", diff)
	}

	lesser, err := h.Client.CoreV1().Pods("default").Get(context.Background(), "lesser", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lesser.Status.NominatedNodeName != "" {
		t.Errorf("lesser pod still nominated to %q", lesser.Status.NominatedNodeName)
	}

	select {
	case ev := <-h.Recorder.Events:
		if want := "Normal Preempted Preempted by pod uid-p on node n1"; ev != want {
			t.Errorf("event = %q, want %q", ev, want)
		}
	default:
		t.Error("no Preempted event")
	}
}

func cmpIgnoreTransitionTime() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".LastTransitionTime" }, cmp.Ignore())
}

func TestEventsToRegister(t *testing.T) {
	got := (&DefaultPreemption{}).EventsToRegister()
	want := []framework.ClusterEvent{{Resource: framework.AssignedPodResource, ActionType: framework.Delete}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

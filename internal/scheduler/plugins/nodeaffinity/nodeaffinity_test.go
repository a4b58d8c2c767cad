package nodeaffinity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const reasonPod = "node(s) didn't match Pod's node affinity/selector"

func TestFilter(t *testing.T) {
	n1 := node("n1", map[string]string{"zone": "a", "disk": "ssd", "cores": "8"})
	tests := []struct {
		name     string
		pod      *corev1.Pod
		wantCode framework.Code
	}{
		{name: "nodeSelector matches", pod: podWith(map[string]string{"zone": "a", "disk": "ssd"}), wantCode: framework.Success},
		{name: "nodeSelector value differs", pod: podWith(map[string]string{"zone": "b"}), wantCode: framework.UnschedulableAndUnresolvable},
		{name: "nodeSelector label missing", pod: podWith(map[string]string{"gpu": "true"}), wantCode: framework.UnschedulableAndUnresolvable},
		{
			name: "affinity term matches", wantCode: framework.Success,
			pod: podWith(nil, exprTerm(expr("zone", corev1.NodeSelectorOpIn, "a", "b"), expr("cores", corev1.NodeSelectorOpGt, "4"))),
		},
		{
			name: "terms are ORed", wantCode: framework.Success,
			pod: podWith(nil, exprTerm(expr("zone", corev1.NodeSelectorOpIn, "b")), exprTerm(expr("disk", corev1.NodeSelectorOpExists))),
		},
		{
			name: "no term matches", wantCode: framework.UnschedulableAndUnresolvable,
			pod: podWith(nil, exprTerm(expr("zone", corev1.NodeSelectorOpNotIn, "a")), exprTerm(expr("disk", corev1.NodeSelectorOpDoesNotExist))),
		},
		{
			name: "nodeSelector and affinity must both match", wantCode: framework.UnschedulableAndUnresolvable,
			pod: podWith(map[string]string{"zone": "b"}, exprTerm(expr("disk", corev1.NodeSelectorOpExists))),
		},
		{
			name: "an invalid term never matches, others still do", wantCode: framework.Success,
			pod: podWith(nil, exprTerm(expr("cores", corev1.NodeSelectorOpGt, "x")), exprTerm(expr("cores", corev1.NodeSelectorOpLt, "9"))),
		},
		{
			name: "only an invalid term", wantCode: framework.UnschedulableAndUnresolvable,
			pod: podWith(nil, exprTerm(expr("cores", corev1.NodeSelectorOpGt, "x"))),
		},
		{name: "an empty term matches nothing", pod: podWith(nil, corev1.NodeSelectorTerm{}), wantCode: framework.UnschedulableAndUnresolvable},
		{name: "no terms match nothing", pod: podWith(nil, []corev1.NodeSelectorTerm{}...), wantCode: framework.UnschedulableAndUnresolvable},
		{
			name: "matchFields on the node's name", wantCode: framework.Success,
			pod: podWith(nil, fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n1"))),
		},
		{
			name: "matchFields on another name", wantCode: framework.UnschedulableAndUnresolvable,
			pod: podWith(nil, fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n2"))),
		},
	}
	pl := &NodeAffinity{}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := framework.NewCycleState()
			if _, st := pl.PreFilter(ctx, state, tt.pod, nil); !st.IsSuccess() {
				t.Fatalf("PreFilter: %v %s", st.Code(), st.Message())
			}
			st := pl.Filter(ctx, state, tt.pod, nodeInfo(n1))
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v", st.Code(), tt.wantCode)
			}
			var wantReasons []string
			if tt.wantCode != framework.Success {
				wantReasons = []string{reasonPod}
			}
			if diff := cmp.Diff(wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreFilter(t *testing.T) {
	name := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return expr("metadata.name", op, values...)
	}
	tests := []struct {
		name        string
		pod         *corev1.Pod
		wantNames   sets.Set[string]
		wantCode    framework.Code
		wantReasons []string
	}{
		{name: "nothing to do", pod: &corev1.Pod{}, wantCode: framework.Skip},
		{name: "nodeSelector only", pod: podWith(map[string]string{"a": "b"}), wantCode: framework.Success},
		{name: "label terms", pod: podWith(nil, exprTerm(expr("a", corev1.NodeSelectorOpExists))), wantCode: framework.Success},
		{
			name: "one term with names", pod: podWith(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "n1", "n2"))),
			wantNames: sets.New("n1", "n2"), wantCode: framework.Success,
		},
		{
			name:      "names are ANDed within a term",
			pod:       podWith(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "n1", "n2"), name(corev1.NodeSelectorOpIn, "n2", "n3"))),
			wantNames: sets.New("n2"), wantCode: framework.Success,
		},
		{
			name:      "names are ORed across terms",
			pod:       podWith(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "n1")), fieldTerm(name(corev1.NodeSelectorOpIn, "n3"))),
			wantNames: sets.New("n1", "n3"), wantCode: framework.Success,
		},
		{
			name:     "a term without names allows every node",
			pod:      podWith(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "n1")), exprTerm(expr("a", corev1.NodeSelectorOpExists))),
			wantCode: framework.Success,
		},
		{
			name:     "NotIn does not narrow",
			pod:      podWith(nil, fieldTerm(name(corev1.NodeSelectorOpNotIn, "n1"))),
			wantCode: framework.Success,
		},
		{
			name:     "conflicting names",
			pod:      podWith(nil, fieldTerm(name(corev1.NodeSelectorOpIn, "n1"), name(corev1.NodeSelectorOpIn, "n2"))),
			wantCode: framework.UnschedulableAndUnresolvable, wantReasons: []string{"pod affinity terms conflict"},
		},
	}
	pl := &NodeAffinity{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, st := pl.PreFilter(context.Background(), framework.NewCycleState(), tt.pod, nil)
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v", st.Code(), tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantReasons, st.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			var got sets.Set[string]
			if res != nil {
				got = res.NodeNames
			}
			if diff := cmp.Diff(tt.wantNames, got); diff != "" {
				t.Errorf("node names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterStateSurvivesClone(t *testing.T) {
	pl := &NodeAffinity{}
	ctx := context.Background()
	pod := podWith(map[string]string{"zone": "b"})
	state := framework.NewCycleState()
	pl.PreFilter(ctx, state, pod, nil)
	if st := pl.Filter(ctx, state.Clone(), pod, nodeInfo(node("n1", map[string]string{"zone": "a"}))); st.Code() != framework.UnschedulableAndUnresolvable {
		t.Errorf("code = %v", st.Code())
	}
}

func TestFilterWithoutState(t *testing.T) {
	st := (&NodeAffinity{}).Filter(context.Background(), framework.NewCycleState(), podWith(map[string]string{"a": "b"}), nodeInfo(node("n1", nil)))
	if st.Code() != framework.Error {
		t.Errorf("code = %v, want Error", st.Code())
	}
}

func TestFilterAllocations(t *testing.T) {
	pl := &NodeAffinity{}
	ctx := context.Background()
	pod := podWith(map[string]string{"zone": "a"},
		exprTerm(expr("cores", corev1.NodeSelectorOpGt, "4"), expr("disk", corev1.NodeSelectorOpIn, "ssd")),
		fieldTerm(expr("metadata.name", corev1.NodeSelectorOpNotIn, "n2")))
	ni := nodeInfo(node("n1", map[string]string{"zone": "a", "disk": "ssd", "cores": "8"}))
	state := framework.NewCycleState()
	pl.PreFilter(ctx, state, pod, nil)
	allocs := testing.AllocsPerRun(100, func() {
		if st := pl.Filter(ctx, state, pod, ni); !st.IsSuccess() {
			t.Fatalf("Filter: %s", st.Message())
		}
	})
	if allocs != 0 {
		t.Errorf("Filter allocates %v times per node, want 0", allocs)
	}
}

func TestEventsToRegister(t *testing.T) {
	want := []framework.ClusterEvent{{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel}}
	if diff := cmp.Diff(want, (&NodeAffinity{}).EventsToRegister()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

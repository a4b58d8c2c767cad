package podtopologyspread

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/framework/frameworktest"
)

// scoreAll runs PreScore, Score and NormalizeScore over nodes (all of
// them feasible); nil maps mean PreScore skipped.
func scoreAll(t *testing.T, pl *PodTopologySpread, nodes []*framework.NodeInfo, pod *corev1.Pod) (raw, normalized map[string]int64) {
	t.Helper()
	rawScores, normalizedScores, st := frameworktest.ScoreNodes(t, pl, pod, nodes)
	if st.IsSkip() {
		return nil, nil
	}
	if !st.IsSuccess() {
		t.Fatalf("PreScore: %v", st.Message())
	}
	return frameworktest.ScoresByName(rawScores), frameworktest.ScoresByName(normalizedScores)
}

func TestScore(t *testing.T) {
	web := func(name string) *corev1.Pod { return makePod("default", name, "app", "web").Obj() }
	// Two web pods on n1 and one on n3; none in z3.
	placed := map[string][]*corev1.Pod{"n1": {web("a"), web("b")}, "n3": {web("c")}}
	replicaSet := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rs1"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}},
	}
	otherService := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "db"}},
	}
	// With the defaults over n1…n4: hostname weight ln(4+2), zone weight
	// ln(3+2). Raw n1 = 2·1.79+2 + 2·1.61+4 = 12.8; n2 = 2 + 7.2 = 9.2;
	// n3 = 1.79+2 + 1.61+4 = 9.4; n4 = 2+4 = 6. Normalized
	// 100·(max+min-s)/max with max 13 and min 6.
	defaultRaw := map[string]int64{"n1": 13, "n2": 9, "n3": 9, "n4": 6}
	defaultNormalized := map[string]int64{"n1": 46, "n2": 76, "n3": 76, "n4": 100}
	tests := []struct {
		name           string
		pod            *corev1.Pod
		nodes          int // how many of cluster()'s nodes: 4 leaves out n5
		objs           []runtime.Object
		wantRaw        map[string]int64
		wantNormalized map[string]int64
	}{
		{
			// z1 holds 2, z2 1, z3 0; weight ln(3+2). n5 has no zone and
			// is ignored (scored 0).
			name:           "ScheduleAnyway zone constraint",
			pod:            makePod("default", "p", "app", "web").Spread(1, zone, corev1.ScheduleAnyway, "web").Obj(),
			nodes:          5,
			wantRaw:        map[string]int64{"n1": 3, "n2": 3, "n3": 2, "n4": 0, "n5": 0},
			wantNormalized: map[string]int64{"n1": 0, "n2": 0, "n3": 33, "n4": 100, "n5": 0},
		},
		{
			// maxSkew 3 adds 2 to every node: ln(5+2)·count + 2.
			name:           "ScheduleAnyway hostname constraint with maxSkew 3",
			pod:            makePod("default", "p", "app", "web").Spread(3, host, corev1.ScheduleAnyway, "web").Obj(),
			nodes:          5,
			wantRaw:        map[string]int64{"n1": 6, "n2": 2, "n3": 4, "n4": 2, "n5": 2},
			wantNormalized: map[string]int64{"n1": 33, "n2": 100, "n3": 66, "n4": 100, "n5": 100},
		},
		{
			name:  "DoNotSchedule constraints only: nothing to score",
			pod:   makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			nodes: 5,
		},
		{
			name:           "default constraints from the owning ReplicaSet",
			pod:            makePod("default", "p", "app", "web").OwnedBy("apps/v1", "ReplicaSet", "rs1").Obj(),
			nodes:          4,
			objs:           []runtime.Object{replicaSet},
			wantRaw:        defaultRaw,
			wantNormalized: defaultNormalized,
		},
		{
			name:           "default constraints from a selecting Service",
			pod:            makePod("default", "p", "app", "web").Obj(),
			nodes:          4,
			objs:           []runtime.Object{service, otherService},
			wantRaw:        defaultRaw,
			wantNormalized: defaultNormalized,
		},
		{
			name:  "no default constraints when nothing selects the pod",
			pod:   makePod("default", "p", "app", "web").OwnedBy("apps/v1", "ReplicaSet", "missing").Obj(),
			nodes: 4,
			objs:  []runtime.Object{otherService},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := cluster(placed)[:tt.nodes]
			pl := newPlugin(t, nodes, tt.objs...)
			raw, normalized := scoreAll(t, pl, nodes, tt.pod)
			if diff := cmp.Diff(tt.wantRaw, raw); diff != "" {
				t.Errorf("raw scores (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNormalized, normalized); diff != "" {
				t.Errorf("normalized scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultSelector(t *testing.T) {
	owned := func(apiVersion, kind, name string) *corev1.Pod {
		return makePod("default", "p", "app", "web", "tier", "front").OwnedBy(apiVersion, kind, name).Obj()
	}
	objs := []runtime.Object{
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "front"},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"tier": "front"}},
		},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "manual"}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "front"},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}},
		},
		&corev1.ReplicationController{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rc"},
			Spec:       corev1.ReplicationControllerSpec{Selector: map[string]string{"app": "web"}},
		},
		&appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ss"},
			Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}},
			}}},
		},
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"services only", makePod("default", "p", "app", "web", "tier", "front").Obj(), "tier=front"},
		{"replication controller", owned("v1", "ReplicationController", "rc"), "app=web,tier=front"},
		{"stateful set", owned("apps/v1", "StatefulSet", "ss"), "app in (api,web),tier=front"},
		{"unknown owner kind", owned("batch/v1", "Job", "j"), "tier=front"},
		{"no service matches", makePod("default", "p", "app", "web").Obj(), ""},
	}
	pl := newPlugin(t, nil, objs...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pl.defaultSelector(tt.pod).String(); got != tt.want {
				t.Errorf("selector = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestScoreFollowsRelabeledNodes: the domains PreScore remembers by node
// follow a node that moves to another zone, and Score gives a NodeInfo
// that is not the snapshot's (a copy) the score of the node it copies.
func TestScoreFollowsRelabeledNodes(t *testing.T) {
	web := func(name string) *corev1.Pod { return makePod("default", name, "app", "web").Obj() }
	nodes := cluster(map[string][]*corev1.Pod{"n1": {web("a"), web("b")}, "n3": {web("c")}})
	pl := newPlugin(t, nodes)
	pod := makePod("default", "p", "app", "web").Spread(1, zone, corev1.ScheduleAnyway, "web").Obj()
	// z1 (n1, n2) holds 2, z2 (n3) 1, z3 (n4) 0; weight ln(3+2).
	raw, _ := scoreAll(t, pl, nodes, pod)
	if diff := cmp.Diff(map[string]int64{"n1": 3, "n2": 3, "n3": 2, "n4": 0, "n5": 0}, raw); diff != "" {
		t.Fatalf("raw scores (-want +got):\n%s", diff)
	}

	// n3 moves to z1 (a new Node object, as the cache would make): z1
	// holds 3, z3 none, and z2 is gone: weight ln(2+2).
	moved := nodes[2].Node.DeepCopy()
	moved.Labels[zone] = "z1"
	nodes[2].Node = moved
	want := map[string]int64{"n1": 4, "n2": 4, "n3": 4, "n4": 0, "n5": 0}
	raw, _ = scoreAll(t, pl, nodes, pod)
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("raw scores after n3 moved (-want +got):\n%s", diff)
	}

	ctx := context.Background()
	cs := framework.NewCycleState()
	if st := pl.PreScore(ctx, cs, pod, nodes); !st.IsSuccess() {
		t.Fatal(st.Message())
	}
	for _, ni := range nodes {
		clone := ni.Clone()
		clone.SnapshotIndex = -1
		got, st := pl.Score(ctx, cs, pod, clone)
		if !st.IsSuccess() || got != want[ni.NodeName()] {
			t.Errorf("Score of a copy of %s = %d (%v), want %d", ni.NodeName(), got, st.Message(), want[ni.NodeName()])
		}
	}
}

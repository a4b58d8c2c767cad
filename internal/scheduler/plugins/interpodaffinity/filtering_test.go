package interpodaffinity

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const (
	zone = corev1.LabelTopologyZone
	host = corev1.LabelHostname
)

// outcome is what Filter said about one node: "" for success, else the
// code and reason.
type outcome struct {
	Code   framework.Code
	Reason string
}

func ok() outcome { return outcome{} }

func noAffinity() outcome {
	return outcome{Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonAffinityRulesNotMatch}
}

func unschedulable(reason string) outcome {
	return outcome{Code: framework.Unschedulable, Reason: reason}
}

// cluster returns four nodes: n1 and n2 in zone z1, n3 in z2, n4 without
// a zone; each with its hostname. pods maps node name to its pods.
func cluster(pods map[string][]*corev1.Pod) []*framework.NodeInfo {
	return []*framework.NodeInfo{
		makeNode("n1", map[string]string{zone: "z1", host: "n1"}, pods["n1"]...),
		makeNode("n2", map[string]string{zone: "z1", host: "n2"}, pods["n2"]...),
		makeNode("n3", map[string]string{zone: "z2", host: "n3"}, pods["n3"]...),
		makeNode("n4", map[string]string{host: "n4"}, pods["n4"]...),
	}
}

// filterAll runs PreFilter and Filter on every node, as the scheduler
// does: Skip from PreFilter means every node passes.
func filterAll(t *testing.T, pl *InterPodAffinity, nodes []*framework.NodeInfo, pod *corev1.Pod) (*framework.Status, map[string]outcome) {
	t.Helper()
	ctx := context.Background()
	cs := framework.NewCycleState()
	_, st := pl.PreFilter(ctx, cs, pod, nodes)
	if !st.IsSuccess() && !st.IsSkip() {
		return st, nil
	}
	got := map[string]outcome{}
	for _, ni := range nodes {
		if st.IsSkip() {
			got[ni.NodeName()] = ok()
			continue
		}
		fst := pl.Filter(ctx, cs, pod, ni)
		got[ni.NodeName()] = outcome{Code: fst.Code(), Reason: fst.Message()}
	}
	return nil, got
}

func TestFilter(t *testing.T) {
	inNamespaces := func(ns ...string) func(*corev1.PodAffinityTerm) {
		return func(t *corev1.PodAffinityTerm) { t.Namespaces = ns }
	}
	nsSelector := func(k, v string) func(*corev1.PodAffinityTerm) {
		return func(t *corev1.PodAffinityTerm) {
			t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
		}
	}
	allNamespaces := func(t *corev1.PodAffinityTerm) { t.NamespaceSelector = &metav1.LabelSelector{} }
	db := makePod("default", "db", "app", "db").Obj()
	web := makePod("default", "web", "app", "web").Obj()
	tests := []struct {
		name       string
		pod        *corev1.Pod
		pods       map[string][]*corev1.Pod
		namespaces []runtime.Object
		want       map[string]outcome
	}{
		{
			name: "required affinity to a zone with a matching pod",
			pod:  makePod("default", "p", "app", "web").RequiredAffinity(term(zone, "db")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}},
			want: map[string]outcome{
				"n1": ok(), "n2": ok(),
				"n3": noAffinity(),
				"n4": noAffinity(),
			},
		},
		{
			name: "required affinity with no matching pod anywhere",
			pod:  makePod("default", "p", "app", "web").RequiredAffinity(term(zone, "db")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web}},
			want: map[string]outcome{
				"n1": noAffinity(), "n2": noAffinity(),
				"n3": noAffinity(), "n4": noAffinity(),
			},
		},
		{
			name: "first pod of a group matching its own affinity goes wherever the key exists",
			pod:  makePod("default", "p", "app", "web").RequiredAffinity(term(zone, "web")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}},
			want: map[string]outcome{
				"n1": ok(), "n2": ok(), "n3": ok(),
				"n4": noAffinity(),
			},
		},
		{
			name: "once a group member exists, self-affinity follows it",
			pod:  makePod("default", "p", "app", "web").RequiredAffinity(term(zone, "web")).Obj(),
			pods: map[string][]*corev1.Pod{"n3": {web}},
			want: map[string]outcome{
				"n1": noAffinity(), "n2": noAffinity(),
				"n3": ok(), "n4": noAffinity(),
			},
		},
		{
			name: "all affinity terms must match the same pods",
			pod: makePod("default", "p").
				RequiredAffinity(term(zone, "db")).
				RequiredAffinity(term(host, "db")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}},
			want: map[string]outcome{
				"n1": ok(), "n2": noAffinity(),
				"n3": noAffinity(), "n4": noAffinity(),
			},
		},
		{
			name: "required anti-affinity by hostname",
			pod:  makePod("default", "p", "app", "web").RequiredAntiAffinity(term(host, "web")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web}},
			want: map[string]outcome{
				"n1": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n2": ok(), "n3": ok(), "n4": ok(),
			},
		},
		{
			name: "required anti-affinity by zone",
			pod:  makePod("default", "p").RequiredAntiAffinity(term(zone, "web")).Obj(),
			pods: map[string][]*corev1.Pod{"n2": {web}},
			want: map[string]outcome{
				"n1": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n2": unschedulable(ErrReasonAntiAffinityRulesNotMatch),
				"n3": ok(), "n4": ok(),
			},
		},
		{
			name: "existing pod's anti-affinity keeps the pod out of its zone",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {makePod("default", "loner", "app", "db").RequiredAntiAffinity(term(zone, "web")).Obj()}},
			want: map[string]outcome{
				"n1": unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch), "n2": unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch),
				"n3": ok(), "n4": ok(),
			},
		},
		{
			name: "existing pod's anti-affinity for another namespace does not apply",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {makePod("other", "loner", "app", "db").RequiredAntiAffinity(term(zone, "web")).Obj()}},
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok()},
		},
		{
			name: "existing pod's anti-affinity with a namespace selector matching the pod's namespace labels",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{"n3": {makePod("other", "loner").RequiredAntiAffinity(term(host, "web", nsSelector("env", "prod"))).Obj()}},
			namespaces: []runtime.Object{
				namespace("default", map[string]string{"env": "prod"}), namespace("other", nil),
			},
			want: map[string]outcome{
				"n1": ok(), "n2": ok(), "n3": unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch), "n4": ok(),
			},
		},
		{
			name: "existing pod's anti-affinity with a namespace selector not matching",
			pod:  makePod("default", "p", "app", "web").Obj(),
			pods: map[string][]*corev1.Pod{"n3": {makePod("other", "loner").RequiredAntiAffinity(term(host, "web", nsSelector("env", "prod"))).Obj()}},
			namespaces: []runtime.Object{
				namespace("default", map[string]string{"env": "dev"}), namespace("other", nil),
			},
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok()},
		},
		{
			name: "affinity term's namespaces list",
			pod:  makePod("default", "p").RequiredAffinity(term(zone, "db", inNamespaces("other"))).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}, "n3": {makePod("other", "db", "app", "db").Obj()}},
			want: map[string]outcome{
				"n1": noAffinity(), "n2": noAffinity(),
				"n3": ok(), "n4": noAffinity(),
			},
		},
		{
			name: "affinity term's namespace selector",
			pod:  makePod("default", "p").RequiredAffinity(term(zone, "db", nsSelector("team", "a"))).Obj(),
			pods: map[string][]*corev1.Pod{
				"n1": {db},
				"n3": {makePod("team-a", "db", "app", "db").Obj()},
			},
			namespaces: []runtime.Object{namespace("default", nil), namespace("team-a", map[string]string{"team": "a"})},
			want: map[string]outcome{
				"n1": noAffinity(), "n2": noAffinity(),
				"n3": ok(), "n4": noAffinity(),
			},
		},
		{
			name: "anti-affinity with an empty namespace selector covers all namespaces",
			pod:  makePod("default", "p").RequiredAntiAffinity(term(host, "db", allNamespaces)).Obj(),
			pods: map[string][]*corev1.Pod{"n2": {makePod("elsewhere", "db", "app", "db").Obj()}},
			want: map[string]outcome{
				"n1": ok(), "n2": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n3": ok(), "n4": ok(),
			},
		},
		{
			name: "affinity is checked before anti-affinity",
			pod: makePod("default", "p").
				RequiredAffinity(term(zone, "db")).
				RequiredAntiAffinity(term(host, "db")).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {db}},
			want: map[string]outcome{
				"n1": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n2": ok(),
				"n3": noAffinity(), "n4": noAffinity(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := cluster(tt.pods)
			pl := newPlugin(t, nodes, tt.namespaces...)
			st, got := filterAll(t, pl, nodes, tt.pod)
			if st != nil {
				t.Fatalf("PreFilter: %v", st.Message())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("filter results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreFilterSkip(t *testing.T) {
	web := makePod("default", "web", "app", "web").Obj()
	tests := []struct {
		name string
		pod  *corev1.Pod
		pods map[string][]*corev1.Pod
		want framework.Code
	}{
		{name: "no terms anywhere", pod: web, pods: map[string][]*corev1.Pod{"n1": {makePod("default", "x", "app", "web").Obj()}}, want: framework.Skip},
		{
			name: "existing anti-affinity that does not match the pod",
			pod:  web,
			pods: map[string][]*corev1.Pod{"n1": {makePod("default", "x").RequiredAntiAffinity(term(host, "db")).Obj()}},
			want: framework.Skip,
		},
		{
			name: "existing anti-affinity that matches",
			pod:  web,
			pods: map[string][]*corev1.Pod{"n1": {makePod("default", "x").RequiredAntiAffinity(term(host, "web")).Obj()}},
			want: framework.Success,
		},
		{name: "own terms", pod: makePod("default", "p").RequiredAntiAffinity(term(host, "db")).Obj(), want: framework.Success},
		{
			name: "invalid selector",
			pod: makePod("default", "p").RequiredAffinity(term(host, "db", func(t *corev1.PodAffinityTerm) {
				t.LabelSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}
			})).Obj(),
			want: framework.UnschedulableAndUnresolvable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := cluster(tt.pods)
			pl := newPlugin(t, nodes)
			_, st := pl.PreFilter(context.Background(), framework.NewCycleState(), tt.pod, nodes)
			if st.Code() != tt.want {
				t.Errorf("PreFilter code = %v (%s), want %v", st.Code(), st.Message(), tt.want)
			}
		})
	}
}

// TestAddRemovePod checks the pre-filter extensions preemption relies on:
// removing or adding a pod on a clone of the state changes Filter's
// answer for that clone only.
func TestAddRemovePod(t *testing.T) {
	ctx := context.Background()
	web := makePod("default", "web", "app", "web").Obj()
	guard := makePod("default", "guard", "app", "guard").RequiredAntiAffinity(term(host, "web")).Obj()
	nodes := cluster(map[string][]*corev1.Pod{"n1": {web}, "n3": {guard}})
	pl := newPlugin(t, nodes)
	pod := makePod("default", "p", "app", "web").RequiredAntiAffinity(term(host, "web")).Obj()
	cs := framework.NewCycleState()
	if _, st := pl.PreFilter(ctx, cs, pod, nodes); !st.IsSuccess() {
		t.Fatalf("PreFilter: %v", st.Message())
	}
	results := func(cs *framework.CycleState) map[string]outcome {
		got := map[string]outcome{}
		for _, ni := range nodes {
			st := pl.Filter(ctx, cs, pod, ni)
			got[ni.NodeName()] = outcome{Code: st.Code(), Reason: st.Message()}
		}
		return got
	}
	before := map[string]outcome{
		"n1": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n2": ok(),
		"n3": unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch), "n4": ok(),
	}

	removed := cs.Clone()
	for _, ni := range []*framework.NodeInfo{nodes[0], nodes[2]} {
		if st := pl.RemovePod(ctx, removed, pod, ni.Pods[0], ni); !st.IsSuccess() {
			t.Fatalf("RemovePod: %v", st.Message())
		}
	}
	if diff := cmp.Diff(map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok()}, results(removed)); diff != "" {
		t.Errorf("after RemovePod (-want +got):\n%s", diff)
	}

	added := cs.Clone()
	for _, pi := range []*framework.PodInfo{framework.NewPodInfo(makePod("default", "web2", "app", "web").Obj()), framework.NewPodInfo(guard)} {
		if st := pl.AddPod(ctx, added, pod, pi, nodes[3]); !st.IsSuccess() {
			t.Fatalf("AddPod: %v", st.Message())
		}
	}
	wantAdded := map[string]outcome{
		"n1": unschedulable(ErrReasonAntiAffinityRulesNotMatch), "n2": ok(),
		"n3": unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch), "n4": unschedulable(ErrReasonAntiAffinityRulesNotMatch),
	}
	if diff := cmp.Diff(wantAdded, results(added)); diff != "" {
		t.Errorf("after AddPod (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, results(cs)); diff != "" {
		t.Errorf("original state changed (-want +got):\n%s", diff)
	}
}

// TestAffinityFirstPodAfterRemove checks that removing the last matching
// pod brings back the first-pod rule.
func TestAffinityFirstPodAfterRemove(t *testing.T) {
	ctx := context.Background()
	web := makePod("default", "web", "app", "web").Obj()
	nodes := cluster(map[string][]*corev1.Pod{"n3": {web}})
	pl := newPlugin(t, nodes)
	pod := makePod("default", "p", "app", "web").RequiredAffinity(term(zone, "web")).Obj()
	cs := framework.NewCycleState()
	if _, st := pl.PreFilter(ctx, cs, pod, nodes); !st.IsSuccess() {
		t.Fatalf("PreFilter: %v", st.Message())
	}
	if st := pl.Filter(ctx, cs, pod, nodes[0]); st.Code() != framework.UnschedulableAndUnresolvable {
		t.Fatalf("n1 before removal: %v, want UnschedulableAndUnresolvable", st.Code())
	}
	if st := pl.RemovePod(ctx, cs, pod, nodes[2].Pods[0], nodes[2]); !st.IsSuccess() {
		t.Fatal(st.Message())
	}
	if st := pl.Filter(ctx, cs, pod, nodes[0]); !st.IsSuccess() {
		t.Errorf("n1 after removal: %v", st.Message())
	}
}

func TestEventsToRegister(t *testing.T) {
	got := (&InterPodAffinity{}).EventsToRegister()
	want := []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.UpdateNodeLabel},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestPreFilterMemoFollowsNodeChanges: PreFilter's per-node memo gives
// the counts a plugin without a memo computes, cycle after cycle, as pods
// come to and leave nodes and other queries come in between.
func TestPreFilterMemoFollowsNodeChanges(t *testing.T) {
	existing := makePod("default", "a-0", "app", "a").RequiredAntiAffinity(term(host, "a")).Obj()
	nodes := []*framework.NodeInfo{
		makeNode("node-0", map[string]string{host: "node-0", zone: "z1"}, existing),
		makeNode("node-1", map[string]string{host: "node-1", zone: "z1"}),
		makeNode("node-2", map[string]string{host: "node-2", zone: "z2"},
			makePod("default", "b-0", "app", "b").Obj()),
	}
	pl := newPlugin(t, nodes)
	incomingA := makePod("default", "a-new", "app", "a").
		RequiredAntiAffinity(term(host, "a")).RequiredAffinity(term(zone, "b")).Obj()
	incomingB := makePod("default", "b-new", "app", "b").Obj()
	countsOf := func(p *InterPodAffinity, pod *corev1.Pod) *preFilterState {
		t.Helper()
		cs := framework.NewCycleState()
		if _, st := p.PreFilter(context.Background(), cs, pod, nodes); st.IsSkip() {
			return nil
		} else if !st.IsSuccess() {
			t.Fatalf("PreFilter: %v", st)
		}
		s, err := readState[*preFilterState](cs, preFilterStateKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(when string) {
		t.Helper()
		for _, pod := range []*corev1.Pod{incomingA, incomingB} {
			got, want := countsOf(pl, pod), countsOf(newPlugin(t, nodes), pod)
			if (got == nil) != (want == nil) {
				t.Fatalf("%s, %s: memoized PreFilter skipped %v, without memo %v", when, pod.Name, got == nil, want == nil)
			}
			if got == nil {
				continue
			}
			for _, c := range []struct {
				name      string
				got, want topologyCounts
			}{
				{"existing anti-affinity", got.existingAnti, want.existingAnti},
				{"affinity", got.affinityCounts, want.affinityCounts},
				{"anti-affinity", got.antiAffinityCounts, want.antiAffinityCounts},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s, %s: %s counts %v, without memo %v", when, pod.Name, c.name, c.got, c.want)
				}
			}
		}
	}
	check("first cycle")
	check("second cycle, from the memo")
	moved := makePod("default", "a-1", "app", "a").RequiredAntiAffinity(term(host, "a")).Obj()
	nodes[1].AddPod(moved)
	check("after a pod of app a came to node-1")
	nodes[2].AddPod(makePod("default", "b-1", "app", "b").Obj())
	check("after a pod of app b came to node-2")
	if !nodes[0].RemovePod(existing) {
		t.Fatal("could not remove the existing pod")
	}
	check("after a pod of app a left node-0")
}

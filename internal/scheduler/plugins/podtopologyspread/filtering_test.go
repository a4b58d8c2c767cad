package podtopologyspread

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

const (
	zone = corev1.LabelTopologyZone
	host = corev1.LabelHostname
)

// outcome is what Filter said about one node.
type outcome struct {
	Code   framework.Code
	Reason string
}

func ok() outcome { return outcome{} }

func skewed() outcome {
	return outcome{Code: framework.Unschedulable, Reason: ErrReasonConstraintsNotMatch}
}

func missingLabel() outcome {
	return outcome{Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonNodeLabelNotMatch}
}

// cluster returns n1 and n2 in zone z1, n3 in z2, n4 in z3 and n5 without
// a zone. All but n4 carry disk=ssd; n4 has a NoSchedule taint. pods maps
// node name to its pods.
func cluster(pods map[string][]*corev1.Pod) []*framework.NodeInfo {
	nodes := []*framework.NodeInfo{
		makeNode("n1", map[string]string{zone: "z1", host: "n1", "disk": "ssd"}, pods["n1"]...),
		makeNode("n2", map[string]string{zone: "z1", host: "n2", "disk": "ssd"}, pods["n2"]...),
		makeNode("n3", map[string]string{zone: "z2", host: "n3", "disk": "ssd"}, pods["n3"]...),
		makeNode("n4", map[string]string{zone: "z3", host: "n4"}, pods["n4"]...),
		makeNode("n5", map[string]string{host: "n5", "disk": "ssd"}, pods["n5"]...),
	}
	n4 := nodes[3].Node
	n4.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}}
	return nodes
}

// filterAll runs PreFilter and Filter on every node, as the scheduler
// does: Skip from PreFilter means every node passes.
func filterAll(t *testing.T, pl *PodTopologySpread, cs *framework.CycleState, nodes []*framework.NodeInfo, pod *corev1.Pod) map[string]outcome {
	t.Helper()
	ctx := context.Background()
	_, st := pl.PreFilter(ctx, cs, pod, nodes)
	if !st.IsSuccess() && !st.IsSkip() {
		t.Fatalf("PreFilter: %v", st.Message())
	}
	return filterNodes(pl, cs, nodes, pod, st.IsSkip())
}

func filterNodes(pl *PodTopologySpread, cs *framework.CycleState, nodes []*framework.NodeInfo, pod *corev1.Pod, skipped bool) map[string]outcome {
	got := map[string]outcome{}
	for _, ni := range nodes {
		if skipped {
			got[ni.NodeName()] = ok()
			continue
		}
		st := pl.Filter(context.Background(), cs, pod, ni)
		got[ni.NodeName()] = outcome{Code: st.Code(), Reason: st.Message()}
	}
	return got
}

func TestFilter(t *testing.T) {
	web := func(name string, extra ...string) *corev1.Pod {
		return makePod("default", name, append([]string{"app", "web"}, extra...)...).Obj()
	}
	// evenish has two web pods in z1 and one each in z2 and z3.
	evenish := map[string][]*corev1.Pod{"n1": {web("a")}, "n2": {web("b")}, "n3": {web("c")}, "n4": {web("d")}}
	honor, ignore := corev1.NodeInclusionPolicyHonor, corev1.NodeInclusionPolicyIgnore
	tests := []struct {
		name string
		pod  *corev1.Pod
		pods map[string][]*corev1.Pod
		want map[string]outcome
	}{
		{
			name: "maxSkew 1 across 3 zones",
			pod:  makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "a pod its selector does not match adds nothing to the skew",
			pod:  makePod("default", "p", "app", "other").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "maxSkew 2 allows the fuller zone",
			pod:  makePod("default", "p", "app", "web").Spread(2, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "minDomains above the number of domains makes the minimum 0",
			pod: makePod("default", "p", "app", "web").Spread(2, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
				c.MinDomains = ptr.To[int32](4)
			}).Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "minDomains met keeps the real minimum",
			pod: makePod("default", "p", "app", "web").Spread(2, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
				c.MinDomains = ptr.To[int32](3)
			}).Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "pods of other namespaces and terminating pods do not count",
			pod:  makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: map[string][]*corev1.Pod{
				"n1": {web("a")},
				"n3": {makePod("other", "c", "app", "web").Obj()},
				"n4": {makePod("default", "d", "app", "web").Terminating().Obj()},
			},
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "by default, nodes the pod's node selector excludes are no domain",
			pod:  makePod("default", "p", "app", "web").NodeSelector("disk", "ssd").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a")}, "n3": {web("c")}},
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "nodeAffinityPolicy Ignore counts them",
			pod: makePod("default", "p", "app", "web").NodeSelector("disk", "ssd").Spread(1, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
				c.NodeAffinityPolicy = &ignore
			}).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a")}, "n3": {web("c")}},
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": skewed(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "by default, tainted nodes count",
			pod:  makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a")}, "n3": {web("c")}},
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": skewed(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "nodeTaintsPolicy Honor leaves out nodes with untolerated taints",
			pod: makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
				c.NodeTaintsPolicy = &honor
			}).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a")}, "n3": {web("c")}},
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "matchLabelKeys narrows the selector to the pod's own values",
			pod: makePod("default", "p", "app", "web", "hash", "b").Spread(1, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
				c.MatchLabelKeys = []string{"hash"}
			}).Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a", "hash", "a")}, "n2": {web("b", "hash", "a")}, "n3": {web("c", "hash", "b")}},
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": skewed(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "hostname spreading",
			pod:  makePod("default", "p", "app", "web").Spread(1, host, corev1.DoNotSchedule, "web").Obj(),
			pods: map[string][]*corev1.Pod{"n1": {web("a")}, "n2": {web("b")}, "n3": {web("c")}, "n4": {web("d")}},
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": skewed(), "n4": skewed(), "n5": ok()},
		},
		{
			name: "a node must carry every constraint's key",
			pod: makePod("default", "p", "app", "web").
				Spread(1, host, corev1.DoNotSchedule, "web").
				Spread(1, zone, corev1.DoNotSchedule, "web").Obj(),
			pods: evenish,
			// n5 lacks a zone, so it is no hostname domain either: its
			// empty count does not pull the hostname minimum to 0.
			want: map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": ok(), "n4": ok(), "n5": missingLabel()},
		},
		{
			name: "ScheduleAnyway constraints do not filter",
			pod:  makePod("default", "p", "app", "web").Spread(1, zone, corev1.ScheduleAnyway, "web").Obj(),
			pods: evenish,
			want: map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": ok()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := cluster(tt.pods)
			pl := newPlugin(t, nodes)
			got := filterAll(t, pl, framework.NewCycleState(), nodes, tt.pod)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("filter results (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAddRemovePod checks the pre-filter extensions preemption relies on,
// including that the minimum follows counts going up and down, and that
// a clone changes independently.
func TestAddRemovePod(t *testing.T) {
	ctx := context.Background()
	web := func(name string) *corev1.Pod { return makePod("default", name, "app", "web").Obj() }
	nodes := cluster(map[string][]*corev1.Pod{"n1": {web("a")}, "n2": {web("b")}, "n3": {web("c")}, "n4": {web("d")}})
	pl := newPlugin(t, nodes)
	pod := makePod("default", "p", "app", "web").Spread(1, zone, corev1.DoNotSchedule, "web").Obj()
	cs := framework.NewCycleState()
	before := filterAll(t, pl, cs, nodes, pod)

	removed := cs.Clone()
	if st := pl.RemovePod(ctx, removed, pod, nodes[0].Pods[0], nodes[0]); !st.IsSuccess() {
		t.Fatal(st.Message())
	}
	if diff := cmp.Diff(map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()}, filterNodes(pl, removed, nodes, pod, false)); diff != "" {
		t.Errorf("after RemovePod (-want +got):\n%s", diff)
	}
	// Removing one more from z2 lowers the minimum to 0.
	if st := pl.RemovePod(ctx, removed, pod, nodes[2].Pods[0], nodes[2]); !st.IsSuccess() {
		t.Fatal(st.Message())
	}
	if diff := cmp.Diff(map[string]outcome{"n1": skewed(), "n2": skewed(), "n3": ok(), "n4": skewed(), "n5": missingLabel()}, filterNodes(pl, removed, nodes, pod, false)); diff != "" {
		t.Errorf("after second RemovePod (-want +got):\n%s", diff)
	}

	added := cs.Clone()
	for _, ni := range []*framework.NodeInfo{nodes[2], nodes[3]} {
		if st := pl.AddPod(ctx, added, pod, framework.NewPodInfo(web("new-"+ni.NodeName())), ni); !st.IsSuccess() {
			t.Fatal(st.Message())
		}
	}
	// z1, z2 and z3 all hold two: the minimum rose to 2.
	if diff := cmp.Diff(map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()}, filterNodes(pl, added, nodes, pod, false)); diff != "" {
		t.Errorf("after AddPod (-want +got):\n%s", diff)
	}
	// Pods of other namespaces or labels, or on nodes without the key, change nothing.
	for _, c := range []struct {
		pod *corev1.Pod
		ni  *framework.NodeInfo
	}{
		{makePod("other", "x", "app", "web").Obj(), nodes[0]},
		{makePod("default", "y", "app", "db").Obj(), nodes[0]},
		{web("z"), nodes[4]},
	} {
		if st := pl.AddPod(ctx, added, pod, framework.NewPodInfo(c.pod), c.ni); !st.IsSuccess() {
			t.Fatal(st.Message())
		}
	}
	if diff := cmp.Diff(map[string]outcome{"n1": ok(), "n2": ok(), "n3": ok(), "n4": ok(), "n5": missingLabel()}, filterNodes(pl, added, nodes, pod, false)); diff != "" {
		t.Errorf("after unrelated AddPods (-want +got):\n%s", diff)
	}

	if diff := cmp.Diff(before, filterNodes(pl, cs, nodes, pod, false)); diff != "" {
		t.Errorf("original state changed (-want +got):\n%s", diff)
	}
}

func TestPreFilterErrors(t *testing.T) {
	nodes := cluster(nil)
	pl := newPlugin(t, nodes)
	pod := makePod("default", "p").Spread(1, zone, corev1.DoNotSchedule, "web", func(c *corev1.TopologySpreadConstraint) {
		c.LabelSelector.MatchLabels = map[string]string{"bad key!": "x"}
	}).Obj()
	if _, st := pl.PreFilter(context.Background(), framework.NewCycleState(), pod, nodes); st.Code() != framework.Error {
		t.Errorf("PreFilter with an invalid selector: %v, want Error", st.Code())
	}
	if st := pl.Filter(context.Background(), framework.NewCycleState(), pod, nodes[0]); st.Code() != framework.Error {
		t.Errorf("Filter without PreFilter: %v, want Error", st.Code())
	}
}

func TestEventsToRegister(t *testing.T) {
	got := (&PodTopologySpread{}).EventsToRegister()
	want := []framework.ClusterEvent{
		{Resource: framework.AssignedPodResource, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete},
		{Resource: framework.NodeResource, ActionType: framework.Add | framework.Delete | framework.UpdateNodeLabel | framework.UpdateNodeTaint},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(got, func(e framework.ClusterEvent) bool { return e.Resource == framework.NodeResource }) {
		t.Error("no node events")
	}
}

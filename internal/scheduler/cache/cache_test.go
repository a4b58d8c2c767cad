package cache

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func makeNode(name, cpu string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourcePods: resource.MustParse("110"),
		}},
	}
}

func makePod(name, node, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

func withAffinity(pod *corev1.Pod, required bool) *corev1.Pod {
	term := corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}, TopologyKey: "kubernetes.io/hostname"}
	anti := &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: term}}}
	if required {
		anti = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}
	}
	pod.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: anti}
	return pod
}

// snapshotState summarizes a snapshot: per listed node, its requested milli-cpu
// and pod names.
type nodeState struct {
	Name     string
	MilliCPU int64
	Pods     []string
}

func snapshotState(t *testing.T, s *Snapshot) []nodeState {
	t.Helper()
	list, err := s.NodeInfos().List()
	if err != nil {
		t.Fatal(err)
	}
	var out []nodeState
	for _, ni := range list {
		st := nodeState{Name: ni.Node.Name, MilliCPU: ni.Requested.MilliCPU}
		for _, pi := range ni.Pods {
			st.Pods = append(st.Pods, pi.Pod.Name)
		}
		out = append(out, st)
	}
	return out
}

func names(list []*framework.NodeInfo) []string {
	var out []string
	for _, ni := range list {
		out = append(out, ni.Node.Name)
	}
	return out
}

func TestNodesAndPods(t *testing.T) {
	c := New(Options{Clock: clocktesting.NewFakeClock(time.Now())})
	s := NewSnapshot()
	c.AddNode(makeNode("a", "4"))
	c.AddPod(makePod("p1", "a", "1"))
	c.AddPod(makePod("orphan", "later", "2")) // its node is not known yet
	c.UpdateSnapshot(s)
	want := []nodeState{{Name: "a", MilliCPU: 1000, Pods: []string{"p1"}}}
	if diff := cmp.Diff(want, snapshotState(t, s)); diff != "" {
		t.Fatalf("snapshot (-want +got):\n%s", diff)
	}
	if _, err := s.Get("later"); err == nil {
		t.Errorf("node without a Node object is visible")
	}

	c.AddNode(makeNode("later", "8"))
	bigger := makePod("p1", "a", "3")
	c.UpdatePod(makePod("p1", "a", "1"), bigger)
	c.UpdateSnapshot(s)
	want = []nodeState{{Name: "a", MilliCPU: 3000, Pods: []string{"p1"}}, {Name: "later", MilliCPU: 2000, Pods: []string{"orphan"}}}
	if diff := cmp.Diff(want, snapshotState(t, s)); diff != "" {
		t.Fatalf("snapshot after node add and pod update (-want +got):\n%s", diff)
	}

	c.RemoveNode(makeNode("later", "8"))
	c.RemovePod(bigger)
	c.UpdateSnapshot(s)
	want = []nodeState{{Name: "a"}}
	if diff := cmp.Diff(want, snapshotState(t, s)); diff != "" {
		t.Fatalf("snapshot after removals (-want +got):\n%s", diff)
	}
	if nodes, pods := c.Counts(); nodes != 1 || pods != 1 {
		t.Errorf("cache has %d nodes and %d pods, want 1 node and the orphan pod", nodes, pods)
	}
	if ni := c.nodes["later"]; ni == nil || ni.Node != nil || ni.NodeName() != "" || ni.Unschedulable || ni.Taints != nil {
		t.Errorf("the removed node's NodeInfo, left with its orphan pod, still describes a node: %+v", ni)
	}
	c.RemovePod(makePod("orphan", "later", "2"))
	if _, ok := c.nodes["later"]; ok {
		t.Errorf("empty NodeInfo without a Node was kept")
	}
}

func TestAssumedPods(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	c := New(Options{Clock: clk, AssumedPodTTL: 30 * time.Second})
	c.AddNode(makeNode("a", "4"))
	c.AddNode(makeNode("b", "4"))
	requested := func() map[string]int64 {
		s := NewSnapshot()
		c.UpdateSnapshot(s)
		out := map[string]int64{}
		for _, st := range snapshotState(t, s) {
			out[st.Name] = st.MilliCPU
		}
		return out
	}

	confirmed := makePod("confirmed", "a", "1")
	if err := c.AssumePod(confirmed); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(confirmed); err == nil {
		t.Errorf("assuming a pod twice succeeded")
	}
	if !c.IsAssumedPod(confirmed) {
		t.Errorf("pod not assumed")
	}
	c.FinishBinding(confirmed)
	c.AddPod(confirmed) // the informer confirms the binding
	if c.IsAssumedPod(confirmed) {
		t.Errorf("confirmed pod is still assumed")
	}

	forgotten := makePod("forgotten", "b", "2")
	if err := c.AssumePod(forgotten); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"a": 1000, "b": 2000}, requested()); diff != "" {
		t.Errorf("requested with assumed pods (-want +got):\n%s", diff)
	}
	if err := c.ForgetPod(forgotten); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod(confirmed); err == nil {
		t.Errorf("forgetting a confirmed pod succeeded")
	}

	expiring := makePod("expiring", "b", "1")
	pending := makePod("binding", "b", "500m")
	for _, p := range []*corev1.Pod{expiring, pending} {
		if err := c.AssumePod(p); err != nil {
			t.Fatal(err)
		}
	}
	c.FinishBinding(expiring) // pending's binding is still in flight: never expires
	clk.Step(30 * time.Second)
	c.cleanupExpiredAssumedPods(context.Background())
	if diff := cmp.Diff(map[string]int64{"a": 1000, "b": 1500}, requested()); diff != "" {
		t.Errorf("requested at the deadline (-want +got):\n%s", diff)
	}
	clk.Step(time.Millisecond)
	c.cleanupExpiredAssumedPods(context.Background())
	if diff := cmp.Diff(map[string]int64{"a": 1000, "b": 500}, requested()); diff != "" {
		t.Errorf("requested after expiry (-want +got):\n%s", diff)
	}
	if _, ok := c.GetPod(expiring); ok {
		t.Errorf("expired pod still cached")
	}
}

func TestAssumedPodConfirmedOnAnotherNode(t *testing.T) {
	c := New(Options{})
	c.AddNode(makeNode("a", "4"))
	c.AddNode(makeNode("b", "4"))
	if err := c.AssumePod(makePod("p", "a", "1")); err != nil {
		t.Fatal(err)
	}
	c.AddPod(makePod("p", "b", "1"))
	s := NewSnapshot()
	c.UpdateSnapshot(s)
	want := []nodeState{{Name: "a"}, {Name: "b", MilliCPU: 1000, Pods: []string{"p"}}}
	if diff := cmp.Diff(want, snapshotState(t, s)); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
}

func TestIncrementalSnapshotCopiesOnlyChangedNodes(t *testing.T) {
	c := New(Options{})
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(makeNode(n, "4"))
	}
	s := NewSnapshot()
	c.UpdateSnapshot(s)
	before := map[string]*framework.NodeInfo{}
	for _, n := range []string{"a", "b", "c"} {
		before[n], _ = s.Get(n)
	}

	c.AddPod(makePod("p", "b", "1"))
	c.UpdateSnapshot(s)
	for n, changed := range map[string]bool{"a": false, "b": true, "c": false} {
		got, _ := s.Get(n)
		if (got != before[n]) != changed {
			t.Errorf("node %s: copied=%v, want copied=%v", n, got != before[n], changed)
		}
	}
	list, _ := s.List()
	if b, _ := s.Get("b"); list[1] != b {
		t.Errorf("list holds a stale copy of b")
	}
	if before["b"].Requested.MilliCPU != 0 {
		t.Errorf("the previous copy of b changed: copies must be independent")
	}

	checkNumbered(t, "after b changed", s)

	c.UpdateSnapshot(s) // nothing changed
	for _, n := range []string{"a", "b", "c"} {
		got, _ := s.Get(n)
		if prev := list[map[string]int{"a": 0, "b": 1, "c": 2}[n]]; got != prev {
			t.Errorf("node %s copied again without a change", n)
		}
	}

	c.RemoveNode(makeNode("a", "4"))
	c.AddNode(makeNode("d", "4"))
	c.AddNode(makeNode("a", "2"))
	c.UpdateSnapshot(s)
	got, _ := s.List()
	if diff := cmp.Diff([]string{"b", "c", "d", "a"}, names(got)); diff != "" {
		t.Errorf("order after remove and re-add (-want +got):\n%s", diff)
	}
	checkNumbered(t, "after remove and re-add", s)
	if a, _ := s.Get("a"); a.Allocatable.MilliCPU != 2000 {
		t.Errorf("re-added node a has %dm allocatable, want 2000m", a.Allocatable.MilliCPU)
	}

	// A fresh snapshot gets everything.
	fresh := NewSnapshot()
	c.UpdateSnapshot(fresh)
	if diff := cmp.Diff(snapshotState(t, s), snapshotState(t, fresh)); diff != "" {
		t.Errorf("fresh snapshot differs (-old +fresh):\n%s", diff)
	}
}

// checkNumbered expects every listed NodeInfo to know its position.
func checkNumbered(t *testing.T, step string, s *Snapshot) {
	t.Helper()
	list, _ := s.List()
	for i, ni := range list {
		if ni.SnapshotIndex != i {
			t.Errorf("%s: %s is at %d but has SnapshotIndex %d", step, ni.NodeName(), i, ni.SnapshotIndex)
		}
	}
}

func TestSnapshotAffinityLists(t *testing.T) {
	c := New(Options{})
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(makeNode(n, "4"))
	}
	s := NewSnapshot()
	lists := func() (aff, anti []string) {
		c.UpdateSnapshot(s)
		a, _ := s.HavePodsWithAffinityList()
		r, _ := s.HavePodsWithRequiredAntiAffinityList()
		return names(a), names(r)
	}
	check := func(step string, wantAff, wantAnti []string) {
		t.Helper()
		aff, anti := lists()
		if diff := cmp.Diff(wantAff, aff); diff != "" {
			t.Errorf("%s: affinity list (-want +got):\n%s", step, diff)
		}
		if diff := cmp.Diff(wantAnti, anti); diff != "" {
			t.Errorf("%s: anti-affinity list (-want +got):\n%s", step, diff)
		}
	}
	check("empty", nil, nil)
	c.AddPod(withAffinity(makePod("preferred", "c", "1"), false))
	c.AddPod(withAffinity(makePod("required", "a", "1"), true))
	check("pods added", []string{"a", "c"}, []string{"a"})

	c.AddPod(makePod("plain", "a", "1")) // a changes, stays in both lists
	check("plain pod added", []string{"a", "c"}, []string{"a"})
	a, _ := s.Get("a")
	aff, _ := s.HavePodsWithAffinityList()
	anti, _ := s.HavePodsWithRequiredAntiAffinityList()
	if aff[0] != a || anti[0] != a {
		t.Errorf("affinity lists hold a stale copy of a")
	}

	c.RemovePod(makePod("required", "a", "1"))
	check("required pod removed", []string{"c"}, nil)
	c.RemoveNode(makeNode("c", "4"))
	check("node removed", nil, nil)
}

// TestUpdatePodKeepsNodeForStatusOnlyChanges: a node reporting a pod
// running changes nothing the scheduler reads, so the node's NodeInfo is
// not copied into the next snapshot; changes it does read are.
func TestUpdatePodKeepsNodeForStatusOnlyChanges(t *testing.T) {
	c := New(Options{})
	c.AddNode(makeNode("a", "4"))
	pod := makePod("p", "a", "1")
	c.AddPod(pod)
	s := NewSnapshot()
	c.UpdateSnapshot(s)

	running := pod.DeepCopy()
	running.ResourceVersion = "7"
	running.Status.PodIP = "10.0.0.5"
	running.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	running.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Ready: true}}
	tests := []struct {
		name    string
		update  func(p *corev1.Pod)
		copied  bool
		current func(p *corev1.Pod) bool // what the cached pod then shows
		// relabeled: the node's LabelsGeneration changes (what label
		// selectors count there changed).
		relabeled bool
	}{
		{"conditions, IPs and container statuses", func(*corev1.Pod) {}, false, nil, false},
		{"phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }, true,
			func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }, false},
		{"start time", func(p *corev1.Pod) { p.Status.StartTime = &metav1.Time{Time: time.Unix(100, 0)} }, true,
			func(p *corev1.Pod) bool { return p.Status.StartTime != nil }, false},
		{"labels", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web"} }, true,
			func(p *corev1.Pod) bool { return p.Labels["app"] == "web" }, true},
		{"a DisruptionTarget condition", func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue})
		}, true, func(p *corev1.Pod) bool { return disruptionTarget(p) != nil }, false},
		{"deletion", func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Unix(200, 0)} }, true,
			func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }, true},
	}
	prev := pod
	for _, tt := range tests {
		next := prev.DeepCopy()
		if tt.name == tests[0].name {
			next = running.DeepCopy()
		}
		tt.update(next)
		before, _ := s.Get("a")
		c.UpdatePod(prev, next)
		c.UpdateSnapshot(s)
		after, _ := s.Get("a")
		if copied := after != before; copied != tt.copied {
			t.Errorf("%s: node copied = %v, want %v", tt.name, copied, tt.copied)
		}
		if relabeled := after.LabelsGeneration != before.LabelsGeneration; relabeled != tt.relabeled {
			t.Errorf("%s: labels generation changed = %v, want %v", tt.name, relabeled, tt.relabeled)
		}
		if tt.current != nil {
			if got, _ := c.GetPod(next); !tt.current(got) {
				t.Errorf("%s: the cached pod does not show the change", tt.name)
			}
		}
		prev = next
	}
}

func TestLabelsGenerationFollowsWhatSelectorsCount(t *testing.T) {
	c := New(Options{})
	c.AddNode(makeNode("a", "4"))
	c.AddNode(makeNode("b", "4"))
	labelsGen := func(node string) int64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.nodes[node].LabelsGeneration
	}
	pod := makePod("p", "a", "1")
	pod.Labels = map[string]string{"app": "web"}
	before := labelsGen("a")
	if err := c.AssumePod(pod); err != nil {
		t.Fatal(err)
	}
	assumed := labelsGen("a")
	if assumed == before {
		t.Fatal("assuming a pod left the node's labels generation")
	}
	confirmed := pod.DeepCopy()
	confirmed.ResourceVersion = "9"
	c.AddPod(confirmed) // the informer confirms the binding
	if got := labelsGen("a"); got != assumed {
		t.Errorf("the binding's confirmation changed the labels generation (%d -> %d)", assumed, got)
	}
	moved := confirmed.DeepCopy()
	moved.Spec.NodeName = "b"
	beforeB := labelsGen("b")
	c.AddPod(moved)
	if labelsGen("a") == assumed || labelsGen("b") == beforeB {
		t.Errorf("a pod confirmed on another node left a labels generation: a %d -> %d, b %d -> %d",
			assumed, labelsGen("a"), beforeB, labelsGen("b"))
	}
}

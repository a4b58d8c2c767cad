package podtopologyspread

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// benchCluster builds 1,000 nodes in 10 zones, labeled as kubelets label
// them, holding 5,000 pods in 250 apps of 20, each spread over zones
// (DoNotSchedule) and hosts (ScheduleAnyway).
func benchCluster() []*framework.NodeInfo {
	const numNodes, numPods = 1000, 5000
	pods := make([][]*corev1.Pod, numNodes)
	for i := range numPods {
		app := fmt.Sprintf("app-%d", i/20)
		p := makePod("default", fmt.Sprintf("p-%d", i), "app", app).
			Spread(1, zone, corev1.DoNotSchedule, app).
			Spread(1, host, corev1.ScheduleAnyway, app).Obj()
		pods[i%numNodes] = append(pods[i%numNodes], p)
	}
	nodes := make([]*framework.NodeInfo, numNodes)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		nodes[i] = makeNode(name, map[string]string{host: name, zone: fmt.Sprintf("zone-%d", i%10),
			corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
			corev1.LabelTopologyRegion: "region-1", corev1.LabelInstanceTypeStable: "sim"}, pods[i]...)
	}
	return nodes
}

// BenchmarkPodTopologySpread measures one scheduling cycle of the plugin:
// PreFilter, Filter on every node, then PreScore, Score and NormalizeScore
// on the nodes that passed.
func BenchmarkPodTopologySpread(b *testing.B) {
	nodes := benchCluster()
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app-7"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app-7"}}},
	}
	pl := newPlugin(b, nodes, rs)
	cases := map[string]*corev1.Pod{
		"own constraints": makePod("default", "new", "app", "app-7").
			Spread(1, zone, corev1.DoNotSchedule, "app-7").
			Spread(1, host, corev1.ScheduleAnyway, "app-7").Obj(),
		"system defaults": makePod("default", "new", "app", "app-7").OwnedBy("apps/v1", "ReplicaSet", "app-7").Obj(),
	}
	for name, pod := range cases {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			feasible := make([]*framework.NodeInfo, 0, len(nodes))
			scores := make([]framework.NodeScore, 0, len(nodes))
			b.ReportAllocs()
			for b.Loop() {
				cs := framework.NewCycleState()
				_, st := pl.PreFilter(ctx, cs, pod, nodes)
				feasible = feasible[:0]
				for _, ni := range nodes {
					if st.IsSkip() || pl.Filter(ctx, cs, pod, ni).IsSuccess() {
						feasible = append(feasible, ni)
					}
				}
				if len(feasible) == 0 {
					b.Fatal("no feasible node")
				}
				scores = scoreCycle(b, pl, cs, pod, feasible, scores)
			}
		})
	}
}

// BenchmarkPreScoreBetweenCycles measures PreScore and Score over the
// 1,000 nodes of benchCluster for a Deployment's pod (the system default
// constraints), as cycles follow each other in the scheduler: each places
// the previous pod on a node of the cache and updates the snapshot.
// "carried" keeps the plugin's sums between cycles; "recounted" hides the
// snapshot's changes from it, so that every cycle counts every node.
func BenchmarkPreScoreBetweenCycles(b *testing.B) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app-7"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app-7"}}},
	}
	for _, mode := range []string{"carried", "recounted"} {
		b.Run(mode, func(b *testing.B) {
			c := cache.New(cache.Options{})
			for _, ni := range benchCluster() {
				c.AddNode(ni.Node)
				for _, pi := range ni.Pods {
					pod := pi.Pod.DeepCopy()
					pod.Spec.NodeName = ni.Node.Name
					c.AddPod(pod)
				}
			}
			snapshot := cache.NewSnapshot()
			c.UpdateSnapshot(snapshot)
			pl := newCachePlugin(b, snapshot, mode == "recounted", rs)
			scores := make([]framework.NodeScore, 0, 1000)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				placed := makePod("default", fmt.Sprintf("new-%d", i), "app", "app-7").OwnedBy("apps/v1", "ReplicaSet", "app-7").Obj()
				placed.Spec.NodeName = fmt.Sprintf("node-%d", i%1000)
				c.AddPod(placed)
				c.UpdateSnapshot(snapshot)
				all, _ := snapshot.List()
				scores = scoreCycle(b, pl, framework.NewCycleState(), placed, all, scores)
			}
		})
	}
}

// scoreCycle runs PreScore, Score and NormalizeScore over nodes, keeping
// the scores in scores' array.
func scoreCycle(b *testing.B, pl *PodTopologySpread, cs *framework.CycleState, pod *corev1.Pod, nodes []*framework.NodeInfo, scores []framework.NodeScore) []framework.NodeScore {
	ctx := context.Background()
	if !pl.PreScore(ctx, cs, pod, nodes).IsSuccess() {
		b.Fatal("PreScore did not succeed")
	}
	scores = scores[:0]
	for _, ni := range nodes {
		s, _ := pl.Score(ctx, cs, pod, ni)
		scores = append(scores, framework.NodeScore{Name: ni.NodeName(), Score: s})
	}
	pl.NormalizeScore(ctx, cs, pod, scores)
	return scores
}

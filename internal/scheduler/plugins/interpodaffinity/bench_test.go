package interpodaffinity

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// benchCluster builds 1,000 nodes in 10 zones holding 5,000 pods in 250
// apps of 20; every pod keeps its app off its node (required
// anti-affinity) and prefers its zone to its app's (preferred affinity).
func benchCluster() []*framework.NodeInfo {
	const numNodes, numPods = 1000, 5000
	pods := make([][]*corev1.Pod, numNodes)
	for i := range numPods {
		app := fmt.Sprintf("app-%d", i/20)
		p := makePod("default", fmt.Sprintf("p-%d", i), "app", app).
			RequiredAntiAffinity(term(host, app)).
			PreferredAffinity(10, term(zone, app)).Obj()
		pods[i%numNodes] = append(pods[i%numNodes], p)
	}
	nodes := make([]*framework.NodeInfo, numNodes)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		nodes[i] = makeNode(name, map[string]string{host: name, zone: fmt.Sprintf("zone-%d", i%10)}, pods[i]...)
	}
	return nodes
}

// BenchmarkInterPodAffinity measures one scheduling cycle of the plugin:
// PreFilter, Filter on every node, then PreScore, Score and NormalizeScore
// on the nodes that passed.
func BenchmarkInterPodAffinity(b *testing.B) {
	nodes := benchCluster()
	pl := newPlugin(b, nodes)
	cases := map[string]*corev1.Pod{
		"own terms": makePod("default", "new", "app", "app-7").
			RequiredAntiAffinity(term(host, "app-7")).
			PreferredAffinity(10, term(zone, "app-7")).Obj(),
		"no own terms": makePod("default", "new", "app", "app-7").Obj(),
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
				if pl.PreScore(ctx, cs, pod, feasible).IsSkip() {
					continue
				}
				scores = scores[:0]
				for _, ni := range feasible {
					s, _ := pl.Score(ctx, cs, pod, ni)
					scores = append(scores, framework.NodeScore{Name: ni.NodeName(), Score: s})
				}
				pl.NormalizeScore(ctx, cs, pod, scores)
			}
		})
	}
}

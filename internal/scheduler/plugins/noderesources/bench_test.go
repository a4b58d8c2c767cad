package noderesources

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// BenchmarkFitFilterScore runs one scheduling cycle's worth of Fit work
// (PreFilter, Filter and Score on every node, PreScore once) over 5,000
// nodes with a few pods each; one op is one pod.
func BenchmarkFitFilterScore(b *testing.B) {
	const nodes = 5000
	infos := make([]*framework.NodeInfo, nodes)
	for i := range infos {
		var pods []*corev1.Pod
		for j := range i % 8 {
			pods = append(pods, podReq(fmt.Sprintf("n%d-p%d", i, j), rl("cpu", "250m", "memory", "512Mi")))
		}
		infos[i] = nodeInfo(rl("cpu", "8", "memory", "32Gi", "pods", "110", "example.com/gpu", "1"), pods...)
	}
	pod := podReq("p", rl("cpu", "500m", "memory", "1Gi"), rl("cpu", "100m"))
	pl := mustFit(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		state := framework.NewCycleState()
		pl.PreFilter(ctx, state, pod, infos)
		pl.PreScore(ctx, state, pod, infos)
		for _, ni := range infos {
			if st := pl.Filter(ctx, state, pod, ni); !st.IsSuccess() {
				b.Fatal(st.Message())
			}
			if _, st := pl.Score(ctx, state, pod, ni); !st.IsSuccess() {
				b.Fatal(st.Message())
			}
		}
	}
}

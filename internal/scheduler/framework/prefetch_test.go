package framework

import (
	"math/rand/v2"
	"testing"
)

// scatteredNodeInfos returns n NodeInfos spread over a heap many times the
// size of the processor's caches, in an order unrelated to their
// addresses, as a long-running scheduler's are after its snapshot has
// copied each changed node many times.
func scatteredNodeInfos(n int) []*NodeInfo {
	nodes := make([]*NodeInfo, n)
	padding := make([][]byte, n)
	for i := range nodes {
		nodes[i] = &NodeInfo{Name: "node", Unschedulable: i%97 == 0}
		padding[i] = make([]byte, 4096) // keeps the NodeInfos apart
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	sink = padding
	return nodes
}

var sink any

// filterWork stands for a filter pass's work on one node: a few hundred
// instructions that depend on what was read, so that the processor cannot
// run ahead to the next node's load on its own.
func filterWork(ni *NodeInfo) int {
	h := len(ni.Name)
	if ni.Unschedulable {
		h++
	}
	for i := range 300 {
		h = h*31 + i
	}
	return h
}

// BenchmarkFirstTouch filters 100,000 scattered NodeInfos (filterWork),
// with and without prefetching a few nodes ahead.
func BenchmarkFirstTouch(b *testing.B) {
	nodes := scatteredNodeInfos(100_000)
	for _, ahead := range []int{0, PrefetchAhead} {
		name := "plain"
		if ahead > 0 {
			name = "prefetch"
		}
		b.Run(name, func(b *testing.B) {
			sum := 0
			for b.Loop() {
				for i, ni := range nodes {
					if ahead > 0 && i+ahead < len(nodes) {
						Prefetch(nodes[i+ahead])
					}
					sum += filterWork(ni)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(nodes)), "ns/node")
			sink = sum
		})
	}
}

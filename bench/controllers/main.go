// Command controllers benchmarks tug's workload controllers end to end, as
// tug issue 5 asks: it starts a tug server (scheduler and controllers on)
// and `tug agent --simulated` nodes as child processes, then times a
// Deployment scaled from 0 to 30,000 replicas until all are available, a
// rolling update of those replicas, and the deletion of a namespace holding
// 10,000 objects.
//
//	go run ./bench/controllers            # 1,000 nodes, 30,000 replicas, 10,000 objects
//	go run ./bench/controllers -quick     # 200 nodes, 3,000 replicas, 1,000 objects
//	go run ./bench/controllers -replicas 10000 -nodes 500
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/controllers", os.Args[1:], run))
}

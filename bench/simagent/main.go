// Command simagent benchmarks `tug agent --simulated`: it starts a tug
// server and the simulated agent as child processes on loopback, creates
// pods already bound to the simulated nodes and measures how long the
// nodes take to register and the pods to run, and the agent's memory.
//
//	go run ./bench/simagent                              # 5,000 nodes, 150,000 pods
//	go run ./bench/simagent -nodes 1000 -pods 20000      # smaller
//	go run ./bench/simagent -quick                       # smoke run
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/simagent", os.Args[1:], run))
}

// Command scheduler benchmarks tug's scheduler against upstream
// kube-scheduler in the shapes of Kubernetes' scheduler_perf: both schedule
// the same backlog of pending pods onto the same number of simulated nodes
// (`tug agent --simulated`) of a fresh tug server, one after the other, and
// one table prints pods scheduled per second and per-pod latency side by
// side. tug's scheduler runs inside tug server, as shipped; kube-scheduler
// runs as its own process, as it is deployed.
//
//	go run ./bench/scheduler               # full run: 5,000 nodes / 10,000 pods and 1,000 / 5,000
//	go run ./bench/scheduler -quick        # smoke run
//	go run ./bench/scheduler -only tug     # tug alone
//	go run ./bench/scheduler -only tug -tug-scheduler bench -cpuprofile F  # tug's scheduler in this process, profiled
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/scheduler", os.Args[1:], run))
}

// Command dns benchmarks tug's cluster DNS server: it loads a store with
// Services (ClusterIP and headless) and their EndpointSlices, serves it on
// 127.0.0.1 in this process, and measures queries per second and p50/p99
// latency seen by UDP clients on the same machine, per kind of query.
//
//	go run ./bench/dns                    # 10,000 Services, 10 s per query kind
//	go run ./bench/dns -services 1000     # smaller
//	go run ./bench/dns -quick             # smoke run
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/dns", os.Args[1:], run))
}

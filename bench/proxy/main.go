// Command proxy benchmarks the service proxy's nftables syncs: in a fresh
// network namespace per size, the time of a full sync of N Services × E
// endpoints and the table's size, then the time of incremental syncs after
// one endpoint replaced, one removed, one Service added and one removed,
// and of a sync with no change. Needs root (nftables, ip netns).
//
//	go run ./bench/proxy                       # 1,000 and 10,000 Services × 10 endpoints
//	go run ./bench/proxy -services 50000       # other sizes
//	go run ./bench/proxy -quick                # smoke run
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/proxy", os.Args[1:], run))
}

// Command apiserver benchmarks tug's API server against upstream
// kube-apiserver + etcd and prints one table: both run as child processes
// on loopback and the same client-go harness drives each in turn.
//
//	go run ./bench/apiserver               # full run, 3 to 4 minutes on 2 cores
//	go run ./bench/apiserver -quick        # smoke run
//	go run ./bench/apiserver -only tug     # tug alone
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/apiserver", os.Args[1:], run))
}

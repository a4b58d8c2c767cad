// Command storage benchmarks tug's bolt storage backend against etcd and
// prints a table: both are driven through storage.Backend by the same
// harness in one run, bolt in-process and Debian's etcd server on loopback.
//
//	go run ./bench/storage            # full run, a few minutes
//	go run ./bench/storage -quick     # smoke run
package main

import (
	"os"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

func main() {
	os.Exit(benchkit.Main("bench/storage", os.Args[1:], run))
}

// Command storage benchmarks tug's bolt storage backend against etcd and
// prints a table: both are driven through storage.Backend by the same
// harness in one run, bolt in-process and Debian's etcd server on loopback.
//
//	go run ./bench/storage            # full run, a few minutes
//	go run ./bench/storage -quick     # smoke run
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/storage:", err)
		os.Exit(1)
	}
}

// Command apiserver benchmarks tug's API server against upstream
// kube-apiserver + etcd and prints one table: both run as child processes
// on loopback and the same client-go harness drives each in turn.
//
//	go run ./bench/apiserver               # full run, 3 to 4 minutes on 2 cores
//	go run ./bench/apiserver -quick        # smoke run
//	go run ./bench/apiserver -only tug     # tug alone
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
		fmt.Fprintln(os.Stderr, "bench/apiserver:", err)
		os.Exit(1)
	}
}

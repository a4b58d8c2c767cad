package runtime

import (
	"context"
	"math"
	goruntime "runtime"
	"sync/atomic"
)

// parallelize runs work(i) for every i in [0, n) on the calling goroutine
// and at most workers-1 helpers (no more than the processors can run at
// once: the work is CPU-bound), handing out indices in chunks so that
// goroutines do not contend on every item. It stops handing out work once
// ctx ends and returns when every started item has finished.
//
// The caller works through the chunks itself and waits only for chunks a
// helper has started, never for a helper to start: in a busy server, a
// new goroutine queues behind every runnable one, and a scheduling cycle
// waiting on three parallel sections a pod spent most of its time queued.
func parallelize(ctx context.Context, workers, n int, work func(i int)) {
	if n <= 0 {
		return
	}
	workers = min(workers, n, goruntime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			if ctx.Err() != nil {
				return
			}
			work(i)
		}
		return
	}
	// Chunks of about sqrt(n), but small enough that every worker gets
	// some: balances contention against stragglers.
	chunk := max(1, min(int(math.Sqrt(float64(n))), n/workers))
	chunks := int64((n + chunk - 1) / chunk)
	var next, settled atomic.Int64
	finished := make(chan struct{})
	run := func() {
		for {
			c := next.Add(1) - 1
			if c >= chunks {
				return
			}
			if ctx.Err() == nil {
				start := int(c) * chunk
				for i := start; i < min(start+chunk, n); i++ {
					work(i)
				}
			}
			if settled.Add(1) == chunks {
				close(finished)
			}
		}
	}
	for range workers - 1 {
		go run()
	}
	run()
	<-finished
}

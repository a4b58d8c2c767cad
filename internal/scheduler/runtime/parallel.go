package runtime

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
)

// parallelize runs work(i) for every i in [0, n) on at most workers
// goroutines, handing out indices in chunks so that goroutines do not
// contend on every item. It stops handing out work once ctx ends and
// returns when every started item has finished.
func parallelize(ctx context.Context, workers, n int, work func(i int)) {
	if n <= 0 {
		return
	}
	workers = min(workers, n)
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
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(int64(chunk))) - chunk
				if start >= n || ctx.Err() != nil {
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					work(i)
				}
			}
		})
	}
	wg.Wait()
}

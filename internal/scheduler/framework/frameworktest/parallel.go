package frameworktest

import (
	"context"
	"sync"
)

// Parallelize runs work(i) for i in [0, n) over a few goroutines, each
// taking a contiguous chunk, so that the race detector sees a plugin's
// concurrent paths.
func Parallelize(_ context.Context, n int, work func(i int)) {
	const workers = 4
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		wg.Go(func() {
			for i := start; i < end; i++ {
				work(i)
			}
		})
	}
	wg.Wait()
}

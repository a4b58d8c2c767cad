package benchkit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Limit bounds a run: it stops after Ops operations (0: unbounded) or after
// Duration (0: unbounded), whichever comes first.
type Limit struct {
	Ops      int64
	Duration time.Duration
}

// Result is the outcome of one run.
type Result struct {
	Ops     int64 // operations that succeeded
	Elapsed time.Duration
}

// Rate is operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// RunOps calls op from conc goroutines, each call with the worker's index
// and a sequence number unique within the run, until lim is reached or an
// op fails; the first error is returned, or ctx's if it ended the run. It
// returns after every goroutine has.
func RunOps(ctx context.Context, conc int, lim Limit, op func(ctx context.Context, worker int, i int64) error) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		errOnce    sync.Once
		firstErr   error
		wg         sync.WaitGroup
	)
	start := time.Now()
	var deadline time.Time
	if lim.Duration > 0 {
		deadline = start.Add(lim.Duration)
	}
	for w := range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if (lim.Ops > 0 && i >= lim.Ops) || (!deadline.IsZero() && time.Now().After(deadline)) {
					return
				}
				if err := op(ctx, w, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	res := Result{Ops: done.Load(), Elapsed: time.Since(start)}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

package scheduler

import (
	"context"
	"sync"
)

// bindingPool runs binding cycles on at most max long-lived goroutines,
// started as the load asks for them. A goroutine per binding grew its
// stack, copied, on every binding (the calls through the REST client are
// deep): 1.3 % of the server's CPU on SchedulingBasic.
type bindingPool struct {
	jobs    chan func()
	max     int
	mu      sync.Mutex
	started int
	workers sync.WaitGroup
}

func newBindingPool(maxWorkers int) *bindingPool {
	return &bindingPool{jobs: make(chan func()), max: maxWorkers}
}

// run hands job to an idle worker, or to a new one while fewer than max
// run, or else waits for a worker to be free; false if ctx ended first.
func (p *bindingPool) run(ctx context.Context, job func()) bool {
	select {
	case p.jobs <- job:
		return true
	default:
	}
	p.mu.Lock()
	if p.started < p.max {
		p.started++
		p.mu.Unlock()
		p.workers.Go(func() {
			for ; job != nil; job = <-p.jobs {
				job()
			}
		})
		return true
	}
	p.mu.Unlock()
	select {
	case p.jobs <- job:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop waits for the jobs handed out to finish and the workers to end;
// run must not be called after.
func (p *bindingPool) stop() {
	close(p.jobs)
	p.workers.Wait()
}

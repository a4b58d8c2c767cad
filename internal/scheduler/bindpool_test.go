package scheduler

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestBindingPool: jobs all run, never more than max at once, on no more
// than max goroutines; a full pool makes run wait, and give up when its
// context ends; stop waits for the jobs handed out.
func TestBindingPool(t *testing.T) {
	const maxWorkers, jobs = 3, 200
	p := newBindingPool(maxWorkers)
	ctx := context.Background()
	var running, peak, done atomic.Int32
	release := make(chan struct{})
	job := func(hold bool) func() {
		return func() {
			n := running.Add(1)
			for m := peak.Load(); n > m; m = peak.Load() {
				if peak.CompareAndSwap(m, n) {
					break
				}
			}
			if hold {
				<-release
			}
			running.Add(-1)
			done.Add(1)
		}
	}
	// Fill the pool with jobs that wait.
	for range maxWorkers {
		if !p.run(ctx, job(true)) {
			t.Fatal("run gave up with a live context")
		}
	}
	for running.Load() < maxWorkers {
		runtime.Gosched()
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if p.run(ended, func() { t.Error("a job ran after its run gave up") }) {
		t.Fatal("run on a full pool returned with an ended context")
	}
	close(release)
	for range jobs - maxWorkers {
		if !p.run(ctx, job(false)) {
			t.Fatal("run gave up with a live context")
		}
	}
	p.stop()
	if done.Load() != jobs {
		t.Fatalf("%d of %d jobs ran before stop returned", done.Load(), jobs)
	}
	if peak.Load() > maxWorkers || p.started > maxWorkers {
		t.Fatalf("%d jobs ran at once on %d goroutines; at most %d", peak.Load(), p.started, maxWorkers)
	}
}

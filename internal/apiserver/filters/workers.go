package filters

import (
	"net/http"
	"sync"
)

// DefaultMaxWorkers bounds the goroutines OnWorkers keeps: more than the
// requests a busy server has in progress at once.
const DefaultMaxWorkers = 256

// OnWorkers serves each short request on one of at most maxWorkers
// long-lived goroutines. net/http starts every HTTP/2 request on a fresh
// goroutine whose small stack is copied, doubling, several times on its
// way down through decoding, field management and storage: 7 % of the
// server's CPU under the scheduler benchmark's writes. A worker keeps the
// stack it grew for the next request. Requests for which longRunning is
// true (watches, streams) would hold a worker for their whole life, so
// they, like any request that finds every worker busy, run where net/http
// started them.
//
// A panic in the handler is re-raised on the request's own goroutine, so
// net/http's handling of http.ErrAbortHandler is unchanged.
func OnWorkers(next http.Handler, maxWorkers int, longRunning func(*http.Request) bool) http.Handler {
	p := &workers{next: next, max: maxWorkers}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if longRunning(r) {
			next.ServeHTTP(w, r)
			return
		}
		p.serve(w, r)
	})
}

// workers is the pool behind OnWorkers. A worker puts itself back on idle
// before it reports a request done, so the next request finds it; the
// last to finish is the first reused, its stack still warm.
type workers struct {
	next    http.Handler
	mu      sync.Mutex
	idle    []*worker
	started int
	max     int
}

type worker struct{ jobs chan *workerJob }

// workerJob is one request handed to a worker; done carries the value of a
// panic, or nil.
type workerJob struct {
	w    http.ResponseWriter
	r    *http.Request
	done chan any
}

var workerJobs = sync.Pool{New: func() any { return &workerJob{done: make(chan any, 1)} }}

func (p *workers) serve(w http.ResponseWriter, r *http.Request) {
	wk := p.take()
	if wk == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	j := workerJobs.Get().(*workerJob)
	j.w, j.r = w, r
	wk.jobs <- j
	panicked := <-j.done
	j.w, j.r = nil, nil
	workerJobs.Put(j)
	if panicked != nil {
		panic(panicked)
	}
}

// take returns an idle worker, a new one while fewer than max exist, or
// nil.
func (p *workers) take() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		wk := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return wk
	}
	if p.started == p.max {
		return nil
	}
	p.started++
	wk := &worker{jobs: make(chan *workerJob, 1)}
	go p.work(wk)
	return wk
}

// work serves wk's jobs for as long as the process lives; an idle worker's
// stack is shrunk by the garbage collector.
func (p *workers) work(wk *worker) {
	for j := range wk.jobs {
		panicked := p.run(j)
		p.mu.Lock()
		p.idle = append(p.idle, wk)
		p.mu.Unlock()
		j.done <- panicked
	}
}

func (p *workers) run(j *workerJob) (panicked any) {
	defer func() { panicked = recover() }()
	p.next.ServeHTTP(j.w, j.r)
	return nil
}

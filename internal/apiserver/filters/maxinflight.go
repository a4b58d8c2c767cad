package filters

import (
	"context"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Default limits on concurrent requests, as kube-apiserver's defaults,
// and how long a request over the limit may wait for a slot.
const (
	DefaultMaxReadOnlyInFlight = 400
	DefaultMaxMutatingInFlight = 200
	DefaultQueueWait           = 5 * time.Second
)

// retryAfterSeconds is what a throttled client is told to wait.
const retryAfterSeconds = 1

// MaxInFlight bounds how many read-only and how many mutating requests
// are served at once. A request over its limit waits up to queueWait for a
// slot, as kube-apiserver's priority-and-fairness queues let it (a client
// told 429 sleeps a whole Retry-After second, which turns a short burst
// into a stall); at most as many requests as the limit wait, and the
// rest, like those still waiting after queueWait, get 429 TooManyRequests,
// so an overload sheds load instead of queueing without bound. Requests
// for which unlimited is true (watches, streams, exempt users) are not
// counted.
func MaxInFlight(next http.Handler, readOnly, mutating int, queueWait time.Duration, unlimited func(*http.Request) bool, writeError ErrorWriter) http.Handler {
	read := newLimiter(readOnly)
	write := newLimiter(mutating)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unlimited(r) {
			next.ServeHTTP(w, r)
			return
		}
		l := write
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			l = read
		}
		if !l.acquire(r.Context(), queueWait) {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
			writeError(w, r, apierrors.NewTooManyRequests("too many requests in flight, please try again later", retryAfterSeconds))
			return
		}
		defer l.release()
		next.ServeHTTP(w, r)
	})
}

// limiter is a counting semaphore with a bounded number of waiters.
type limiter struct {
	slots   chan struct{}
	waiters chan struct{}
}

func newLimiter(n int) *limiter {
	return &limiter{slots: make(chan struct{}, n), waiters: make(chan struct{}, n)}
}

// acquire takes a slot, waiting up to wait if there is room to wait.
func (l *limiter) acquire(ctx context.Context, wait time.Duration) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case l.waiters <- struct{}{}:
		defer func() { <-l.waiters }()
	default:
		return false
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (l *limiter) release() { <-l.slots }

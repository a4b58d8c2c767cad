package filters

import (
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Default limits on concurrent requests, as kube-apiserver's defaults.
const (
	DefaultMaxReadOnlyInFlight = 400
	DefaultMaxMutatingInFlight = 200
)

// retryAfterSeconds is what a throttled client is told to wait.
const retryAfterSeconds = 1

// MaxInFlight answers 429 TooManyRequests when more than the allowed
// number of read-only or mutating requests are being served at once, so
// an overload sheds requests instead of queueing without bound. Requests
// for which longRunning is true (watches, streams) are not counted.
func MaxInFlight(next http.Handler, readOnly, mutating int, longRunning func(*http.Request) bool, writeError ErrorWriter) http.Handler {
	readSlots := make(chan struct{}, readOnly)
	writeSlots := make(chan struct{}, mutating)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if longRunning(r) {
			next.ServeHTTP(w, r)
			return
		}
		slots := writeSlots
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			slots = readSlots
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
			writeError(w, r, apierrors.NewTooManyRequests("too many requests in flight, please try again later", retryAfterSeconds))
		}
	})
}

package filters

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
)

// Recover turns a panic in a handler into a 500 Status and a log line, so
// one bad request never takes the server down.
func Recover(next http.Handler, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				klog.FromContext(r.Context()).Error(fmt.Errorf("%v", p), "Handler panicked", "method", r.Method, "path", r.URL.Path)
				writeError(w, r, apierrors.NewInternalError(fmt.Errorf("internal error")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

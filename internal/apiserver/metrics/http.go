package metrics

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// RequestLabels is what the caller's request parser says about a request.
// Every value becomes a label value, so values must come from a bounded set:
// return the zero RequestLabels for a path that names no served resource
// (a 404 on /apis/x/y/<anything>) instead of echoing the path.
type RequestLabels struct {
	// Verb is the Kubernetes verb of a resource request: get, list, watch,
	// create, update, patch, delete or deletecollection. The filter reports
	// it as kube-apiserver does (GET, LIST, WATCH, POST, PUT, PATCH, APPLY,
	// DELETE, CONNECT); see reportedVerb.
	Verb        string
	Group       string
	Version     string
	Resource    string
	Subresource string
	// Scope is "resource" for a request naming one object (and for a
	// create, as kube-apiserver reports it), "namespace" for a namespaced
	// collection, "cluster" for a cluster-scoped or all-namespaces
	// collection, and "" for non-resource paths.
	Scope string
	// LongRunning counts the request in apiserver_longrunning_requests
	// while it is served: watches, and later exec, attach and port-forward.
	LongRunning bool
}

// Verbs as kube-apiserver reports them in the verb label.
const (
	verbGet     = "GET"
	verbList    = "LIST"
	verbWatch   = "WATCH"
	verbPost    = "POST"
	verbPut     = "PUT"
	verbPatch   = "PATCH"
	verbApply   = "APPLY"
	verbDelete  = "DELETE"
	verbConnect = "CONNECT"
	// verbOther stands for any method outside the set above, so that
	// clients cannot add series by inventing methods.
	verbOther = "other"
)

// InstrumentHTTP returns next wrapped in a filter that records
// apiserver_request_total and apiserver_request_duration_seconds for every
// request once it completes, and apiserver_longrunning_requests while a
// long-running one is served. info labels each request; it is called once,
// before next. The response writer next receives keeps http.Flusher, and
// http.Hijacker when the server's writer has it. A request whose handler
// panics is counted with code 500 and the panic continues up the chain.
func (m *Metrics) InstrumentHTTP(next http.Handler, info func(*http.Request) RequestLabels) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.clock.Now()
		labels := info(r)
		verb := reportedVerb(r, &labels)
		if labels.LongRunning {
			g := m.longRunning.WithLabelValues(verb, labels.Group, labels.Version, labels.Resource, labels.Subresource, labels.Scope, component)
			g.Inc()
			defer g.Dec()
		}
		rec := &statusRecorder{ResponseWriter: w}
		completed := false
		defer func() {
			code := rec.status()
			if !completed && rec.code == 0 {
				code = http.StatusInternalServerError // panicking before a response
			}
			dryRun := dryRunLabel(r.URL)
			m.requests.WithLabelValues(verb, dryRun, labels.Group, labels.Version, labels.Resource, labels.Subresource, labels.Scope, component, codeLabel(code)).Inc()
			m.durations.WithLabelValues(verb, dryRun, labels.Group, labels.Version, labels.Resource, labels.Subresource, labels.Scope, component).Observe(m.clock.Since(start).Seconds())
		}()
		next.ServeHTTP(wrapWriter(rec), r)
		completed = true
	})
}

// connectSubresources are reported with the verb CONNECT, whatever the
// method, as kube-apiserver reports them.
func isConnectSubresource(s string) bool {
	switch s {
	case "log", "exec", "portforward", "attach", "proxy":
		return true
	}
	return false
}

// reportedVerb follows kube-apiserver's verb label: the HTTP method for
// non-resource paths; for resource requests WATCH for watches, CONNECT for
// streaming subresources, APPLY for a server-side apply patch, GET or LIST
// by scope, and the HTTP method otherwise (a deletecollection is a DELETE,
// told apart from a delete by its scope).
func reportedVerb(r *http.Request, l *RequestLabels) string {
	if l.Resource == "" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			return verbGet
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			return r.Method
		}
		return verbOther
	}
	switch {
	case isConnectSubresource(l.Subresource):
		return verbConnect
	case l.Verb == "watch":
		return verbWatch
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if l.Scope == "resource" {
			return verbGet
		}
		return verbList
	case http.MethodPatch:
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			return verbApply
		}
		return verbPatch
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		return r.Method
	}
	return verbOther
}

// dryRunLabel is the dry_run label: "" without the parameter, "All" when
// every value is All (the only valid one), and "invalid" otherwise.
func dryRunLabel(u *url.URL) string {
	if !strings.Contains(u.RawQuery, "dryRun") {
		return ""
	}
	values := u.Query()["dryRun"]
	if len(values) == 0 {
		return ""
	}
	for _, v := range values {
		if v != "All" {
			return "invalid"
		}
	}
	return "All"
}

// codeLabels holds the code label of every status from 100 to 599, so that
// recording a request does not format one.
var codeLabels = func() []string {
	s := make([]string, 500)
	for i := range s {
		s[i] = strconv.Itoa(i + 100)
	}
	return s
}()

func codeLabel(code int) string {
	if code >= 100 && code < 600 {
		return codeLabels[code-100]
	}
	return strconv.Itoa(code)
}

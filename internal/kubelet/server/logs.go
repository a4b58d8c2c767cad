package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/kubelet/logs"
)

// serveContainerLogs streams a container's log file:
// GET /containerLogs/{namespace}/{pod}/{container} with the query
// parameters of corev1.PodLogOptions.
func (s *Server) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	opts, err := parseLogOptions(r.URL.Query())
	if err != nil {
		writeStatus(w, err)
		return
	}
	p := podRefFrom(r)
	c, err := s.findContainer(ctx, p, r.PathValue("container"), opts.Previous)
	if err != nil {
		writeStatus(w, err)
		return
	}
	st, err := s.runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.Id})
	if err != nil {
		writeStatus(w, runtimeError("container status", err))
		return
	}
	if st.GetStatus().GetLogPath() == "" {
		writeStatus(w, badRequest("container %q in pod %q has no log file", r.PathValue("container"), p.name))
		return
	}
	readOpts := logs.FromPodLogOptions(opts, time.Now())
	readOpts.PollInterval = s.opts.LogPollInterval
	readOpts.Running = func() bool { return s.running(ctx, c.Id) }
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	out := &flushWriter{w: w, rc: http.NewResponseController(w)}
	if err := logs.ReadLogs(ctx, st.Status.LogPath, readOpts, out, out); err != nil && ctx.Err() == nil {
		// The status line is sent: the client sees a cut stream.
		klog.FromContext(ctx).V(2).Info("Container log stream ended early", "pod", p.String(), "container", c.GetMetadata().GetName(), "err", err)
	}
}

// running reports whether the container still runs; an error counts as
// not running, so that following stops rather than hangs.
func (s *Server) running(ctx context.Context, id string) bool {
	st, err := s.runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	return err == nil && st.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING
}

// parseLogOptions reads the containerLogs query, which is PodLogOptions'
// query form.
func parseLogOptions(q url.Values) (*corev1.PodLogOptions, error) {
	opts := &corev1.PodLogOptions{}
	var err error
	if opts.Follow, err = boolParam(q, "follow"); err != nil {
		return nil, err
	}
	if opts.Previous, err = boolParam(q, "previous"); err != nil {
		return nil, err
	}
	if opts.Timestamps, err = boolParam(q, "timestamps"); err != nil {
		return nil, err
	}
	if opts.TailLines, err = intParam(q, "tailLines", 0); err != nil {
		return nil, err
	}
	if opts.SinceSeconds, err = intParam(q, "sinceSeconds", 1); err != nil {
		return nil, err
	}
	if opts.LimitBytes, err = intParam(q, "limitBytes", 1); err != nil {
		return nil, err
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, badRequest("sinceTime %q is not an RFC3339 time", v)
		}
		opts.SinceTime = &metav1.Time{Time: t}
	}
	if opts.SinceSeconds != nil && opts.SinceTime != nil {
		return nil, badRequest("at most one of sinceTime or sinceSeconds may be specified")
	}
	return opts, nil
}

// boolParam reads a flag given as true/false or 1/0; absent is false.
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s=%q is not a boolean", name, v)
	}
	return b, nil
}

// intParam reads an optional integer of at least minimum.
func intParam(q url.Values, name string, minimum int64) (*int64, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, badRequest("%s=%q is not an integer", name, v)
	}
	if n < minimum {
		return nil, badRequest("%s must be greater than or equal to %d", name, minimum)
	}
	return &n, nil
}

// flushWriter sends each write to the client at once, as a followed log
// must reach it line by line.
type flushWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.rc.Flush()
}

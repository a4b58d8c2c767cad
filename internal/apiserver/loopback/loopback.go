// Package loopback carries the requests of tug server's own clients, its
// controllers and scheduler, to the API server's handler in memory: no
// TLS, no HTTP/2 framing, no socket, on either side. The request still
// passes every stage a network request does (authentication, with the
// identity the transport was made for, authorization, admission,
// validation, metrics), so the in-process clients see exactly what an
// external client would.
package loopback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tugcluster/tug/internal/apiserver/filters"
)

// Transport returns a RoundTripper that serves requests with handler as
// user. Protocol upgrades (exec, attach, port-forward) need a connection
// and are refused.
func Transport(handler http.Handler, user filters.User) http.RoundTripper {
	return &transport{handler: handler, user: user}
}

type transport struct {
	handler http.Handler
	user    filters.User
}

// errUpgrade refuses requests that need a hijackable connection.
var errUpgrade = errors.New("loopback transport: protocol upgrades need a network connection")

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Upgrade") != "" {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errUpgrade
	}
	ctx, cancel := context.WithCancel(filters.WithInProcessUser(req.Context(), t.user))
	served := req.Clone(ctx)
	served.RequestURI = req.URL.RequestURI()
	served.RemoteAddr = "loopback"
	if served.Host == "" {
		served.Host = req.URL.Host
	}
	if served.Body == nil {
		served.Body = http.NoBody
	}
	w := &responseWriter{header: http.Header{}, ready: make(chan struct{})}
	go t.serve(w, served, cancel)
	select {
	case <-w.ready:
	case <-req.Context().Done():
		cancel()
		return nil, req.Context().Err()
	}
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)),
		StatusCode: w.code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  w.sent,
		Request: req,
	}
	if w.stream == nil {
		resp.ContentLength = int64(w.buf.Len())
		resp.Body = &body{Reader: bytes.NewReader(w.buf.Bytes()), cancel: cancel}
	} else {
		resp.ContentLength = -1
		resp.Body = &body{Reader: io.MultiReader(bytes.NewReader(w.buf.Bytes()), w.stream), cancel: cancel, stream: w.stream}
	}
	return resp, nil
}

// serve runs the handler; a panic that escapes the handler's own recovery
// becomes a broken response instead of a crashed server.
func (t *transport) serve(w *responseWriter, req *http.Request, cancel context.CancelFunc) {
	defer func() {
		if p := recover(); p != nil {
			w.fail(fmt.Errorf("loopback handler panic: %v", p))
			cancel()
		}
		_ = req.Body.Close()
	}()
	t.handler.ServeHTTP(w, req)
	w.finish()
}

// responseWriter buffers a response until the handler returns, then
// hands it over whole; a handler that flushes (a watch) switches it to
// streaming through a pipe, buffered bytes first.
type responseWriter struct {
	header http.Header
	// Set before ready closes, read by RoundTrip after.
	sent   http.Header
	code   int
	buf    bytes.Buffer
	stream *io.PipeReader

	pipe      *io.PipeWriter
	committed bool // code and sent are set
	ready     chan struct{}
	done      bool // ready is closed
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	// 1xx are informational: the final status follows.
	if w.committed || code < 200 {
		return
	}
	w.code, w.sent, w.committed = code, w.header.Clone(), true
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	if w.pipe != nil {
		return w.pipe.Write(p)
	}
	return w.buf.Write(p)
}

// Flush hands the response to the client now and streams the rest.
func (w *responseWriter) Flush() {
	if w.pipe != nil {
		return
	}
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	w.stream, w.pipe = io.Pipe()
	w.release()
}

// finish completes the response when the handler returns.
func (w *responseWriter) finish() {
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	if w.pipe != nil {
		_ = w.pipe.Close()
	}
	w.release()
}

// fail ends the response with err: a client already reading sees it; one
// still waiting gets a 500.
func (w *responseWriter) fail(err error) {
	if w.pipe != nil {
		_ = w.pipe.CloseWithError(err)
		return
	}
	if !w.done {
		w.code, w.sent, w.committed = http.StatusInternalServerError, http.Header{}, true
		w.buf.Reset()
		w.buf.WriteString(err.Error())
	}
	w.release()
}

func (w *responseWriter) release() {
	if !w.done {
		w.done = true
		close(w.ready)
	}
}

// body is a response body; closing it ends the request's context, which
// stops a streaming handler.
type body struct {
	io.Reader
	cancel context.CancelFunc
	stream *io.PipeReader
}

func (b *body) Close() error {
	b.cancel()
	if b.stream != nil {
		_ = b.stream.Close()
	}
	return nil
}

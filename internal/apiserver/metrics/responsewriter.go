package metrics

import (
	"bufio"
	"net"
	"net/http"
)

// statusRecorder remembers the status code of a response. It implements
// http.Flusher, because watches assert it, and Unwrap, for
// http.ResponseController; hijackRecorder adds http.Hijacker.
type statusRecorder struct {
	http.ResponseWriter
	// code is the final status written, 0 until the header is written.
	code int
}

// status is the code the client saw: 200 unless written otherwise, as
// net/http sends it when a handler writes no header.
func (w *statusRecorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *statusRecorder) WriteHeader(code int) {
	// 1xx other than 101 are informational; the final status follows.
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends buffered data; like net/http, a flush before any header
// commits a 200.
func (w *statusRecorder) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer, for
// deadlines and full-duplex.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hijackRecorder is a statusRecorder over a writer that can be hijacked
// (HTTP/1.x), for exec, attach and port-forward upgrades.
type hijackRecorder struct {
	*statusRecorder
}

// Hijack takes over the connection. A request hijacked before any header
// was written is counted as 101 Switching Protocols: the handler answers
// on the raw connection.
func (w hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// wrapWriter offers http.Hijacker only when the underlying writer does,
// so that handlers asserting it see what the server supports.
func wrapWriter(rec *statusRecorder) http.ResponseWriter {
	if _, ok := rec.ResponseWriter.(http.Hijacker); ok {
		return hijackRecorder{rec}
	}
	return rec
}

var (
	_ http.Flusher  = (*statusRecorder)(nil)
	_ http.Hijacker = hijackRecorder{}
)

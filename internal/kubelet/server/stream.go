package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/proxy"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// The channels of the websocket remote command protocols, by number.
const (
	stdinChannel = iota
	stdoutChannel
	stderrChannel
	errorChannel
	resizeChannel
)

// Websocket subprotocols whose error channel carries a JSON Status; the
// older ones carry the error text.
var statusProtocols = map[string]bool{
	remotecommandconsts.StreamProtocolV5Name: true,
	remotecommandconsts.StreamProtocolV4Name: true,
	"v4.base64.channel.k8s.io":               true,
}

// runtimeURL checks the streaming URL a CRI Exec, Attach or PortForward
// answered: the runtime's own streaming server, over plain HTTP on
// loopback (containerd's default).
func runtimeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, internalError(fmt.Errorf("runtime streaming URL %q: %w", raw, err))
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, internalError(fmt.Errorf("runtime streaming URL %q: only absolute http URLs are supported", raw))
	}
	return u, nil
}

// serveRemoteCommand connects the caller to an exec or attach session at
// the runtime's streaming URL. A SPDY upgrade is proxied as it is; a
// websocket (kubectl 1.30 and later) is accepted here and translated to a
// SPDY session with the runtime, whose websocket support predates the
// protocol versions kubectl speaks.
func (s *Server) serveRemoteCommand(w http.ResponseWriter, r *http.Request, rawURL string, opts streamOptions) {
	target, err := runtimeURL(rawURL)
	if err != nil {
		writeStatus(w, err)
		return
	}
	switch {
	case wsstream.IsWebSocketRequest(r):
		serveWebSocketCommand(w, r, target, opts)
	case httpstream.IsUpgradeRequest(r):
		proxyUpgrade(w, r, target)
	default:
		writeStatus(w, badRequest("Upgrade request required"))
	}
}

// proxyUpgrade passes an upgrade request to the runtime's streaming server
// and copies bytes both ways once it switched protocols.
func proxyUpgrade(w http.ResponseWriter, r *http.Request, target *url.URL) {
	h := &proxy.UpgradeAwareHandler{
		Location:        target,
		Transport:       runtimeTransport(),
		UpgradeRequired: true,
		UseLocationHost: true,
		Responder:       streamErrorResponder{},
	}
	h.ServeHTTP(w, r)
}

// runtimeTransport reaches the runtime's streaming server: directly, never
// through an environment proxy.
func runtimeTransport() *http.Transport {
	return &http.Transport{DialContext: (&net.Dialer{}).DialContext}
}

type streamErrorResponder struct{}

func (streamErrorResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	writeStatus(w, internalError(fmt.Errorf("runtime streaming server: %w", err)))
}

// serveWebSocketCommand accepts the caller's websocket and drives the
// runtime's SPDY endpoint as a client, piping the streams, terminal resizes
// and the exit status between them.
func serveWebSocketCommand(w http.ResponseWriter, r *http.Request, target *url.URL, opts streamOptions) {
	logger := klog.FromContext(r.Context())
	channels := []wsstream.ChannelType{
		stdinChannel:  channelType(opts.stdin, wsstream.ReadChannel),
		stdoutChannel: channelType(opts.stdout, wsstream.WriteChannel),
		stderrChannel: channelType(opts.stderr, wsstream.WriteChannel),
		errorChannel:  wsstream.WriteChannel,
		resizeChannel: wsstream.ReadChannel,
	}
	protocols := wsstream.NewDefaultChannelProtocols(channels)
	for name := range statusProtocols {
		protocols[name] = wsstream.ChannelProtocolConfig{Binary: name != "v4.base64.channel.k8s.io", Channels: channels}
	}
	conn := wsstream.NewConn(protocols)
	// The connection logs every receive error, the end of each session
	// included (this handler closes the socket); what matters is logged
	// here.
	protocol, streams, err := conn.Open(w, r.WithContext(klog.NewContext(r.Context(), logr.Discard())))
	if err != nil {
		logger.V(2).Info("Websocket upgrade failed", "err", err)
		return
	}
	defer func() { _ = conn.Close() }()
	// The lowest writable channel's empty frame tells older clients the
	// session is up.
	switch {
	case opts.stdout:
		_, _ = streams[stdoutChannel].Write(nil)
	case opts.stderr:
		_, _ = streams[stderrChannel].Write(nil)
	default:
		_, _ = streams[errorChannel].Write(nil)
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sizes := make(chan remotecommand.TerminalSize)
	var wg sync.WaitGroup
	defer wg.Wait()
	// The resize channel ends only with the connection: the caller went
	// away, so the session with the runtime ends too.
	wg.Go(func() {
		defer cancel()
		defer close(sizes)
		dec := json.NewDecoder(streams[resizeChannel])
		for {
			var size remotecommand.TerminalSize
			if err := dec.Decode(&size); err != nil {
				return
			}
			if !opts.tty {
				continue
			}
			select {
			case sizes <- size:
			case <-ctx.Done():
				return
			}
		}
	})
	streamOpts := remotecommand.StreamOptions{Tty: opts.tty}
	if opts.stdin {
		streamOpts.Stdin = streams[stdinChannel]
	}
	if opts.stdout {
		streamOpts.Stdout = streams[stdoutChannel]
	}
	if opts.stderr {
		streamOpts.Stderr = streams[stderrChannel]
	}
	if opts.tty {
		streamOpts.TerminalSizeQueue = sizeQueue{ctx: ctx, sizes: sizes}
	}
	err = streamToRuntime(ctx, target, streamOpts)
	if werr := writeExitStatus(streams[errorChannel], protocol, err); werr != nil {
		logger.V(2).Info("Writing the exit status failed", "err", werr)
	}
	// Closing the connection ends the resize reader, which Wait waits for.
	_ = conn.Close()
}

func channelType(used bool, t wsstream.ChannelType) wsstream.ChannelType {
	if used {
		return t
	}
	return wsstream.IgnoreChannel
}

// streamToRuntime runs the SPDY side of a translated session.
func streamToRuntime(ctx context.Context, target *url.URL, opts remotecommand.StreamOptions) error {
	cfg := &rest.Config{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
	executor, err := remotecommand.NewSPDYExecutor(cfg, http.MethodPost, target)
	if err != nil {
		return fmt.Errorf("connect to the runtime's streaming server: %w", err)
	}
	return executor.StreamWithContext(ctx, opts)
}

// sizeQueue hands the caller's terminal sizes to the SPDY executor.
type sizeQueue struct {
	ctx   context.Context
	sizes <-chan remotecommand.TerminalSize
}

func (q sizeQueue) Next() *remotecommand.TerminalSize {
	select {
	case size, ok := <-q.sizes:
		if !ok {
			return nil
		}
		return &size
	case <-q.ctx.Done():
		return nil
	}
}

// writeExitStatus tells the caller how the session ended, on the error
// channel: a Status for v4 and later (with the exit code kubectl reports),
// the error text for older protocols.
func writeExitStatus(w io.Writer, protocol string, err error) error {
	if !statusProtocols[protocol] {
		if err == nil {
			return nil
		}
		_, werr := w.Write([]byte(err.Error()))
		return werr
	}
	status := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	var exitErr utilexec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.Exited():
		status.Status = metav1.StatusFailure
		status.Reason = remotecommandconsts.NonZeroExitCodeReason
		status.Message = fmt.Sprintf("command terminated with non-zero exit code: %v", err)
		status.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{
			Type: remotecommandconsts.ExitCodeCauseType, Message: strconv.Itoa(exitErr.ExitStatus()),
		}}}
	default:
		status.Status = metav1.StatusFailure
		status.Reason = metav1.StatusReasonInternalError
		status.Code = http.StatusInternalServerError
		status.Message = err.Error()
	}
	data, merr := json.Marshal(status)
	if merr != nil {
		return merr
	}
	_, werr := w.Write(data)
	return werr
}

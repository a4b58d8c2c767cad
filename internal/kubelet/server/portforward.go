package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	gwebsocket "github.com/gorilla/websocket"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

const (
	// portForwardProtocol is the SPDY port-forward protocol's name.
	portForwardProtocol = "portforward.k8s.io"
	// tunneledPortForwardProtocol is the websocket subprotocol kubectl 1.31
	// and later ask for: SPDY frames carried in binary websocket messages.
	tunneledPortForwardProtocol = "SPDY/3.1+" + portForwardProtocol
)

// parsePorts reads the port=… query parameters.
func parsePorts(q url.Values) ([]int32, error) {
	var ports []int32
	for _, v := range q["port"] {
		for _, part := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(part), 10, 16)
			if err != nil || n == 0 {
				return nil, badRequest("port %q is not a port number", part)
			}
			ports = append(ports, int32(n))
		}
	}
	return ports, nil
}

// servePortForwardStream connects the caller to a port-forward session at
// the runtime's streaming URL: a SPDY upgrade is proxied as it is, a
// websocket carrying SPDY is unwrapped onto a SPDY connection with the
// runtime.
func (s *Server) servePortForwardStream(w http.ResponseWriter, r *http.Request, rawURL string) {
	target, err := runtimeURL(rawURL)
	if err != nil {
		writeStatus(w, err)
		return
	}
	switch {
	case wsstream.IsWebSocketRequestWithTunnelingProtocol(r):
		tunnelPortForward(w, r, target)
	case wsstream.IsWebSocketRequest(r):
		writeStatus(w, badRequest("websocket port-forward needs the %s subprotocol", tunneledPortForwardProtocol))
	case httpstream.IsUpgradeRequest(r):
		proxyUpgrade(w, r, target)
	default:
		writeStatus(w, badRequest("Upgrade request required"))
	}
}

// tunnelPortForward upgrades the runtime connection to SPDY first (so that
// a failure is still an HTTP answer, on which kubectl falls back to SPDY),
// then the caller's to a websocket, and copies the SPDY bytes between the
// two until either side ends.
func tunnelPortForward(w http.ResponseWriter, r *http.Request, target *url.URL) {
	ctx := r.Context()
	logger := klog.FromContext(ctx)
	backend, err := dialSPDY(ctx, target, portForwardProtocol)
	if err != nil {
		writeStatus(w, internalError(err))
		return
	}
	defer func() { _ = backend.Close() }()
	upgrader := gwebsocket.Upgrader{
		Subprotocols: []string{tunneledPortForwardProtocol},
		// The caller authenticated with a client certificate; there is
		// no browser session to protect.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered the caller.
		logger.V(2).Info("Websocket upgrade failed", "err", err)
		return
	}
	tunnel := portforward.NewTunnelingConnectionWithLogger(klog.LoggerWithName(logger, "portforward"), ws)
	defer func() { _ = tunnel.Close() }()
	done := make(chan struct{}, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(backend, tunnel)
		done <- struct{}{}
	})
	wg.Go(func() {
		_, _ = io.Copy(tunnel, backend)
		done <- struct{}{}
	})
	select {
	case <-done:
	case <-ctx.Done():
	}
	_ = tunnel.Close()
	_ = backend.Close()
	wg.Wait()
}

// dialSPDY opens a connection to url and upgrades it to SPDY/3.1 with the
// given stream protocol, returning the raw connection after the switch.
func dialSPDY(ctx context.Context, target *url.URL, protocol string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", target.Host)
	if err != nil {
		return nil, fmt.Errorf("dial runtime streaming server: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), nil)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "SPDY/3.1")
	req.Header.Set(httpstream.HeaderProtocolVersion, protocol)
	if err := req.Write(conn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("send upgrade to runtime streaming server: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("read upgrade response of runtime streaming server: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = conn.Close()
		return nil, fmt.Errorf("runtime streaming server refused the upgrade: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return &bufferedConn{Conn: conn, r: br}, nil
}

// bufferedConn reads first what the response reader buffered past the
// upgrade response.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

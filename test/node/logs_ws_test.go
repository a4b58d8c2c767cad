package node

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// readLogsOverWebSocket reads a pod's log from pods/log as a websocket
// client would (the conformance suite does), with the base64 protocol.
func readLogsOverWebSocket(t *testing.T, c *nodetest.Cluster, pod string) string {
	t.Helper()
	tlsConfig, err := rest.TLSConfigFor(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dialer := websocket.Dialer{TLSClientConfig: tlsConfig, HandshakeTimeout: 10 * time.Second,
		Subprotocols: []string{"base64.binary.k8s.io"}}
	url := strings.Replace(c.URL, "https://", "wss://", 1) + "/api/v1/namespaces/default/pods/" + pod + "/log"
	conn, resp, err := dialer.Dial(url, http.Header{})
	if err != nil {
		t.Fatalf("websocket %s: %v (response %v)", url, err, resp)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out strings.Builder
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			break // the server closes the stream after the log
		}
		data, err := base64.StdEncoding.DecodeString(string(msg))
		if err != nil {
			t.Fatalf("message %q is not base64: %v", msg, err)
		}
		out.Write(data)
	}
	return out.String()
}

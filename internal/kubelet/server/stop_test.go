package server_test

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/remotecommand"

	"github.com/tugcluster/tug/internal/pki"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

// TestKubeletServerStop stops the server while streams are open: Start
// returns, and the streams end.
func TestKubeletServerStop(t *testing.T) {
	rt := containerdtest.Start(t)
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(t.TempDir(), "tls")})
	if err != nil {
		t.Fatal(err)
	}
	env := startKubelet(t, rt, bundle, nil)
	pod := runPod(t, rt, "default", "p1", "uid-1")
	pod.start(t, rt, containerSpec{name: "shell", command: []string{"sleep", "100000"}})
	q := url.Values{"command": {"sh", "-c", "echo started; exec sleep 100000"}, "output": {"1"}}
	type result struct {
		transport string
		err       error
	}
	results := make(chan result, 2)
	for _, transport := range []string{"spdy", "websocket"} {
		ex := executor(t, env.admin, transport, env.url("/exec/default/p1/shell", q))
		out := &syncBuffer{}
		go func() {
			results <- result{transport, ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: out})}
		}()
		deadline := time.Now().Add(30 * time.Second)
		for out.String() != "started\n" {
			if time.Now().After(deadline) {
				t.Fatalf("%s exec output %q", transport, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := env.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// client-go reports a SPDY session whose connection closed without an
	// exit status as a success: that the calls return is what counts.
	for range 2 {
		select {
		case r := <-results:
			t.Logf("%s exec ended: %v", r.transport, r.err)
		case <-time.After(30 * time.Second):
			t.Fatal("exec streams still open after the kubelet stopped")
		}
	}
}

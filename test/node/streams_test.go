package node

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// TestStreams drives exec, port-forward, attach and cp through the API
// server and the kubelet with kubectl 1.33 (WebSocket) and 1.29 (SPDY).
func TestStreams(t *testing.T) {
	c := nodetest.StartCluster(t, 1)
	pod := busybox("streams", "mkdir -p /www && echo served by httpd > /www/index.html && httpd -p 8080 -h /www && while true; do sleep 1; done")
	create(t, c.Client, pod)
	waitPod(t, c.Client, pod.Namespace, pod.Name, 60*time.Second, "running", running)
	for _, minor := range []string{"1.33", "1.29"} {
		kubectl := testutil.Kubectl(t, minor)
		t.Run("exec-"+minor, func(t *testing.T) {
			out, err := c.RunKubectl(t, kubectl, "", "exec", pod.Name, "--", "sh", "-c", "echo out; echo err >&2")
			if err != nil || !strings.Contains(out, "out") || !strings.Contains(out, "err") {
				t.Errorf("kubectl exec = %q, %v; want both streams", out, err)
			}
			out, err = c.RunKubectl(t, kubectl, "", "exec", pod.Name, "--", "sh", "-c", "exit 7")
			var exitErr *exec.ExitError
			if err == nil || !strings.Contains(out, "command terminated with exit code 7") {
				t.Errorf("kubectl exec exit 7 = %q, %v; want exit code 7 reported", out, err)
			} else if ok := asExitError(err, &exitErr); ok && exitErr.ExitCode() != 7 {
				t.Errorf("kubectl exit code = %d, want 7", exitErr.ExitCode())
			}
			// Standard output alone: client-go may log that it dropped
			// the server's empty stream-opening frame (a client race).
			out, err = c.RunKubectlStdout(t, kubectl, "piped stdin\n", "exec", "-i", pod.Name, "--", "cat")
			if err != nil || out != "piped stdin\n" {
				t.Errorf("kubectl exec -i cat = %q, %v", out, err)
			}
		})
		t.Run("port-forward-"+minor, func(t *testing.T) { testPortForward(t, c, kubectl, pod.Name) })
	}
	t.Run("cp", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "payload.txt")
		if err := os.WriteFile(src, []byte("copied in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		kubectl := testutil.Kubectl(t, "1.33")
		if out, err := c.RunKubectl(t, kubectl, "", "cp", src, pod.Name+":/tmp/payload.txt"); err != nil {
			t.Fatalf("kubectl cp in: %v\n%s", err, out)
		}
		back := filepath.Join(t.TempDir(), "back.txt")
		if out, err := c.RunKubectl(t, kubectl, "", "cp", pod.Name+":/tmp/payload.txt", back); err != nil {
			t.Fatalf("kubectl cp out: %v\n%s", err, out)
		}
		if data, err := os.ReadFile(back); err != nil || string(data) != "copied in\n" {
			t.Errorf("round trip through kubectl cp = %q, %v", data, err)
		}
	})
	t.Run("attach", func(t *testing.T) {
		talker := busybox("talker", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done")
		create(t, c.Client, talker)
		waitPod(t, c.Client, talker.Namespace, talker.Name, 60*time.Second, "running", running)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, testutil.Kubectl(t, "1.33"), "--kubeconfig", c.Kubeconfig, "attach", talker.Name)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "tick ") {
			t.Errorf("kubectl attach first line = %q, %v; want a tick", line, err)
		}
	})
}

func asExitError(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError) //nolint:errorlint // RunKubectl returns exec's error as is
	if ok {
		*target = e
	}
	return ok
}

// testPortForward runs kubectl port-forward to the pod's httpd and fetches
// a page through it, on loopback.
func testPortForward(t *testing.T, c *nodetest.Cluster, kubectl, pod string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", c.Kubeconfig, "port-forward", "--address", "127.0.0.1", pod, ":8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)
	r := bufio.NewReader(stdout)
	var port string
	for port == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("kubectl port-forward: %v", err)
		}
		if m := re.FindStringSubmatch(line); m != nil {
			port = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	for i := range 2 { // two requests: two streams over one connection
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/index.html", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d through port-forward: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != "served by httpd\n" {
			t.Errorf("request %d: body %q", i, body)
		}
	}
}

package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/pki"
	tugserver "github.com/tugcluster/tug/internal/server"
	"github.com/tugcluster/tug/internal/testutil"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

// TestThroughAPIServer serves pods/log, exec, portforward and nodes/proxy
// from a real kubelet API behind a real tug server, with real kubectl
// binaries: 1.33 speaks websockets, 1.29 SPDY.
func TestThroughAPIServer(t *testing.T) {
	rt := containerdtest.Start(t)
	s := testutil.StartServer(t, func(o *tugserver.Options) { o.DisableScheduler = true })
	ctx := context.Background()
	// The server's own CA signs the kubelet's serving certificate, as it
	// does for a joined node.
	bundle, err := pki.Ensure(pki.Options{Dir: filepath.Join(s.DataDir, "server", "tls")})
	if err != nil {
		t.Fatal(err)
	}
	var apiPod atomic.Pointer[corev1.Pod]
	env := startKubelet(t, rt, bundle, func() []*corev1.Pod {
		if p := apiPod.Load(); p != nil {
			return []*corev1.Pod{p}
		}
		return nil
	})
	_, portText, _ := net.SplitHostPort(env.addr)
	kubeletPort, _ := strconv.Atoi(portText)
	createNode(t, s.Client, "n1", kubeletPort)
	// n2's kubelet does not answer.
	createNode(t, s.Client, "n2", freePort(t))

	pod := createPod(t, s.Client, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{
			{Name: "shell", Image: containerdtest.BusyboxRef}, {Name: "web", Image: containerdtest.BusyboxRef},
		}},
	})
	apiPod.Store(pod)
	sandbox := runPod(t, rt, pod.Namespace, pod.Name, string(pod.UID))
	sandbox.start(t, rt, containerSpec{name: "shell", command: []string{"sh", "-c", "echo hello-log; exec sleep 100000"}})
	webPort := startWeb(t, rt, sandbox)
	createPod(t, s.Client, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "unbound", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: containerdtest.BusyboxRef}}},
	})
	createPod(t, s.Client, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "lost", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: "n2", Containers: []corev1.Container{{Name: "c", Image: containerdtest.BusyboxRef}}},
	})

	for _, minor := range []string{"1.33", "1.29"} {
		kubectl := testutil.Kubectl(t, minor)
		t.Run("kubectl "+minor+"/logs", func(t *testing.T) {
			out, err := s.RunKubectl(t, kubectl, "", "logs", "p1", "-c", "shell")
			if err != nil || out != "hello-log\n" {
				t.Errorf("kubectl logs: %q, %v", out, err)
			}
		})
		t.Run("kubectl "+minor+"/exec exit code", func(t *testing.T) {
			out, err := s.RunKubectl(t, kubectl, "", "exec", "p1", "-c", "shell", "--", "sh", "-c", "echo hi; exit 3")
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
				t.Errorf("kubectl exec: err %v, want exit code 3; output %q", err, out)
			}
			if !strings.Contains(out, "hi\n") || !strings.Contains(out, "command terminated with exit code 3") {
				t.Errorf("kubectl exec output %q", out)
			}
		})
		t.Run("kubectl "+minor+"/exec stdin", func(t *testing.T) {
			// cat ends only when the end of stdin reaches it.
			out, err := s.RunKubectl(t, kubectl, "piped line\n", "exec", "-i", "p1", "-c", "shell", "--", "cat")
			if err != nil || out != "piped line\n" {
				t.Errorf("kubectl exec -i: %q, %v", out, err)
			}
		})
		t.Run("kubectl "+minor+"/port-forward", func(t *testing.T) {
			if got := kubectlPortForward(t, s, kubectl, webPort); got != "hello from httpd\n" {
				t.Errorf("body through kubectl port-forward = %q", got)
			}
		})
	}

	t.Run("nodes/proxy", func(t *testing.T) {
		raw, err := s.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/n1/proxy/pods").DoRaw(ctx)
		if err != nil || !strings.Contains(string(raw), `"name":"p1"`) {
			t.Errorf("nodes/n1/proxy/pods: %s, %v", raw, err)
		}
		raw, err = s.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/n1/proxy/healthz").DoRaw(ctx)
		if err != nil || string(raw) != "ok" {
			t.Errorf("nodes/n1/proxy/healthz: %q, %v", raw, err)
		}
		raw, err = s.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/n1/proxy/stats/summary").DoRaw(ctx)
		if err != nil || !strings.Contains(string(raw), `"nodeName":"n1"`) {
			t.Errorf("nodes/n1/proxy/stats/summary: %s, %v", raw, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name    string
			pod     string
			opts    corev1.PodLogOptions
			code    int32
			message string
		}{
			{name: "container required", pod: "p1", code: http.StatusBadRequest,
				message: "a container name must be specified for pod p1, choose one of: [shell web]"},
			{name: "unknown container", pod: "p1", opts: corev1.PodLogOptions{Container: "nope"}, code: http.StatusBadRequest,
				message: "container nope is not valid for pod p1"},
			{name: "not scheduled", pod: "unbound", code: http.StatusBadRequest, message: "pod unbound does not have a host assigned"},
			{name: "kubelet unreachable", pod: "lost", code: http.StatusServiceUnavailable, message: `unable to reach the kubelet of node "n2"`},
			{name: "no previous container", pod: "p1", opts: corev1.PodLogOptions{Container: "shell", Previous: true},
				code: http.StatusBadRequest, message: `previous terminated container "shell" in pod "p1" not found`},
			{name: "no such pod", pod: "none", code: http.StatusNotFound, message: `pods "none" not found`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// Stream, as kubectl logs reads, decodes Status errors.
				stream, err := s.Client.CoreV1().Pods("default").GetLogs(tt.pod, &tt.opts).Stream(ctx)
				if err == nil {
					_ = stream.Close()
				}
				var status apierrors.APIStatus
				if !errors.As(err, &status) || status.Status().Code != tt.code || !strings.Contains(status.Status().Message, tt.message) {
					t.Errorf("err = %v, want %d %q", err, tt.code, tt.message)
				}
			})
		}
	})
}

func createNode(t *testing.T, client kubernetes.Interface, name string, kubeletPort int) {
	t.Helper()
	ctx := context.Background()
	if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The node IPAM controller writes the new node too: retry conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
		node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(kubeletPort)
		_, err = client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// createPod creates pod, retrying while its namespace's default service
// account does not exist yet, and fakes it running.
func createPod(t *testing.T, client kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		created, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil {
			pod = created
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create pod %s: %v", pod.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pod.Status.Phase = corev1.PodRunning
	updated, err := client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return updated
}

// kubectlPortForward runs kubectl port-forward to the pod p1's port and
// returns the body of a GET through the local port it chose.
func kubectlPortForward(t *testing.T, s *testutil.Server, kubectl string, port int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", s.Kubeconfig, "port-forward", "--address", "127.0.0.1",
		"pod/p1", ":"+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "HOME="+s.DataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> ` + strconv.Itoa(port))
	sc := bufio.NewScanner(stdout)
	local := ""
	for local == "" && sc.Scan() {
		if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
			local = m[1]
		}
	}
	if local == "" {
		t.Fatalf("kubectl port-forward printed no local port; stderr: %s", stderr.String())
	}
	// Keep draining stdout so that kubectl never blocks on it.
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/", local))
	if err != nil {
		t.Fatalf("GET through kubectl port-forward: %v; stderr: %s", err, stderr.String())
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

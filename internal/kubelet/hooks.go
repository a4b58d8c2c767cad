package kubelet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// hookTimeout bounds an HTTP hook when the grace period does not.
const hookTimeout = 30 * time.Second

// runHook runs a postStart or preStop handler against container id and
// returns a message for the event when it fails.
func (k *Kubelet) runHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, h *corev1.LifecycleHandler, podIPs []string) (string, error) {
	switch {
	case h.Exec != nil:
		out, code, err := k.execProbe(ctx, id, h.Exec.Command, 0)
		if err != nil {
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
				h.Exec.Command, c.Name, pod.Name, err, string(out)), err
		}
		if code != 0 {
			err := fmt.Errorf("command '%v' exited with %d: %s", h.Exec.Command, code, out)
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
				h.Exec.Command, c.Name, pod.Name, err, string(out)), err
		}
		return "", nil
	case h.HTTPGet != nil:
		if err := httpHook(ctx, h.HTTPGet, c, podIPs); err != nil {
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v",
				h.HTTPGet.Path, c.Name, pod.Name, err), err
		}
		return "", nil
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-k.clock.After(time.Duration(h.Sleep.Seconds) * time.Second):
			return "", nil
		}
	}
	return "", nil
}

// httpHook sends the hook's GET to the pod (or its host).
func httpHook(ctx context.Context, g *corev1.HTTPGetAction, c *corev1.Container, podIPs []string) error {
	host := g.Host
	if host == "" && len(podIPs) > 0 {
		host = podIPs[0]
	}
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+g.Path, nil)
	if err != nil {
		return err
	}
	for _, h := range g.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

// resolvePort turns a port number or a container port name into a number.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port %q in container %s", p.StrVal, c.Name)
}

// execProbe runs cmd in container id through the runtime and returns its
// combined output and exit code.
func (k *Kubelet) execProbe(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, int32, error) {
	resp, err := k.runtime.ExecSync(ctx, &runtimeapi.ExecSyncRequest{
		ContainerId: id, Cmd: cmd, Timeout: int64(timeout / time.Second),
	})
	if err != nil {
		return nil, -1, err
	}
	return append(resp.Stdout, resp.Stderr...), resp.ExitCode, nil
}

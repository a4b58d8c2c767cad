package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tugcluster/tug/internal/version"
)

// Result is the outcome of one probe attempt.
type Result int

const (
	// Unknown means the probe could not be run (a bad spec, an exec that
	// failed to start); the attempt counts neither way.
	Unknown Result = iota
	// Success means the container passed the check.
	Success
	// Failure means the container failed the check.
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// ExecFunc runs cmd in a container and returns its combined output and exit
// code. It must give up after timeout and then return an error wrapping
// context.DeadlineExceeded; other errors mean the command could not be
// run at all.
type ExecFunc func(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (output []byte, exitCode int32, err error)

// maxOutput bounds what a probe keeps of a command's output or a response
// body for its message: enough to explain a failure in an event.
const maxOutput = 10 * 1024

// Run runs one attempt of probe p against container c of pod (running as
// containerID) and returns the result with a message explaining a failure
// (for HTTP redirects to another host, also a success). A non-nil error
// comes with Unknown.
func Run(ctx context.Context, p *corev1.Probe, pod *corev1.Pod, c *corev1.Container, containerID string, exec ExecFunc) (Result, string, error) {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	switch {
	case p.Exec != nil:
		return runExec(ctx, p.Exec, containerID, exec, timeout)
	case p.HTTPGet != nil:
		host, port, err := target(p.HTTPGet.Host, p.HTTPGet.Port, pod, c)
		if err != nil {
			return Unknown, "", err
		}
		return runHTTP(ctx, p.HTTPGet, host, port, timeout)
	case p.TCPSocket != nil:
		host, port, err := target(p.TCPSocket.Host, p.TCPSocket.Port, pod, c)
		if err != nil {
			return Unknown, "", err
		}
		return runTCP(ctx, net.JoinHostPort(host, strconv.Itoa(port)), timeout)
	case p.GRPC != nil:
		host, port, err := target("", intstr.FromInt32(p.GRPC.Port), pod, c)
		if err != nil {
			return Unknown, "", err
		}
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return runGRPC(ctx, net.JoinHostPort(host, strconv.Itoa(port)), service, timeout)
	}
	return Unknown, "", errors.New("probe has no handler (exec, httpGet, tcpSocket or grpc)")
}

func runExec(ctx context.Context, action *corev1.ExecAction, containerID string, exec ExecFunc, timeout time.Duration) (Result, string, error) {
	if exec == nil {
		return Unknown, "", errors.New("exec probes are not supported here")
	}
	out, code, err := exec(ctx, containerID, action.Command, timeout)
	if len(out) > maxOutput {
		out = out[:maxOutput]
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return Failure, fmt.Sprintf("command %q timed out", strings.Join(action.Command, " ")), nil
	}
	if err != nil {
		return Unknown, "", fmt.Errorf("exec probe: %w", err)
	}
	if code != 0 {
		if len(out) == 0 {
			return Failure, fmt.Sprintf("command %q exited with %d", strings.Join(action.Command, " "), code), nil
		}
		return Failure, string(out), nil
	}
	return Success, "", nil
}

// target resolves the host (default: the pod's IP) and the port (a number,
// or the name of one of the container's ports) a network probe connects to.
func target(host string, port intstr.IntOrString, pod *corev1.Pod, c *corev1.Container) (string, int, error) {
	if host == "" {
		host = pod.Status.PodIP
	}
	if host == "" {
		return "", 0, errors.New("pod has no IP yet")
	}
	number := port.IntValue()
	if port.Type == intstr.String {
		number = 0
		for _, p := range c.Ports {
			if p.Name == port.StrVal {
				number = int(p.ContainerPort)
				break
			}
		}
		if number == 0 {
			return "", 0, fmt.Errorf("container has no port named %q", port.StrVal)
		}
	}
	if number < 1 || number > 65535 {
		return "", 0, fmt.Errorf("invalid port %d", number)
	}
	return host, number, nil
}

// userAgent is what probes introduce themselves as: kube-probe/<major.minor>
// of the Kubernetes version served, since applications match on it.
func userAgent() string {
	v := strings.TrimPrefix(version.Get().KubernetesVersion, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		v = parts[0] + "." + parts[1]
	}
	return "kube-probe/" + v
}

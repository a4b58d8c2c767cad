// Package cri is tug's client of a container runtime (containerd) over the
// Container Runtime Interface: gRPC on a unix socket.
package cri

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// MaxMessageSize bounds one CRI message in either direction. Lists of
// containers and images on a busy node, and ExecSync output, outgrow gRPC's
// 4 MiB default; 16 MiB is what kubelets allow too.
const MaxMessageSize = 16 << 20

// Client is a connection to one CRI runtime. Its service clients are safe
// for concurrent use; Close ends them all.
type Client struct {
	// Runtime manages pod sandboxes and containers.
	Runtime runtimeapi.RuntimeServiceClient
	// Images lists, inspects, pulls and removes images.
	Images runtimeapi.ImageServiceClient

	endpoint string
	conn     *grpc.ClientConn
}

// Dial prepares a client of the CRI runtime at endpoint, either
// "unix:///path/to/socket" or a plain socket path. It does not wait for the
// runtime: connections are made on first use, and WaitReady waits for a
// runtime that is still starting.
func Dial(ctx context.Context, endpoint string) (*Client, error) {
	target, err := socketTarget(endpoint)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(target,
		// A unix socket owned by root is the transport's security.
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		// A local socket comes back quickly when its runtime restarts;
		// gRPC's default back-off (1 s, growing to 2 min) is for networks.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second,
		}}),
	)
	if err != nil {
		return nil, fmt.Errorf("dial CRI runtime %s: %w", endpoint, err)
	}
	klog.FromContext(ctx).V(4).Info("CRI client created", "endpoint", target)
	return &Client{
		Runtime:  runtimeapi.NewRuntimeServiceClient(conn),
		Images:   runtimeapi.NewImageServiceClient(conn),
		endpoint: target,
		conn:     conn,
	}, nil
}

// socketTarget turns an endpoint flag value into a gRPC target.
func socketTarget(endpoint string) (string, error) {
	switch {
	case endpoint == "":
		return "", errors.New("empty CRI endpoint")
	case strings.HasPrefix(endpoint, "unix://"):
		if strings.TrimPrefix(endpoint, "unix://") == "" {
			return "", fmt.Errorf("CRI endpoint %q has no socket path", endpoint)
		}
		return endpoint, nil
	case strings.Contains(endpoint, "://"):
		return "", fmt.Errorf("CRI endpoint %q: only unix sockets are supported", endpoint)
	default:
		return "unix://" + endpoint, nil
	}
}

// Endpoint is the gRPC target of the runtime, "unix:///path".
func (c *Client) Endpoint() string { return c.endpoint }

// Close ends the connection; calls in flight fail.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close CRI client %s: %w", c.endpoint, err)
	}
	return nil
}

// WaitReady blocks until the runtime answers Version and reports the
// RuntimeReady condition, or ctx ends; then it returns ctx's error joined
// with the last answer that was not ready. It does not wait for
// NetworkReady: that needs a CNI config, which may come later.
func (c *Client) WaitReady(ctx context.Context) error {
	// Frequent retries at first: a local containerd answers within tens of
	// milliseconds of starting, and agent start-up time counts. A runtime
	// that takes longer is probably down, and is asked less often.
	start := time.Now()
	for {
		err := c.ready(ctx)
		if err == nil {
			return nil
		}
		if status.Code(err) == codes.Unimplemented {
			// Waiting does not help a runtime without CRI v1 (containerd
			// with its cri plugin disabled or failed, or older than 1.5).
			return fmt.Errorf("CRI runtime %s does not serve CRI v1: %w", c.endpoint, err)
		}
		// Retry the connection now rather than after gRPC's back-off: a
		// runtime that is starting creates its socket any moment.
		c.conn.ResetConnectBackoff()
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for CRI runtime %s: %w", c.endpoint, errors.Join(ctx.Err(), err))
		case <-time.After(retryDelay(time.Since(start))):
		}
	}
}

// retryDelay is the pause between readiness checks after waiting for
// waited.
func retryDelay(waited time.Duration) time.Duration {
	if waited < 2*time.Second {
		return 5 * time.Millisecond
	}
	return 100 * time.Millisecond
}

// ready asks the runtime once whether it can run containers.
func (c *Client) ready(ctx context.Context) error {
	if _, err := c.Runtime.Version(ctx, &runtimeapi.VersionRequest{}); err != nil {
		return err
	}
	st, err := c.Runtime.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return err
	}
	for _, cond := range st.GetStatus().GetConditions() {
		if cond.GetType() == runtimeapi.RuntimeReady {
			if cond.GetStatus() {
				return nil
			}
			return fmt.Errorf("runtime not ready: %s: %s", cond.GetReason(), cond.GetMessage())
		}
	}
	return errors.New("runtime reports no RuntimeReady condition")
}

package probes

import (
	"context"
	"net"
	"time"
)

// runTCP succeeds when a TCP connection to addr opens within timeout.
func runTCP(ctx context.Context, addr string, timeout time.Duration) (Result, string, error) {
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Failure, err.Error(), nil
	}
	// Closing is all there is to do; an error closing says nothing about
	// the container.
	_ = conn.Close()
	return Success, "", nil
}

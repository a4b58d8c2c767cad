package cri_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/runtime/cri"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

func TestDialEndpoints(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string // "" for an error
	}{
		{"/run/containerd/containerd.sock", "unix:///run/containerd/containerd.sock"},
		{"unix:///run/containerd/containerd.sock", "unix:///run/containerd/containerd.sock"},
		{"", ""},
		{"unix://", ""},
		{"tcp://127.0.0.1:1234", ""},
	}
	for _, tt := range tests {
		c, err := cri.Dial(t.Context(), tt.endpoint)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("Dial(%q) succeeded, want an error", tt.endpoint)
		case tt.want != "" && err != nil:
			t.Errorf("Dial(%q): %v", tt.endpoint, err)
		case err == nil:
			if c.Endpoint() != tt.want {
				t.Errorf("Dial(%q).Endpoint() = %q, want %q", tt.endpoint, c.Endpoint(), tt.want)
			}
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestWaitReadyNoRuntime(t *testing.T) {
	c, err := cri.Dial(t.Context(), filepath.Join(t.TempDir(), "nobody.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = c.WaitReady(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady with no runtime = %v, want the deadline", err)
	}
}

// TestWaitReadyNotCRI: a gRPC server without the CRI services is an error
// at once, not a wait.
func TestWaitReadyNotCRI(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "grpc.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	defer func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	c, err := cri.Dial(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	err = c.WaitReady(t.Context()) // no deadline: a wait would hang the test
	if err == nil || !strings.Contains(err.Error(), "does not serve CRI v1") {
		t.Errorf("WaitReady = %v, want a not-CRI error", err)
	}
}

func TestClient(t *testing.T) {
	r := containerdtest.Start(t)
	c, err := cri.Dial(t.Context(), r.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	v, err := c.Runtime.Version(t.Context(), &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetRuntimeName() != "containerd" || v.GetRuntimeApiVersion() != "v1" {
		t.Errorf("Version = %v, want containerd on CRI v1", v)
	}
	imgs, err := c.Images.ListImages(t.Context(), &runtimeapi.ListImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.GetImages()) < 2 {
		t.Errorf("ListImages = %d images, want pause and busybox", len(imgs.GetImages()))
	}
}

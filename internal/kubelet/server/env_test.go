package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/tugcluster/tug/internal/kubelet/server"
	"github.com/tugcluster/tug/internal/pki"
	"github.com/tugcluster/tug/internal/testutil/containerdtest"
)

// kubeletEnv is a kubelet API server in front of a private containerd.
type kubeletEnv struct {
	rt     *containerdtest.Runtime
	bundle *pki.Bundle
	// addr is the kubelet API's host:port on loopback.
	addr string
	// admin reaches the kubelet API as a member of system:masters.
	admin *rest.Config
	// stop stops the server and returns what Start returned.
	stop func() error
}

// startKubelet serves the kubelet API on a loopback port with a serving
// certificate for 127.0.0.1 signed by bundle's CA, until the test ends.
func startKubelet(t *testing.T, rt *containerdtest.Runtime, bundle *pki.Bundle, pods func() []*corev1.Pod) *kubeletEnv {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := bundle.SignServingCert("kubelet", []string{"127.0.0.1"}, key.Public(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert := tlsCert(t, certPEM, key)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Listener:        listener,
		TLS:             &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: bundle.CAPool()},
		Runtime:         rt.Client.Runtime,
		Pods:            pods,
		NodeName:        "n1",
		LogPollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("kubelet server did not stop within 30s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("kubelet server: %v", err)
		}
	})
	env := &kubeletEnv{rt: rt, bundle: bundle, addr: listener.Addr().String(), stop: stop}
	env.admin = &rest.Config{
		Host: "https://" + env.addr,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: bundle.CAPEM, CertData: bundle.AdminCertPEM, KeyData: bundle.AdminKeyPEM,
		},
	}
	return env
}

func tlsCert(t *testing.T, certPEM []byte, key crypto.Signer) tls.Certificate {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// client returns an HTTPS client of the kubelet API presenting cert, or no
// certificate when cert is nil.
func (e *kubeletEnv) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: e.bundle.CAPool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: time.Minute}
}

// adminClient is client with the admin certificate.
func (e *kubeletEnv) adminClient(t *testing.T) *http.Client {
	t.Helper()
	cert, err := tls.X509KeyPair(e.bundle.AdminCertPEM, e.bundle.AdminKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return e.client(&cert)
}

// testPod is a pod sandbox in the node's network, labeled as the kubelet
// labels its pods.
type testPod struct {
	namespace, name, uid string
	id                   string
	config               *runtimeapi.PodSandboxConfig
}

func runPod(t *testing.T, rt *containerdtest.Runtime, namespace, name, uid string) *testPod {
	t.Helper()
	labels := map[string]string{
		"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace, "io.kubernetes.pod.uid": uid,
	}
	config := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: namespace, Uid: uid},
		LogDirectory: filepath.Join(rt.Dir, "pods", namespace+"_"+name+"_"+uid),
		Labels:       labels,
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
		}},
	}
	if err := os.MkdirAll(config.LogDirectory, 0o755); err != nil {
		t.Fatal(err)
	}
	resp, err := rt.Client.Runtime.RunPodSandbox(context.Background(), &runtimeapi.RunPodSandboxRequest{Config: config})
	if err != nil {
		t.Fatalf("run pod sandbox %s: %v", name, err)
	}
	return &testPod{namespace: namespace, name: name, uid: uid, id: resp.PodSandboxId, config: config}
}

// containerSpec is what a test container runs.
type containerSpec struct {
	name    string
	attempt uint32
	command []string
	stdin   bool
	mounts  []*runtimeapi.Mount
}

// start creates and starts a busybox container in the pod.
func (p *testPod) start(t *testing.T, rt *containerdtest.Runtime, spec containerSpec) string {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{}
	for k, v := range p.config.Labels {
		labels[k] = v
	}
	labels["io.kubernetes.container.name"] = spec.name
	resp, err := rt.Client.Runtime.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: spec.name, Attempt: spec.attempt},
			Image:    &runtimeapi.ImageSpec{Image: containerdtest.BusyboxRef},
			Command:  spec.command,
			Labels:   labels,
			LogPath:  filepath.Join(spec.name, strconv.Itoa(int(spec.attempt))+".log"),
			Stdin:    spec.stdin,
			Mounts:   spec.mounts,
		},
		SandboxConfig: p.config,
	})
	if err != nil {
		t.Fatalf("create container %s: %v", spec.name, err)
	}
	if _, err := rt.Client.Runtime.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: resp.ContainerId}); err != nil {
		t.Fatalf("start container %s: %v", spec.name, err)
	}
	return resp.ContainerId
}

// waitExited polls until the container has exited.
func waitExited(t *testing.T, rt *containerdtest.Runtime, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := rt.Client.Runtime.ContainerStatus(context.Background(), &runtimeapi.ContainerStatusRequest{ContainerId: id})
		if err != nil {
			t.Fatal(err)
		}
		if st.Status.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %v", id, st.Status.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// waitHTTP polls url until it answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not serving: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

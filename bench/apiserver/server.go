package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// server is one running target: the processes that make it up and an
// admin client configuration.
type server struct {
	name string
	// procs are the processes, the API server first; memory and CPU rows
	// sum them.
	procs  []*benchkit.Process
	config *rest.Config
	// ready is how long the API server took from process start to its
	// first /readyz "ok"; storageReady is etcd's start to healthy, for
	// upstream only.
	ready, storageReady time.Duration
}

// stop stops the processes in reverse start order.
func (s *server) stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		errs = append(errs, s.procs[i].Stop())
	}
	return errors.Join(errs...)
}

// launcher starts a fresh instance of a target with its data under dir,
// which does not exist yet.
type launcher interface {
	start(ctx context.Context, dir string) (*server, error)
	// describe says what runs, for the table's header.
	describe() string
}

// tugLauncher starts `tug server`.
type tugLauncher struct {
	bin string
}

var _ launcher = tugLauncher{}

func (l tugLauncher) describe() string { return "tug server (" + l.bin + ")" }

func (l tugLauncher) start(ctx context.Context, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	// No node and no scheduler, as upstream runs no kubelet or
	// kube-scheduler here: with no node to bind to, a scheduler would
	// write an Unschedulable condition and an Event for every pod and
	// the figures would no longer be the API server's. tug's controllers
	// cannot be turned off; bare pods give them next to nothing to do.
	args := []string{"server", "--data-dir", dataDir, "--https-port", strconv.Itoa(ports[0]),
		"--bind-address", "127.0.0.1", "--disable-agent", "--disable-scheduler"}
	start := time.Now()
	p, err := benchkit.StartProcess(targetTug, l.bin, args, filepath.Join(dir, "tug.log"))
	if err != nil {
		return nil, err
	}
	s := &server{name: targetTug, procs: []*benchkit.Process{p}}
	if err := benchkit.WaitBody(ctx, p, fmt.Sprintf("https://127.0.0.1:%d/readyz", ports[0]), "ok", time.Minute); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	s.ready = time.Since(start)
	if s.config, err = clientcmd.BuildConfigFromFlags("", filepath.Join(dataDir, "kubeconfig.yaml")); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

// upstreamLauncher starts etcd, waits for it to be healthy, then starts
// kube-apiserver against it, both on loopback ports of their own (never
// the default ones, which another control plane may hold).
type upstreamLauncher struct {
	apiserver, etcd string
	pki             *pki
}

var _ launcher = (*upstreamLauncher)(nil)

func (l *upstreamLauncher) describe() string {
	return "kube-apiserver (" + l.apiserver + ") + etcd (" + l.etcd + ")"
}

func (l *upstreamLauncher) start(ctx context.Context, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := benchkit.FreePorts(3)
	if err != nil {
		return nil, err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peer := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	etcdArgs := []string{"--name", "default", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "default=" + peer, "--log-level", "warn"}
	start := time.Now()
	etcd, err := benchkit.StartProcess("etcd", l.etcd, etcdArgs, filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	s := &server{name: targetUpstream, procs: []*benchkit.Process{etcd}}
	if err := benchkit.WaitBody(ctx, etcd, client+"/health", `"health":"true"`, 30*time.Second); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	s.storageReady = time.Since(start)

	k := l.pki
	apiArgs := []string{
		"--etcd-servers=" + client,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		// The lease reconciler refuses a loopback advertise address.
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file=" + k.file("serving.crt"), "--tls-private-key-file=" + k.file("serving.key"),
		"--client-ca-file=" + k.file("ca.crt"),
		"--service-account-key-file=" + k.file("sa.pub"),
		"--service-account-signing-key-file=" + k.file("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
	}
	start = time.Now()
	api, err := benchkit.StartProcess("kube-apiserver", l.apiserver, apiArgs, filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, errors.Join(err, s.stop())
	}
	s.procs = []*benchkit.Process{api, etcd}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	if err := benchkit.WaitBody(ctx, api, "https://"+host+"/readyz", "ok", 2*time.Minute); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	s.ready = time.Since(start)
	s.config = &rest.Config{Host: "https://" + host, TLSClientConfig: rest.TLSClientConfig{
		CAData: k.caPEM, CertData: k.adminCertPEM, KeyData: k.adminKeyPEM,
	}}
	return s, nil
}

package etcdtest

import (
	"context"
	"os"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// New starts an etcd server for t in t.TempDir() and returns a client to it;
// both are stopped when t ends. Without the etcd binary the test is skipped,
// unless CI is set (CI installs etcd), where it fails.
func New(t testing.TB) *clientv3.Client {
	t.Helper()
	s := StartServer(t)
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// fastElection makes a one-member cluster elect itself in tens of
// milliseconds instead of about a second; with no peers, short timeouts
// cannot cost it its leadership.
var fastElection = []string{"--heartbeat-interval=10", "--election-timeout=100"}

// StartServer starts an etcd server for t in t.TempDir(), stopped when t
// ends, with the same skip rule as New.
func StartServer(t testing.TB) *Server {
	t.Helper()
	RequireBinary(t)
	s, err := Start(context.Background(), Options{Dir: t.TempDir(), ExtraArgs: fastElection})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// RequireBinary skips t when DefaultBinary is missing, or fails it when the
// CI environment variable is set.
func RequireBinary(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(DefaultBinary); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found; CI must install Debian's etcd-server package", DefaultBinary)
	}
	t.Skipf("%s not found: install Debian's etcd-server package to run etcd tests", DefaultBinary)
}

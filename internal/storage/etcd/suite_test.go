package etcd_test

import (
	"testing"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/etcd"
	"github.com/tugcluster/tug/internal/storage/etcd/etcdtest"
	"github.com/tugcluster/tug/internal/storage/storagetest"
)

// factory starts a fresh etcd server per test: compaction is cluster-wide,
// so tests cannot share one.
func factory(t testing.TB) storage.Backend {
	b, err := etcd.New(etcdtest.New(t), etcd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackendSuite(t *testing.T) { storagetest.RunBackendSuite(t, factory) }

func TestStoreSuite(t *testing.T) { storagetest.RunStoreSuite(t, factory) }

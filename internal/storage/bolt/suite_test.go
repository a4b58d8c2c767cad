package bolt_test

import (
	"os"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/bolt"
	"github.com/tugcluster/tug/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	storagetest.MaybeRunCrashChild(openDir)
	os.Exit(m.Run())
}

// openDir opens the store in dir with short intervals, so that the suite's
// TTL cases and background applies happen within the test.
func openDir(dir string) (storage.Backend, error) {
	return bolt.Open(bolt.Options{Dir: dir, CompactInterval: 200 * time.Millisecond, ApplyInterval: 5 * time.Millisecond})
}

func factory(t testing.TB) storage.Backend {
	b, err := openDir(t.TempDir())
	if err != nil {
		t.Fatalf("open bolt backend: %v", err)
	}
	return b
}

func TestBackendSuite(t *testing.T) { storagetest.RunBackendSuite(t, factory) }

func TestStoreSuite(t *testing.T) { storagetest.RunStoreSuite(t, factory) }

// TestCrash kills a writer process 20 times mid-stream and checks that
// every acknowledged write survived each time.
func TestCrash(t *testing.T) { storagetest.RunCrashTest(t, openDir, 20) }

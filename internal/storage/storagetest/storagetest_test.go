package storagetest_test

import (
	"os"
	"testing"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	storagetest.MaybeRunCrashChild(openMemory)
	os.Exit(m.Run())
}

func memoryFactory(testing.TB) storage.Backend { return newMemory() }

func TestMemoryBackend(t *testing.T) { storagetest.RunBackendSuite(t, memoryFactory) }

func TestMemoryStore(t *testing.T) { storagetest.RunStoreSuite(t, memoryFactory) }

func TestMemoryCrash(t *testing.T) { storagetest.RunCrashTest(t, openMemory, 3) }

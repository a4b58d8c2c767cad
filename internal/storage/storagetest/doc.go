// Package storagetest is the one test suite every storage.Backend runs:
// RunBackendSuite checks the raw Backend contract, RunStoreSuite checks
// storage.Store with real Kubernetes objects on top of the backend, and
// RunCrashTest with MaybeRunCrashChild kill -9 a writer process and check
// that every acknowledged write survives.
//
// A backend package wires it up in a test file:
//
//	func TestMain(m *testing.M) {
//		storagetest.MaybeRunCrashChild(open)
//		os.Exit(m.Run())
//	}
//
//	func TestBackend(t *testing.T) { storagetest.RunBackendSuite(t, factory) }
//	func TestStore(t *testing.T)   { storagetest.RunStoreSuite(t, factory) }
//	func TestCrash(t *testing.T)   { storagetest.RunCrashTest(t, open, 3) }
//
// Cases that need history to be compacted on demand run only when the
// backend implements Compactor; otherwise they are skipped with a reason.
package storagetest

package volumes

// What the black-box tests in package volumes_test (which may import
// testutil, unlike this package's own tests: testutil reaches the kubelet
// that imports this package) use of the internals and test helpers.
var (
	Visible       = visible
	TestContext   = testContext
	PodWith       = podWith
	TearDownAtEnd = tearDown
	TestNow       = testNow
)

// SetBeforeSwap sets the hook that runs before ..data moves.
func SetBeforeSwap(m *Manager, f func()) { m.beforeSwap = f }

// RootDir is m's RootDir.
func RootDir(m *Manager) string { return m.opts.RootDir }

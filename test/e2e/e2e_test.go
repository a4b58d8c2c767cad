package e2e

import (
	"strings"
	"testing"
)

// minors are the kubectl releases every scenario runs with: the newest and
// the oldest the project supports.
var minors = []string{"1.33", "1.30"}

// scenario is one kubectl behavior. It runs in a namespace named after it,
// which the harness creates first and which is the default namespace of k.
type scenario struct {
	name string
	run  func(t *testing.T, k *kubectl)
}

// scenarios are every kubectl behavior the suite covers; each runs
// against one server per kubectl release, in parallel with the others.
var scenarios = []scenario{
	{"apply-client-side", testApplyClientSide},
	{"apply-server-side", testApplyServerSide},
	{"get-output", testGetOutput},
	{"get-select", testGetSelect},
	{"get-watch", testGetWatch},
	{"describe", testDescribe},
	{"edit", testEdit},
	{"patch", testPatch},
	{"label-annotate", testLabelAnnotate},
	{"scale", testScale},
	{"delete", testDelete},
	{"delete-cascade", testDeleteCascade},
	{"diff", testDiff},
	{"explain", testExplain},
	{"api-resources", testAPIResources},
	{"create", testCreate},
	{"replace-conflict", testReplaceConflict},
	{"invalid", testInvalid},
	{"wait", testWait},
	{"dry-run", testDryRun},
	{"version-raw", testVersionRaw},
}

// TestKubectl runs every scenario with each kubectl release against its
// own tug server.
func TestKubectl(t *testing.T) {
	for _, minor := range minors {
		t.Run(minor, func(t *testing.T) {
			t.Parallel()
			s := startServer(t)
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, newKubectl(t, s, minor, sc.name))
				})
			}
		})
	}
}

// fill replaces {{ns}} in a manifest with the scenario's namespace.
func fill(manifest string, k *kubectl) string {
	return strings.ReplaceAll(manifest, "{{ns}}", k.ns)
}

package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Diagnosis records why a pod fit no node.
type Diagnosis struct {
	// NodeToStatus holds each filtered node's rejection; AbsentStatus
	// stands for the nodes a pre-filter ruled out before filtering.
	NodeToStatus *framework.NodeToStatus
	// UnschedulablePlugins rejected the pod somewhere; the queue retries
	// it on the cluster events they registered.
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is the rejection of a pre-filter, which replaces the
	// per-node reasons.
	PreFilterMsg string
	// PostFilterMsg is what preemption reported.
	PostFilterMsg string
}

func (d *Diagnosis) addPlugin(st *framework.Status) {
	if st.IsRejected() && st.Plugin() != "" {
		d.UnschedulablePlugins.Insert(st.Plugin())
	}
}

// FitError is the failure of a pod that fits no node.
type FitError struct {
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error is the message users see in the PodScheduled condition and the
// FailedScheduling event, worded as kube-scheduler words it:
//
//	0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {k: v}. preemption: …
//
// Each reason is counted over the nodes that gave it; the "count reason"
// entries are sorted as strings and joined with ", ", and the list ends
// with a period. A pre-filter's rejection replaces the list. Preemption's
// message follows as it is.
func (e *FitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "0/%d nodes are available:", e.NumAllNodes)
	d := e.Diagnosis
	if d.PreFilterMsg != "" {
		b.WriteString(" " + d.PreFilterMsg + ".")
	} else if entries := e.reasonHistogram(); len(entries) > 0 {
		b.WriteString(" " + strings.Join(entries, ", ") + ".")
	}
	if d.PostFilterMsg != "" {
		b.WriteString(" " + d.PostFilterMsg)
	}
	return b.String()
}

func (e *FitError) reasonHistogram() []string {
	counts := map[string]int{}
	explicit := 0
	if m := e.Diagnosis.NodeToStatus; m != nil {
		for _, st := range m.Statuses {
			explicit++
			for _, r := range st.Reasons() {
				counts[r]++
			}
		}
		if absent := e.NumAllNodes - explicit; absent > 0 {
			for _, r := range m.AbsentStatus.Reasons() {
				counts[r] += absent
			}
		}
	}
	entries := make([]string, 0, len(counts))
	for r, n := range counts {
		entries = append(entries, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(entries)
	return entries
}

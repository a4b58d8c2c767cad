package podtopologyspread

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

func TestMatchCountsRecountsOnlyChangedNodes(t *testing.T) {
	pod := func(uid, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid), Namespace: "ns", Labels: map[string]string{"app": app}}}
	}
	ni := framework.NewNodeInfo(pod("a", "web"), pod("b", "web"), pod("c", "db"))
	ni.SetNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	q := countQuery("ns", sel)
	var m matchCounts
	count := func(i int, ni *framework.NodeInfo, ns, query string) int32 {
		p := m.begin([]string{query}, 2)
		defer m.end()
		return countAt(p.memo(query), i, ni, sel, ns)
	}
	if got := count(0, ni, "ns", q); got != 2 {
		t.Fatalf("first count = %d, want 2", got)
	}
	// Unchanged NodeInfo: the memo answers (pods swapped behind its back
	// are not looked at, which shows no recount happened).
	ni.Pods = nil
	if got := count(0, ni, "ns", q); got != 2 {
		t.Errorf("count of an unchanged NodeInfo = %d, want the memo's 2", got)
	}
	// Score reads the memo at the NodeInfo's SnapshotIndex.
	p := m.begin([]string{q}, 2)
	memo := p.memo(q)
	m.end()
	if got := lookupCount(memo, ni, sel, "ns"); got != 2 {
		t.Errorf("lookup of an unchanged NodeInfo = %d, want the memo's 2", got)
	}
	// A change bumps the generation: recounted, by both.
	ni.AddPod(pod("d", "web"))
	if got := lookupCount(memo, ni, sel, "ns"); got != 1 {
		t.Errorf("lookup after a change = %d, want 1 (only d is left)", got)
	}
	if got := count(0, ni, "ns", q); got != 1 {
		t.Errorf("count after a change = %d, want 1 (only d is left)", got)
	}
	// A copy of the node whose pods changed in nothing a selector sees
	// (a pod reported running: a new Generation, the same
	// LabelsGeneration) keeps the count; pods swapped behind the memo's
	// back show it was not recounted.
	running := ni.Clone()
	running.Generation++
	running.Pods = nil
	if got := lookupCount(memo, running, sel, "ns"); got != 1 {
		t.Errorf("lookup of a copy at the same labels generation = %d, want the memo's 1", got)
	}
	if got := count(0, running, "ns", q); got != 1 {
		t.Errorf("count of a copy at the same labels generation = %d, want the memo's 1", got)
	}
	// Another NodeInfo of the same node at another labels generation, or
	// of a replaced node object: recounted.
	other := framework.NewNodeInfo(pod("e", "web"), pod("f", "web"), pod("g", "web"))
	other.SetNode(ni.Node)
	other.LabelsGeneration = ni.LabelsGeneration + 100
	if got := lookupCount(memo, other, sel, "ns"); got != 3 {
		t.Errorf("lookup of another NodeInfo = %d, want 3", got)
	}
	if got := count(0, other, "ns", q); got != 3 {
		t.Errorf("count of another NodeInfo = %d, want 3", got)
	}
	replaced := other.Clone()
	replaced.Node = ni.Node.DeepCopy()
	replaced.Pods = replaced.Pods[:1]
	if got := count(0, replaced, "ns", q); got != 1 {
		t.Errorf("count of a replaced node object = %d, want 1", got)
	}
	// The same NodeInfo at another position is counted there afresh.
	if got := count(1, ni, "ns", q); got != 1 {
		t.Errorf("count at another position = %d, want 1", got)
	}
	// Another namespace or selector is another query.
	if got := count(0, other, "elsewhere", countQuery("elsewhere", sel)); got != 0 {
		t.Errorf("count in another namespace = %d, want 0", got)
	}
}

package nodelifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2"
)

func TestEvictionDeadline(t *testing.T) {
	unreachable := taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, t0)
	later := taint("example.com/maintenance", corev1.TaintEffectNoExecute, t0.Add(10*time.Second))
	noTime := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	firstSeen := t0.Add(time.Hour)
	for _, tc := range []struct {
		name        string
		taints      []corev1.Taint
		tolerations []corev1.Toleration
		want        time.Time // zero: at once
		wantEvict   bool
	}{{
		name:        "no taints",
		tolerations: []corev1.Toleration{tolerateFor(corev1.TaintNodeUnreachable, 5)},
	}, {
		name:      "not tolerated",
		taints:    []corev1.Taint{unreachable},
		wantEvict: true,
	}, {
		name:        "tolerated for a while",
		taints:      []corev1.Taint{unreachable},
		tolerations: []corev1.Toleration{tolerateFor(corev1.TaintNodeUnreachable, 30)},
		want:        t0.Add(30 * time.Second), wantEvict: true,
	}, {
		name:        "tolerated forever",
		taints:      []corev1.Taint{unreachable},
		tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable)},
	}, {
		name:        "the shortest of two matching tolerations wins",
		taints:      []corev1.Taint{unreachable},
		tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable), tolerateFor("", 60)},
		want:        t0.Add(60 * time.Second), wantEvict: true,
	}, {
		name:   "each taint counts from its own timeAdded",
		taints: []corev1.Taint{unreachable, later},
		tolerations: []corev1.Toleration{tolerateFor(corev1.TaintNodeUnreachable, 30),
			tolerateFor("example.com/maintenance", 15)},
		want: t0.Add(25 * time.Second), wantEvict: true,
	}, {
		name:        "one of two taints not tolerated",
		taints:      []corev1.Taint{unreachable, later},
		tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable)},
		wantEvict:   true,
	}, {
		name:        "a NoSchedule toleration does not help",
		taints:      []corev1.Taint{unreachable},
		tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		wantEvict:   true,
	}, {
		name:        "negative seconds mean now",
		taints:      []corev1.Taint{unreachable},
		tolerations: []corev1.Toleration{tolerateFor(corev1.TaintNodeUnreachable, -5)},
		want:        t0, wantEvict: true,
	}, {
		name:        "a taint without timeAdded counts from first sight",
		taints:      []corev1.Taint{noTime},
		tolerations: []corev1.Toleration{tolerateFor(corev1.TaintNodeNotReady, 5)},
		want:        firstSeen.Add(5 * time.Second), wantEvict: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, evict := evictionDeadline(klog.Background(), tc.tolerations, tc.taints, func() time.Time { return firstSeen })
			if evict != tc.wantEvict || !got.Equal(tc.want) {
				t.Errorf("evictionDeadline = %v, %v; want %v, %v", got, evict, tc.want, tc.wantEvict)
			}
		})
	}
}

// unreachableNode is a node tainted unreachable:NoExecute at t0.
func unreachableNode() *corev1.Node {
	node := makeNode("n1", corev1.ConditionUnknown, t0.Add(-time.Minute))
	node.Spec.Taints = []corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute, t0)}
	return node
}

func TestUntoleratedPodIsEvictedAtOnce(t *testing.T) {
	pod := makePod("p", "n1", tolerate("example.com/other"))
	h := newHarness(t, unreachableNode(), pod)
	if got := h.syncPod("default/p"); got != -1 {
		t.Fatalf("requeue after %v, want none", got)
	}
	if h.pod("p") != nil {
		t.Error("pod still exists")
	}
	var patched, deleted bool
	for _, a := range h.client.Actions() {
		switch a := a.(type) {
		case clienttesting.PatchAction:
			patched = a.GetSubresource() == "status" &&
				strings.Contains(string(a.GetPatch()), `"type":"DisruptionTarget"`) &&
				strings.Contains(string(a.GetPatch()), `"reason":"DeletionByTaintManager"`)
		case clienttesting.DeleteAction:
			pre := a.GetDeleteOptions().Preconditions
			deleted = patched && pre != nil && pre.UID != nil && *pre.UID == pod.UID
		}
	}
	if !patched || !deleted {
		t.Errorf("want a DisruptionTarget status patch, then a delete with the pod's UID; got %v", h.client.Actions())
	}
	want := []string{"Normal TaintManagerEviction Marking for deletion Pod default/p"}
	if diff := cmp.Diff(want, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTolerationSecondsDelayEviction(t *testing.T) {
	h := newHarness(t, unreachableNode(), makePod("p", "n1", tolerateFor(corev1.TaintNodeUnreachable, 30)))
	h.advance(10 * time.Second)
	if got := h.syncPod("default/p"); got != 20*time.Second {
		t.Fatalf("10s after the taint: requeue after %v, want 20s", got)
	}
	if h.pod("p") == nil {
		t.Fatal("pod deleted before its tolerationSeconds")
	}
	h.advance(20 * time.Second)
	if got := h.syncPod("default/p"); got != -1 {
		t.Fatalf("at the deadline: requeue after %v, want none", got)
	}
	if h.pod("p") != nil {
		t.Error("pod still exists after its tolerationSeconds")
	}
}

func TestPodsThatStay(t *testing.T) {
	terminating := makePod("terminating", "n1")
	terminating.DeletionTimestamp = &metav1.Time{Time: t0}
	terminating.Finalizers = []string{"example.com/hold"}
	for _, pod := range []*corev1.Pod{
		makePod("forever", "n1", tolerate(corev1.TaintNodeUnreachable)),
		terminating,
		makePod("elsewhere", "n2"),
		makePod("unscheduled", ""),
	} {
		t.Run(pod.Name, func(t *testing.T) {
			h := newHarness(t, unreachableNode(), makeNode("n2", corev1.ConditionTrue, t0), pod)
			if got := h.syncPod("default/" + pod.Name); got != -1 {
				t.Fatalf("requeue after %v, want none", got)
			}
			if actions := h.client.Actions(); len(actions) != 0 {
				t.Errorf("wrote %v, want nothing", actions)
			}
			if events := h.events(); len(events) != 0 {
				t.Errorf("events %v, want none", events)
			}
		})
	}
}

func TestEvictionIsCancelled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(h *harness)
	}{{
		name: "taint removed",
		change: func(h *harness) {
			node := h.node("n1")
			node.Spec.Taints = nil
			h.updateNode(node)
		},
	}, {
		name: "tolerations changed",
		change: func(h *harness) {
			pod := h.pod("p")
			pod.Spec.Tolerations = []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable)}
			h.updatePod(pod)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, unreachableNode(), makePod("p", "n1", tolerateFor(corev1.TaintNodeUnreachable, 30)))
			if got := h.syncPod("default/p"); got != 30*time.Second {
				t.Fatalf("requeue after %v, want 30s", got)
			}
			tc.change(h)
			h.advance(30 * time.Second)
			if got := h.syncPod("default/p"); got != -1 {
				t.Fatalf("after the change: requeue after %v, want none", got)
			}
			if h.pod("p") == nil {
				t.Error("pod deleted though its eviction was canceled")
			}
			want := []string{"Normal TaintManagerEviction Cancelling deletion of Pod default/p"} //nolint:misspell // upstream's wording
			if diff := cmp.Diff(want, h.events()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// A longer tolerationSeconds moves the deadline out; the earlier requeue
// finds nothing to do yet and asks again.
func TestLongerTolerationMovesDeadline(t *testing.T) {
	h := newHarness(t, unreachableNode(), makePod("p", "n1", tolerateFor(corev1.TaintNodeUnreachable, 30)))
	h.syncPod("default/p")
	pod := h.pod("p")
	pod.Spec.Tolerations = []corev1.Toleration{tolerateFor(corev1.TaintNodeUnreachable, 100)}
	h.updatePod(pod)
	h.advance(30 * time.Second)
	if got := h.syncPod("default/p"); got != 70*time.Second {
		t.Fatalf("requeue after %v, want 70s", got)
	}
	if h.pod("p") == nil {
		t.Error("pod deleted at the old deadline")
	}
}

// A taint without timeAdded is counted from when the pod was first found
// waiting on it.
func TestTaintWithoutTimeAdded(t *testing.T) {
	node := unreachableNode()
	node.Spec.Taints[0].TimeAdded = nil
	h := newHarness(t, node, makePod("p", "n1", tolerateFor(corev1.TaintNodeUnreachable, 30)))
	h.advance(time.Hour)
	if got := h.syncPod("default/p"); got != 30*time.Second {
		t.Fatalf("first sight: requeue after %v, want 30s", got)
	}
	h.advance(10 * time.Second)
	if got := h.syncPod("default/p"); got != 20*time.Second {
		t.Fatalf("10s later: requeue after %v, want 20s", got)
	}
}

// A deleted pod's pending eviction is forgotten without an Event.
func TestDeletedPodIsForgotten(t *testing.T) {
	h := newHarness(t, unreachableNode(), makePod("p", "n1", tolerateFor(corev1.TaintNodeUnreachable, 30)))
	h.syncPod("default/p")
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.syncPod("default/p"); got != -1 {
		t.Fatalf("requeue after %v, want none", got)
	}
	if len(h.c.pending) != 0 || len(h.events()) != 0 {
		t.Errorf("pending %v, events %v; want neither", h.c.pending, h.events())
	}
}

package replicaset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// podOpt changes a test pod.
type podOpt func(*corev1.Pod)

func testPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(t0)},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

func readySince(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t),
		})
	}
}

func created(t time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t) }
}

func restarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "c", RestartCount: n})
	}
}

func cost(v string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{deletionCostAnnotation: v} }
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

func TestPodsToDelete(t *testing.T) {
	tests := []struct {
		name       string
		candidates []*corev1.Pod
		related    []*corev1.Pod // nil: the candidates
		n          int
		want       []string
	}{
		{
			name: "unassigned before assigned",
			candidates: []*corev1.Pod{
				testPod("assigned", onNode("n1")), testPod("unassigned"),
			},
			n: 1, want: []string{"unassigned"},
		},
		{
			name: "pending before unknown before running",
			candidates: []*corev1.Pod{
				testPod("running", onNode("n1"), phase(corev1.PodRunning)),
				testPod("unknown", onNode("n2"), phase(corev1.PodUnknown)),
				testPod("pending", onNode("n3"), phase(corev1.PodPending)),
			},
			n: 3, want: []string{"pending", "unknown", "running"},
		},
		{
			name: "not ready before ready",
			candidates: []*corev1.Pod{
				testPod("ready", onNode("n1"), readySince(t0)),
				testPod("notready", onNode("n2"), phase(corev1.PodRunning)),
			},
			n: 1, want: []string{"notready"},
		},
		{
			name: "lower deletion cost first",
			candidates: []*corev1.Pod{
				testPod("expensive", onNode("n1"), readySince(t0), cost("100")),
				testPod("cheap", onNode("n2"), readySince(t0), cost("-5")),
				testPod("default", onNode("n3"), readySince(t0)),
			},
			n: 3, want: []string{"cheap", "default", "expensive"},
		},
		{
			name: "crowded node first",
			candidates: []*corev1.Pod{
				testPod("alone", onNode("n1"), readySince(t0)),
				testPod("crowded", onNode("n2"), readySince(t0)),
			},
			related: []*corev1.Pod{
				testPod("alone", onNode("n1")), testPod("crowded", onNode("n2")), testPod("sibling", onNode("n2")),
			},
			n: 1, want: []string{"crowded"},
		},
		{
			name: "more recently ready first",
			candidates: []*corev1.Pod{
				testPod("old", onNode("n1"), readySince(t0)),
				testPod("recent", onNode("n2"), readySince(t0.Add(time.Minute))),
			},
			n: 1, want: []string{"recent"},
		},
		{
			name: "more restarts first",
			candidates: []*corev1.Pod{
				testPod("stable", onNode("n1"), readySince(t0), restarts(1)),
				testPod("flappy", onNode("n2"), readySince(t0), restarts(7)),
			},
			n: 1, want: []string{"flappy"},
		},
		{
			name: "newer first",
			candidates: []*corev1.Pod{
				testPod("older", onNode("n1"), created(t0)),
				testPod("newer", onNode("n2"), created(t0.Add(time.Second))),
			},
			n: 1, want: []string{"newer"},
		},
		{
			name: "assignment outranks readiness",
			candidates: []*corev1.Pod{
				testPod("unassigned"),
				testPod("notready", onNode("n1"), phase(corev1.PodRunning)),
				testPod("ready", onNode("n2"), readySince(t0)),
			},
			n: 2, want: []string{"unassigned", "notready"},
		},
		{
			name:       "all when n covers every pod",
			candidates: []*corev1.Pod{testPod("a"), testPod("b")},
			n:          5, want: []string{"a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			related := tt.related
			if related == nil {
				related = tt.candidates
			}
			perNode := map[string]int{}
			for _, o := range withAllFacts(related) {
				countOnNode(perNode, &o)
			}
			got := names(podsToDelete(withAllFacts(tt.candidates), perNode, tt.n))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("podsToDelete (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFirstRankedIsSortedPrefix checks the heap selection against sorting
// every pod, over sets with many ties on the leading keys, for every n.
func TestFirstRankedIsSortedPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		candidates := make([]*corev1.Pod, 40+round*7)
		for i := range candidates {
			var opts []podOpt
			if rng.IntN(4) > 0 {
				opts = append(opts, onNode(fmt.Sprintf("n%d", rng.IntN(5))))
			}
			switch rng.IntN(3) {
			case 0:
				opts = append(opts, phase(corev1.PodRunning))
			case 1:
				opts = append(opts, readySince(t0.Add(time.Duration(rng.IntN(3))*time.Minute)))
			}
			candidates[i] = testPod(fmt.Sprintf("p%03d", rng.IntN(1000)*1000+i), opts...)
		}
		sorted := make([]rankedPod, len(candidates))
		for i, pod := range candidates {
			sorted[i] = newRankedPod(pod, rng.IntN(3))
		}
		ranked := slices.Clone(sorted)
		slices.SortFunc(sorted, compareForDeletion)
		for n := 0; n <= len(candidates); n++ {
			got := firstRanked(slices.Clone(ranked), n)
			if len(got) != n {
				t.Fatalf("round %d, n %d: got %d pods", round, n, len(got))
			}
			for i := range got {
				if got[i].pod != sorted[i].pod {
					t.Fatalf("round %d, n %d: position %d is %s, sorting puts %s there", round, n, i, got[i].pod.Name, sorted[i].pod.Name)
				}
			}
		}
	}
}

// withAllFacts files pods with their facts, as the controller's OwnedSets
// does.
func withAllFacts(pods []*corev1.Pod) []ownedPod {
	out := make([]ownedPod, len(pods))
	for i, pod := range pods {
		out[i] = ownedPod{Obj: pod, Facts: factsOf(pod, &labelForms{})}
	}
	return out
}

// TestSelectorMatcherFollowsLabelSets: pods with equal labels share one
// label string, and the matcher answers each pod by its own labels even
// as consecutive pods alternate between label sets.
func TestSelectorMatcherFollowsLabelSets(t *testing.T) {
	var forms labelForms
	withLabels := func(name string, lbls map[string]string) ownedPod {
		p := testPod(name)
		p.Labels = lbls
		return ownedPod{Obj: p, Facts: factsOf(p, &forms)}
	}
	pods := []ownedPod{
		withLabels("a", map[string]string{"app": "web", "tier": "front"}),
		withLabels("b", map[string]string{"tier": "front", "app": "web"}),
		withLabels("c", map[string]string{"app": "db"}),
		withLabels("d", map[string]string{"app": "web", "tier": "front"}),
		withLabels("e", nil),
		withLabels("f", map[string]string{"app": "web"}),
	}
	if unsafe.StringData(pods[0].Facts.labels) != unsafe.StringData(pods[1].Facts.labels) {
		t.Errorf("equal label sets got separate strings %q and %q", pods[0].Facts.labels, pods[1].Facts.labels)
	}
	m := selectorMatcher{selector: labels.SelectorFromSet(labels.Set{"app": "web", "tier": "front"})}
	want := []bool{true, true, false, true, false, false}
	for i := range pods {
		if got := m.matches(&pods[i]); got != want[i] {
			t.Errorf("pod %s with labels %q: matched %v, want %v", pods[i].Obj.Name, pods[i].Facts.labels, got, want[i])
		}
	}
}

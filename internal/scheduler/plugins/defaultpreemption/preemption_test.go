package defaultpreemption

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/framework/frameworktest"
	"github.com/tugcluster/tug/internal/scheduler/plugins/interpodaffinity"
)

// scenario is a cluster, a pod that fits nowhere, and what preemption
// should do about it.
type scenario struct {
	nodes []*framework.NodeInfo
	pod   *corev1.Pod
	pdbs  []*policyv1.PodDisruptionBudget
	// nominated pods, by node, that are not bound yet.
	nominated map[string][]*corev1.Pod
	// unresolvable nodes get an UnschedulableAndUnresolvable filter status
	// (as if, say, a taint kept the pod away).
	unresolvable []string
	// affinity adds the InterPodAffinity plugin to the filters.
	affinity bool
}

// outcome is what a scenario led to.
type outcome struct {
	Code      framework.Code
	Message   string
	Nominated string // result's NominatedNodeName, "-" for a nil result
	// Deleted are the pods gone from the API, sorted.
	Deleted []string
	// PodNomination is the preemptor's status.nominatedNodeName afterwards.
	PodNomination string
}

// run sets up the handle for sc, runs the filters and then PostFilter,
// and reports the outcome.
func (sc *scenario) run(t *testing.T) (outcome, *frameworktest.Handle) {
	t.Helper()
	ctx := context.Background()
	objs := []runtime.Object{sc.pod}
	var all []*corev1.Pod
	for _, ni := range sc.nodes {
		for _, pi := range ni.Pods {
			all = append(all, pi.Pod)
			objs = append(objs, pi.Pod)
		}
	}
	for _, pods := range sc.nominated {
		for _, p := range pods {
			objs = append(objs, p)
		}
	}
	for _, pdb := range sc.pdbs {
		objs = append(objs, pdb)
	}
	h := frameworktest.NewHandle(sc.nodes, objs...)
	for node, pods := range sc.nominated {
		for _, p := range pods {
			h.Nominated[node] = append(h.Nominated[node], framework.NewPodInfo(p))
		}
	}
	p, err := New(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.(*DefaultPreemption)
	h.Plugins = []framework.Plugin{cpuFit{}}
	if sc.affinity {
		ipa, err := interpodaffinity.New(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		h.Plugins = append(h.Plugins, ipa)
	}
	h.Start(t)

	state := framework.NewCycleState()
	if st := h.PreFilter(ctx, state, sc.pod); !st.IsSuccess() {
		t.Fatalf("PreFilter: %v", st.Message())
	}
	filtered := h.FilterAll(ctx, state, sc.pod)
	for _, name := range sc.unresolvable {
		filtered.Statuses[name] = framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint")
	}
	for name, st := range filtered.Statuses {
		if st.IsSuccess() {
			t.Fatalf("scenario broken: pod fits node %s", name)
		}
	}
	podsBefore := map[string]int{}
	for _, ni := range sc.nodes {
		podsBefore[ni.NodeName()] = len(ni.Pods)
	}

	result, st := pl.PostFilter(ctx, state, sc.pod, filtered)

	got := outcome{Code: st.Code(), Message: st.Message(), Nominated: "-"}
	if result != nil {
		got.Nominated = result.NominatedNodeName
	}
	for _, p := range all {
		_, err := h.Client.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			got.Deleted = append(got.Deleted, p.Name)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got.Deleted)
	preemptor, err := h.Client.CoreV1().Pods(sc.pod.Namespace).Get(ctx, sc.pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.PodNomination = preemptor.Status.NominatedNodeName
	for _, ni := range sc.nodes {
		if len(ni.Pods) != podsBefore[ni.NodeName()] {
			t.Errorf("PostFilter changed the snapshot's node %s", ni.NodeName())
		}
	}
	return got, h
}

func TestPostFilter(t *testing.T) {
	preempted := func(node string, victims ...string) outcome {
		return outcome{Code: framework.Success, Nominated: node, Deleted: victims, PodNomination: node}
	}
	failed := func(msg string) outcome {
		return outcome{Code: framework.Unschedulable, Message: msg, Nominated: ""}
	}
	tests := []struct {
		name string
		sc   scenario
		want outcome
	}{
		{
			name: "picks the node with the lowest-priority victim",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("mid", 10, 1000).obj()),
					makeNode("n2", 1000, makePod("low", 5, 1000).obj()),
					makeNode("n3", 1000, makePod("high", 200, 1000).obj()),
				},
				pod: makePod("p", 100, 500).obj(),
			},
			want: preempted("n2", "low"),
		},
		{
			name: "reprieves victims that need not go, most important first",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 3000, makePod("a", 3, 1000).obj(), makePod("b", 1, 1000).obj(), makePod("c", 2, 1000).obj()),
				},
				pod: makePod("p", 100, 1000).obj(),
			},
			want: preempted("n1", "b"),
		},
		{
			name: "evicts as many as needed",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 3000, makePod("a", 3, 1000).obj(), makePod("b", 1, 1000).obj(), makePod("c", 2, 1000).obj()),
				},
				pod: makePod("p", 100, 2000).obj(),
			},
			want: preempted("n1", "b", "c"),
		},
		{
			name: "pods of equal or higher priority are never victims",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 2000, makePod("same", 100, 1000).obj(), makePod("low", 1, 500).obj()),
				},
				pod: makePod("p", 100, 1500).obj(),
			},
			want: failed("preemption: 0/1 nodes are available: 1 Insufficient cpu."),
		},
		{
			name: "preemptionPolicy Never",
			sc: scenario{
				nodes: []*framework.NodeInfo{makeNode("n1", 1000, makePod("low", 1, 1000).obj())},
				pod:   makePod("p", 100, 500).never().obj(),
			},
			want: outcome{Code: framework.Unschedulable, Message: "preemption: not eligible due to preemptionPolicy=Never.", Nominated: "-"},
		},
		{
			name: "prefers a node whose victims break no disruption budget",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("guarded", 1, 1000).labels("app", "guarded").obj()),
					makeNode("n2", 1000, makePod("free", 50, 1000).labels("app", "free").obj()),
				},
				pod:  makePod("p", 100, 1000).obj(),
				pdbs: []*policyv1.PodDisruptionBudget{makePDB("guarded", 0), makePDB("free", 3)},
			},
			want: preempted("n2", "free"),
		},
		{
			name: "a budget with room is no obstacle",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("guarded", 1, 1000).labels("app", "guarded").obj()),
					makeNode("n2", 1000, makePod("free", 50, 1000).labels("app", "free").obj()),
				},
				pod:  makePod("p", 100, 1000).obj(),
				pdbs: []*policyv1.PodDisruptionBudget{makePDB("guarded", 1)},
			},
			want: preempted("n1", "guarded"),
		},
		{
			name: "breaks a budget when nothing else helps",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("guarded", 1, 1000).labels("app", "guarded").obj()),
				},
				pod:  makePod("p", 100, 1000).obj(),
				pdbs: []*policyv1.PodDisruptionBudget{makePDB("guarded", 0)},
			},
			want: preempted("n1", "guarded"),
		},
		{
			name: "reprieves budget-protected pods first",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 2000,
						makePod("guarded", 5, 1000).labels("app", "guarded").obj(),
						makePod("free", 1, 1000).labels("app", "free").obj()),
				},
				pod:  makePod("p", 100, 1000).obj(),
				pdbs: []*policyv1.PodDisruptionBudget{makePDB("guarded", 0)},
			},
			want: preempted("n1", "free"),
		},
		{
			name: "unresolvable nodes are no candidates",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("lowest", 1, 1000).obj()),
					makeNode("n2", 1000, makePod("low", 5, 1000).obj()),
				},
				pod:          makePod("p", 100, 1000).obj(),
				unresolvable: []string{"n1"},
			},
			want: preempted("n2", "low"),
		},
		{
			name: "all nodes unresolvable",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("a", 1, 1000).obj()),
					makeNode("n2", 1000, makePod("b", 1, 1000).obj()),
				},
				pod:          makePod("p", 100, 1000).nominatedTo("n2").obj(),
				unresolvable: []string{"n1", "n2"},
			},
			want: failed("preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."),
		},
		{
			name: "no victims on one node, too small on another",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("high", 500, 1000).obj()),
					makeNode("n2", 1000, makePod("low", 1, 500).obj()),
				},
				pod: makePod("p", 100, 2000).obj(),
			},
			want: failed("preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod."),
		},
		{
			name: "a pod waiting for its victims to terminate does not preempt again",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("going", 1, 1000).preempted().obj()),
					makeNode("n2", 1000, makePod("low", 1, 1000).obj()),
				},
				pod: makePod("p", 100, 1000).nominatedTo("n1").obj(),
			},
			want: outcome{
				Code: framework.Unschedulable, Message: "preemption: not eligible due to a terminating pod on the nominated node.",
				Nominated: "-", PodNomination: "n1",
			},
		},
		{
			name: "unless its nominated node became unresolvable",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("going", 1, 1000).preempted().obj()),
					makeNode("n2", 1000, makePod("low", 1, 1000).obj()),
				},
				pod:          makePod("p", 100, 1000).nominatedTo("n1").obj(),
				unresolvable: []string{"n1"},
			},
			want: preempted("n2", "low"),
		},
		{
			name: "lowest highest-victim priority wins over fewer victims",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("one", 8, 1000).obj()),
					makeNode("n2", 1000, makePod("two", 2, 500).obj(), makePod("three", 3, 500).obj()),
				},
				pod: makePod("p", 100, 1000).obj(),
			},
			want: preempted("n2", "three", "two"),
		},
		{
			name: "equal priorities: the fewest victims (smallest sum)",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("a", 1, 500).obj(), makePod("b", 1, 500).obj()),
					makeNode("n2", 1000, makePod("c", 1, 1000).obj()),
				},
				pod: makePod("p", 100, 1000).obj(),
			},
			want: preempted("n2", "c"),
		},
		{
			name: "equal otherwise: the youngest victims",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("old", 1, 1000).obj()),
					makeNode("n2", 1000, makePod("young", 1, 1000).startedAfter(time.Hour).obj()),
					makeNode("n3", 1000, makePod("middle", 1, 1000).startedAfter(time.Minute).obj()),
				},
				pod: makePod("p", 100, 1000).obj(),
			},
			want: preempted("n2", "young"),
		},
		{
			name: "room promised to a more important nominated pod is not free",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 1000, makePod("lowest", 1, 1000).obj()),
					makeNode("n2", 1000, makePod("low", 5, 1000).obj()),
				},
				pod:       makePod("p", 100, 1000).obj(),
				nominated: map[string][]*corev1.Pod{"n1": {makePod("vip", 200, 1000).nominatedTo("n1").obj()}},
			},
			want: preempted("n2", "low"),
		},
		{
			name: "anti-affinity to a lower-priority pod is resolved by evicting it",
			sc: scenario{
				nodes: []*framework.NodeInfo{
					makeNode("n1", 4000, makePod("web-low", 1, 100).labels("app", "web").obj()),
					makeNode("n2", 4000, makePod("web-high", 500, 100).labels("app", "web").obj()),
					makeNode("n3", 4000, makePod("full", 1000, 4000).obj()),
				},
				pod:      makePod("p", 100, 1000).antiAffinity(corev1.LabelHostname, "web").obj(),
				affinity: true,
			},
			want: preempted("n1", "web-low"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := tt.sc.run(t)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

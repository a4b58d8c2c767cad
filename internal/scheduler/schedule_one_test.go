package scheduler

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// failureMessage runs one scheduling attempt and returns what the pod's
// condition and event would say.
func failureMessage(t *testing.T, s *Scheduler, pod *corev1.Pod) string {
	t.Helper()
	state := framework.NewCycleState()
	_, err := s.schedulePod(context.Background(), state, pod)
	if err == nil {
		t.Fatalf("pod was scheduled")
	}
	return s.diagnose(context.Background(), state, pod, err).err.Error()
}

func TestFailureMessages(t *testing.T) {
	taint := func() *testPlugin {
		return labelFilter("Taint", "tainted", "node(s) had untolerated taint {node-role: x}")
	}
	cases := []struct {
		name    string
		profile runtime.Profile
		plugins []*testPlugin
		nodes   []*corev1.Node
		pod     *corev1.Pod
	}{
		{
			name:    "filter reasons then preemption",
			profile: runtime.Profile{Filter: []string{"Taint", "Fit"}, PostFilter: []string{"Preempt"}},
			plugins: []*testPlugin{taint(), cpuFit(), postFilterSaying("preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.")},
			nodes: []*corev1.Node{
				makeNode("n1", "1", nil), makeNode("n2", "1", nil), makeNode("n3", "1", nil),
				makeNode("n4", "8", map[string]string{"tainted": ""}), makeNode("n5", "8", map[string]string{"tainted": ""}),
			},
			pod: makePod("p", "2"),
		},
		{
			name:    "without post-filter",
			profile: runtime.Profile{Filter: []string{"Fit"}},
			plugins: []*testPlugin{cpuFit()},
			nodes:   []*corev1.Node{makeNode("n1", "1", nil), makeNode("n2", "1", nil), makeNode("n3", "1", nil)},
			pod:     makePod("p", "2"),
		},
		{
			name:    "counts sort as text",
			profile: runtime.Profile{Filter: []string{"Affinity", "Fit"}},
			plugins: []*testPlugin{labelFilter("Affinity", "other", "node(s) didn't match Pod's node affinity/selector"), cpuFit()},
			nodes: func() []*corev1.Node {
				var out []*corev1.Node
				for i := range 12 {
					labels := map[string]string{"other": ""}
					if i < 2 {
						labels = nil
					}
					out = append(out, makeNode(fmt.Sprintf("n%02d", i), "1", labels))
				}
				return out
			}(),
			pod: makePod("p", "2"),
		},
		{
			name:    "several reasons on one node",
			profile: runtime.Profile{Filter: []string{"Both", "Name"}},
			plugins: []*testPlugin{
				{name: "Both", filter: func(_ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
					if ni.Node.Name == "n3" {
						return nil
					}
					return framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory")
				}},
				labelFilter("Name", "", "node(s) didn't match the requested node name"),
			},
			nodes: []*corev1.Node{makeNode("n1", "1", nil), makeNode("n2", "1", nil), makeNode("n3", "1", map[string]string{"": ""})},
			pod:   makePod("p", "1"),
		},
		{
			name:    "pre-filter rejection replaces the node reasons",
			profile: runtime.Profile{PreFilter: []string{"Spread"}, Filter: []string{"Fit"}, PostFilter: []string{"Preempt"}},
			plugins: []*testPlugin{
				{name: "Spread", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
					return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't match pod topology spread constraints (missing required label)")
				}},
				cpuFit(),
				postFilterSaying("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."),
			},
			nodes: []*corev1.Node{makeNode("n1", "1", nil), makeNode("n2", "1", nil), makeNode("n3", "1", nil)},
			pod:   makePod("p", "2"),
		},
		{
			name:    "nodes ruled out by a pre-filter result",
			profile: runtime.Profile{PreFilter: []string{"OnlyN1"}, Filter: []string{"OnlyN1", "Fit"}},
			plugins: []*testPlugin{
				{name: "OnlyN1", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
					return &framework.PreFilterResult{NodeNames: sets.New("n1")}, nil
				}},
				cpuFit(),
			},
			nodes: []*corev1.Node{makeNode("n1", "1", nil), makeNode("n2", "1", nil), makeNode("n3", "1", nil)},
			pod:   makePod("p", "2"),
		},
		{
			name:    "no nodes",
			profile: runtime.Profile{Filter: []string{"Fit"}},
			plugins: []*testPlugin{cpuFit()},
			pod:     makePod("p", "1"),
		},
	}
	var b strings.Builder
	for _, tt := range cases {
		s, _ := newTestScheduler(t, tt.profile, tt.plugins)
		for _, n := range tt.nodes {
			s.cache.AddNode(n)
		}
		fmt.Fprintf(&b, "== %s\n%s\n", tt.name, failureMessage(t, s, tt.pod))
	}
	golden := filepath.Join("testdata", "failure_messages.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("failure messages (-golden +got):\n%s", diff)
	}
}

func TestUnschedulablePluginsAreRecorded(t *testing.T) {
	s, _ := newTestScheduler(t, runtime.Profile{Filter: []string{"Taint", "Fit"}},
		[]*testPlugin{labelFilter("Taint", "tainted", "taint"), cpuFit()})
	s.cache.AddNode(makeNode("small", "1", nil))
	s.cache.AddNode(makeNode("tainted", "8", map[string]string{"tainted": ""}))
	state := framework.NewCycleState()
	_, err := s.schedulePod(context.Background(), state, makePod("p", "2"))
	f := s.diagnose(context.Background(), state, makePod("p", "2"), err)
	if diff := cmp.Diff(sets.New("Taint", "Fit"), f.plugins); diff != "" || !f.rejected {
		t.Errorf("rejected=%v, plugins (-want +got):\n%s", f.rejected, diff)
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tt := range []struct {
		nodes   int
		percent int32
		want    int
	}{
		{nodes: 10, want: 10},
		{nodes: 99, want: 99},
		{nodes: 100, want: 100},
		{nodes: 300, want: 144},   // 50 - 300/125 = 48%
		{nodes: 1000, want: 420},  // 42%
		{nodes: 5000, want: 500},  // 10%
		{nodes: 6000, want: 300},  // 2% is raised to 5%
		{nodes: 10000, want: 500}, // 5%
		{nodes: 1000, percent: 10, want: 100},
		{nodes: 1000, percent: 5, want: 100}, // never fewer than 100
		{nodes: 1000, percent: 50, want: 500},
		{nodes: 1000, percent: 100, want: 1000},
		{nodes: 50, percent: 10, want: 50},
	} {
		s := &Scheduler{opts: Options{PercentageOfNodesToScore: tt.percent}}
		if got := s.numFeasibleNodesToFind(tt.nodes); got != tt.want {
			t.Errorf("%d nodes at %d%%: %d, want %d", tt.nodes, tt.percent, got, tt.want)
		}
	}
}

func TestFilteringStopsAtEnoughNodesAndRotates(t *testing.T) {
	// Every third node is too small.
	fit := cpuFit()
	s, _ := newTestScheduler(t, runtime.Profile{Filter: []string{"Fit"}}, []*testPlugin{fit},
		func(o *Options) { o.PercentageOfNodesToScore = 10 })
	for i := range 300 {
		cpu := "4"
		if i%3 == 2 {
			cpu = "1"
		}
		s.cache.AddNode(makeNode(fmt.Sprintf("n%03d", i), cpu, nil))
	}
	s.cache.UpdateSnapshot(s.snapshot)
	find := func() (first string, feasible int, calls int32) {
		fit.filterCalls.Store(0)
		d := Diagnosis{NodeToStatus: &framework.NodeToStatus{Statuses: map[string]*framework.Status{}}, UnschedulablePlugins: sets.New[string]()}
		nodes, _ := s.snapshot.List()
		got, err := s.findNodesThatPassFilters(context.Background(), framework.NewCycleState(), makePod("p", "2"), &d, nodes)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.NodeToStatus.Statuses)+len(got) != int(fit.filterCalls.Load()) {
			t.Errorf("%d statuses and %d feasible nodes for %d filter calls", len(d.NodeToStatus.Statuses), len(got), fit.filterCalls.Load())
		}
		return got[0].Node.Name, len(got), fit.filterCalls.Load()
	}
	// 10% of 300 is 30, raised to the minimum of 100 feasible nodes. The
	// first round finds them in n000..n148 (49 too small); the next starts
	// at n149 (too small) and needs n149..n298; the third starts at n299
	// (too small) and wraps around to n000.
	for round, want := range []struct {
		first string
		calls int32
	}{{"n000", 149}, {"n150", 150}, {"n000", 150}} {
		first, feasible, calls := find()
		if first != want.first || feasible != 100 || calls != want.calls {
			t.Errorf("round %d: first %s, %d feasible, %d filter calls; want first %s, 100 feasible, %d calls",
				round, first, feasible, calls, want.first, want.calls)
		}
	}
}

func TestScoreWeights(t *testing.T) {
	preferA := &testPlugin{name: "PreferA", score: func(ni *framework.NodeInfo) int64 {
		if ni.Node.Name == "a" {
			return 40
		}
		return 0
	}}
	preferB := &testPlugin{name: "PreferB", score: func(ni *framework.NodeInfo) int64 {
		if ni.Node.Name == "b" {
			return 100
		}
		return 0
	}}
	for _, tt := range []struct {
		weightA, weightB int64
		want             string
	}{
		{weightA: 3, weightB: 1, want: "a"}, // 120 > 100
		{weightA: 2, weightB: 1, want: "b"}, // 80 < 100
		{weightA: 1, weightB: 0, want: "b"}, // weight 0 counts as 1
	} {
		profile := runtime.Profile{Score: []runtime.WeightedPlugin{{Name: "PreferA", Weight: tt.weightA}, {Name: "PreferB", Weight: tt.weightB}}}
		s, _ := newTestScheduler(t, profile, []*testPlugin{preferA, preferB})
		s.cache.AddNode(makeNode("a", "1", nil))
		s.cache.AddNode(makeNode("b", "1", nil))
		got, err := s.schedulePod(context.Background(), framework.NewCycleState(), makePod("p", "1"))
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("weights %d/%d: chose %s, want %s", tt.weightA, tt.weightB, got, tt.want)
		}
	}
}

func TestSelectHostBreaksTiesAtRandom(t *testing.T) {
	scores := []framework.NodeScore{{Name: "low", Score: 10}, {Name: "a", Score: 50}, {Name: "b", Score: 50}, {Name: "lower", Score: 5}, {Name: "c", Score: 50}}
	r := rand.New(rand.NewPCG(7, 11))
	counts := map[string]int{}
	for range 3000 {
		counts[selectHost(scores, r)]++
	}
	for _, name := range []string{"a", "b", "c"} {
		// A fair choice gives each about 1000; 850 is far outside chance.
		if counts[name] < 850 || counts[name] > 1150 {
			t.Errorf("tied node %s chosen %d times of 3000: %v", name, counts[name], counts)
		}
	}
	if counts["low"]+counts["lower"] != 0 {
		t.Errorf("a lower-scored node was chosen: %v", counts)
	}
}

func TestNominatedNodeIsTriedFirst(t *testing.T) {
	fit := cpuFit()
	s, _ := newTestScheduler(t, runtime.Profile{Filter: []string{"Fit"}}, []*testPlugin{fit})
	for _, n := range []string{"n1", "n2", "n3"} {
		s.cache.AddNode(makeNode(n, "4", nil))
	}
	s.nextStartNodeIndex = 1
	pod := makePod("p", "1")
	pod.Status.NominatedNodeName = "n3"
	got, err := s.schedulePod(context.Background(), framework.NewCycleState(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if got != "n3" || fit.filterCalls.Load() != 1 || s.nextStartNodeIndex != 1 {
		t.Errorf("chose %s after %d filter calls, next start %d; want n3 after 1 call, next start unchanged",
			got, fit.filterCalls.Load(), s.nextStartNodeIndex)
	}

	// When the nominated node no longer fits, every node is tried.
	pod = makePod("q", "8")
	pod.Status.NominatedNodeName = "n3"
	fit.filterCalls.Store(0)
	state := framework.NewCycleState()
	_, err = s.schedulePod(context.Background(), state, pod)
	if msg := s.diagnose(context.Background(), state, pod, err).err.Error(); msg != "0/3 nodes are available: 3 Insufficient cpu." || fit.filterCalls.Load() != 4 {
		t.Errorf("message %q after %d filter calls, want 3 nodes rejected after 4 calls", msg, fit.filterCalls.Load())
	}
}

package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

func newFramework(t *testing.T, profile runtime.Profile, nominator runtime.Nominator, plugins ...framework.Plugin) *runtime.Framework {
	t.Helper()
	f, err := runtime.New(context.Background(), runtime.Config{Registry: registryOf(plugins...), Profile: profile, Nominator: nominator, Parallelism: 4})
	if err != nil {
		t.Fatalf("runtime.New: %v", err)
	}
	return f
}

func TestNewChecksTheProfile(t *testing.T) {
	built := 0
	registry := runtime.Registry{
		"Both": func(context.Context, framework.Handle) (framework.Plugin, error) {
			built++
			return &testPlugin{name: "Both"}, nil
		},
		"FilterOnly": func(context.Context, framework.Handle) (framework.Plugin, error) {
			return filterOnly{"FilterOnly"}, nil
		},
		"Broken": func(context.Context, framework.Handle) (framework.Plugin, error) { return nil, errors.New("boom") },
	}
	for _, tt := range []struct {
		name    string
		profile runtime.Profile
		wantErr string
	}{
		{"plugin at several points", runtime.Profile{PreFilter: []string{"Both"}, Filter: []string{"Both", "FilterOnly"}, Score: []runtime.WeightedPlugin{{Name: "Both", Weight: 2}}}, ""},
		{"unknown plugin", runtime.Profile{Filter: []string{"Missing"}}, `scheduler plugin "Missing" is not registered`},
		{"wrong extension point", runtime.Profile{Score: []runtime.WeightedPlugin{{Name: "FilterOnly"}}}, `scheduler plugin "FilterOnly" is not a Score plugin`},
		{"factory error", runtime.Profile{Filter: []string{"Broken"}}, `build scheduler plugin "Broken": boom`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			built = 0
			_, err := runtime.New(context.Background(), runtime.Config{Registry: registry, Profile: tt.profile})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if built != 1 {
					t.Errorf("plugin built %d times, want once", built)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunPreFilterPlugins(t *testing.T) {
	skip := &testPlugin{name: "Skipper", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
		return nil, framework.NewStatus(framework.Skip)
	}}
	ab := &testPlugin{name: "AB", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) { return nodeSet("a", "b"), nil }}
	bc := &testPlugin{name: "BC", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) { return nodeSet("b", "c"), nil }}
	c := &testPlugin{name: "C", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) { return nodeSet("c"), nil }}
	reject := &testPlugin{name: "Rejecter", preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, "no way")
	}}
	all := []framework.Plugin{skip, ab, bc, c, reject}
	for _, tt := range []struct {
		name        string
		plugins     []string
		wantNodes   []string // nil: all nodes
		wantCode    framework.Code
		wantMessage string
		wantPlugin  string
		wantSkipped map[string]bool
	}{
		{name: "skip is recorded", plugins: []string{"Skipper"}, wantSkipped: map[string]bool{"Skipper": true}},
		{name: "results intersect", plugins: []string{"AB", "BC"}, wantNodes: []string{"b"}},
		{name: "one plugin empties the set", plugins: []string{"AB", "C"}, wantCode: framework.UnschedulableAndUnresolvable,
			wantMessage: "node(s) didn't satisfy plugin(s) [AB C] simultaneously", wantPlugin: "C"},
		{name: "rejection names its plugin", plugins: []string{"AB", "Rejecter"}, wantCode: framework.UnschedulableAndUnresolvable,
			wantMessage: "no way", wantPlugin: "Rejecter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFramework(t, runtime.Profile{PreFilter: tt.plugins}, nil, all...)
			state := framework.NewCycleState()
			res, st := f.RunPreFilterPlugins(context.Background(), state, makePod("p", 0, "1"), nil)
			if st.Code() != tt.wantCode || st.Message() != tt.wantMessage || st.Plugin() != tt.wantPlugin {
				t.Fatalf("status %v %q from %q, want %v %q from %q", st.Code(), st.Message(), st.Plugin(), tt.wantCode, tt.wantMessage, tt.wantPlugin)
			}
			if tt.wantCode != framework.Success {
				return
			}
			var got []string
			if res != nil {
				got = sortedList(res.NodeNames.UnsortedList())
			}
			if diff := cmp.Diff(tt.wantNodes, got); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSkipped, state.SkipFilterPlugins); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func sortedList(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRunFilterPlugins(t *testing.T) {
	shared := framework.NewStatus(framework.Unschedulable, "node(s) had untolerated taint {k: v}")
	taint := &testPlugin{name: "Taint", filter: func(*corev1.Pod, *framework.NodeInfo) *framework.Status { return shared }}
	fit := &testPlugin{name: "Fit", filter: cpuFit}
	broken := &testPlugin{name: "Broken", filter: func(*corev1.Pod, *framework.NodeInfo) *framework.Status {
		return framework.AsStatus(errors.New("disk on fire"))
	}}
	all := []framework.Plugin{taint, fit, broken}
	node := makeNodeInfo("n", "1")
	for _, tt := range []struct {
		name       string
		filters    []string
		skip       map[string]bool
		wantCode   framework.Code
		wantMsg    string
		wantPlugin string
	}{
		{name: "first rejection wins", filters: []string{"Taint", "Fit"}, wantCode: framework.Unschedulable,
			wantMsg: "node(s) had untolerated taint {k: v}", wantPlugin: "Taint"},
		{name: "skipped filter is not run", filters: []string{"Taint", "Fit"}, skip: map[string]bool{"Taint": true},
			wantCode: framework.Unschedulable, wantMsg: "Insufficient cpu", wantPlugin: "Fit"},
		{name: "errors are wrapped", filters: []string{"Broken"}, wantCode: framework.Error,
			wantMsg: `running Filter plugin "Broken": disk on fire`, wantPlugin: "Broken"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFramework(t, runtime.Profile{Filter: tt.filters}, nil, all...)
			state := framework.NewCycleState()
			state.SkipFilterPlugins = tt.skip
			taint.filterCalls.Store(0)
			st := f.RunFilterPlugins(context.Background(), state, makePod("p", 0, "2"), node)
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg || st.Plugin() != tt.wantPlugin {
				t.Errorf("status %v %q from %q, want %v %q from %q", st.Code(), st.Message(), st.Plugin(), tt.wantCode, tt.wantMsg, tt.wantPlugin)
			}
			if tt.skip["Taint"] && taint.filterCalls.Load() != 0 {
				t.Errorf("skipped filter ran")
			}
		})
	}
	if shared.Plugin() != "" {
		t.Errorf("the plugin's own status was changed to name %q", shared.Plugin())
	}
	t.Run("skipped at pre-filter is not run", func(t *testing.T) {
		skipper := &testPlugin{name: "SkipTaint",
			preFilter: func(*corev1.Pod) (*framework.PreFilterResult, *framework.Status) {
				return nil, framework.NewStatus(framework.Skip)
			},
			filter: func(*corev1.Pod, *framework.NodeInfo) *framework.Status { return shared }}
		f := newFramework(t, runtime.Profile{PreFilter: []string{"SkipTaint"}, Filter: []string{"SkipTaint", "Fit"}}, nil, skipper, fit)
		state := framework.NewCycleState()
		pod := makePod("p", 0, "2")
		if _, st := f.RunPreFilterPlugins(context.Background(), state, pod, nil); !st.IsSuccess() {
			t.Fatalf("pre-filter: %v", st)
		}
		for _, s := range []*framework.CycleState{state, state.Clone()} {
			if st := f.RunFilterPlugins(context.Background(), s, pod, node); st.Plugin() != "Fit" {
				t.Errorf("status from %q, want Fit's", st.Plugin())
			}
		}
		if n := skipper.filterCalls.Load(); n != 0 {
			t.Errorf("the filter skipped at pre-filter ran %d times", n)
		}
	})
}

func TestFilterWithNominatedPods(t *testing.T) {
	// NeedsCompany rejects empty nodes: it passes with the nominees
	// alone, but a pod must also fit without them (they may never come).
	needsCompany := &testPlugin{name: "NeedsCompany", filter: func(_ *corev1.Pod, ni *framework.NodeInfo) *framework.Status {
		if len(ni.Pods) == 0 {
			return framework.NewStatus(framework.Unschedulable, "node is empty")
		}
		return nil
	}}
	fit := &testPlugin{name: "Fit", filter: cpuFit}
	for _, tt := range []struct {
		name      string
		filters   []string
		nominated []*corev1.Pod
		pod       *corev1.Pod
		wantMsg   string
		wantAdds  int32
	}{
		{name: "higher priority nominee takes the room", filters: []string{"Fit"},
			nominated: []*corev1.Pod{makePod("nominee", 10, "3")}, pod: makePod("p", 5, "2"), wantMsg: "Insufficient cpu", wantAdds: 1},
		{name: "equal priority nominee takes the room", filters: []string{"Fit"},
			nominated: []*corev1.Pod{makePod("nominee", 5, "3")}, pod: makePod("p", 5, "2"), wantMsg: "Insufficient cpu", wantAdds: 1},
		{name: "lower priority nominee is ignored", filters: []string{"Fit"},
			nominated: []*corev1.Pod{makePod("nominee", 1, "3")}, pod: makePod("p", 5, "2")},
		{name: "the pod itself is ignored", filters: []string{"Fit"},
			nominated: []*corev1.Pod{makePod("p", 5, "2")}, pod: makePod("p", 5, "2")},
		{name: "must also fit without the nominees", filters: []string{"NeedsCompany"},
			nominated: []*corev1.Pod{makePod("nominee", 10, "1")}, pod: makePod("p", 5, "1"), wantMsg: "node is empty", wantAdds: 1},
		{name: "without nominees filters run once", filters: []string{"NeedsCompany"},
			pod: makePod("p", 5, "1"), wantMsg: "node is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var infos []*framework.PodInfo
			for _, p := range tt.nominated {
				infos = append(infos, framework.NewPodInfo(p))
			}
			f := newFramework(t, runtime.Profile{PreFilter: []string{"Fit"}, Filter: tt.filters}, staticNominator{"n": infos}, needsCompany, fit)
			fit.addPodCalls.Store(0)
			node := makeNodeInfo("n", "4")
			st := f.RunFilterPluginsWithNominatedPods(context.Background(), framework.NewCycleState(), tt.pod, node)
			if st.Message() != tt.wantMsg {
				t.Errorf("status %q, want %q", st.Message(), tt.wantMsg)
			}
			if got := fit.addPodCalls.Load(); got != tt.wantAdds {
				t.Errorf("AddPod called %d times, want %d", got, tt.wantAdds)
			}
			if len(node.Pods) != 0 {
				t.Errorf("the snapshot's NodeInfo was changed")
			}
		})
	}
}

func TestRunScorePlugins(t *testing.T) {
	nodes := []*framework.NodeInfo{makeNodeInfo("a", "1"), makeNodeInfo("b", "1"), makeNodeInfo("c", "1")}
	raw := map[string]int64{"a": 10, "b": 20, "c": 40}
	// Spread: raw scores normalized so the best node gets 100.
	spread := &testPlugin{name: "Spread",
		score: func(ni *framework.NodeInfo) (int64, *framework.Status) { return raw[ni.Node.Name], nil },
		normalize: func(scores []framework.NodeScore) *framework.Status {
			for i := range scores {
				scores[i].Score = scores[i].Score * 100 / 40
			}
			return nil
		}}
	prefA := &testPlugin{name: "PreferA", score: func(ni *framework.NodeInfo) (int64, *framework.Status) {
		if ni.Node.Name == "a" {
			return 100, nil
		}
		return 0, nil
	}}
	tooHigh := &testPlugin{name: "TooHigh", score: func(*framework.NodeInfo) (int64, *framework.Status) { return 101, nil }}
	all := []framework.Plugin{spread, prefA, tooHigh}
	for _, tt := range []struct {
		name    string
		score   []runtime.WeightedPlugin
		skip    map[string]bool
		want    map[string]int64
		wantErr string
	}{
		{name: "normalized and weighted", score: []runtime.WeightedPlugin{{Name: "Spread", Weight: 2}, {Name: "PreferA", Weight: 3}},
			want: map[string]int64{"a": 25*2 + 300, "b": 50 * 2, "c": 100 * 2}},
		{name: "weight 0 counts as 1", score: []runtime.WeightedPlugin{{Name: "Spread"}},
			want: map[string]int64{"a": 25, "b": 50, "c": 100}},
		{name: "skipped plugin does not score", score: []runtime.WeightedPlugin{{Name: "Spread", Weight: 2}, {Name: "PreferA", Weight: 3}},
			skip: map[string]bool{"PreferA": true}, want: map[string]int64{"a": 50, "b": 100, "c": 200}},
		{name: "out of range", score: []runtime.WeightedPlugin{{Name: "TooHigh"}}, wantErr: `score plugin "TooHigh" gave node`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFramework(t, runtime.Profile{Score: tt.score}, nil, all...)
			state := framework.NewCycleState()
			state.SkipScorePlugins = tt.skip
			scores, st := f.RunScorePlugins(context.Background(), state, makePod("p", 0, "1"), nodes)
			if tt.wantErr != "" {
				if st.Code() != framework.Error || !strings.Contains(st.Message(), tt.wantErr) {
					t.Fatalf("status %v %q, want an error containing %q", st.Code(), st.Message(), tt.wantErr)
				}
				return
			}
			if !st.IsSuccess() {
				t.Fatal(st.AsError())
			}
			got := map[string]int64{}
			for _, ns := range scores {
				got[ns.Name] = ns.Score
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunPostFilterPlugins(t *testing.T) {
	noVictims := &testPlugin{name: "Preempt", postFilter: func(*framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
		return nil, framework.NewStatus(framework.Unschedulable, "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")
	}}
	f := newFramework(t, runtime.Profile{PostFilter: []string{"Preempt"}}, nil, noVictims)
	_, st := f.RunPostFilterPlugins(context.Background(), framework.NewCycleState(), makePod("p", 0, "1"), &framework.NodeToStatus{})
	if st.Code() != framework.Unschedulable || st.Plugin() != "Preempt" ||
		st.Message() != "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod." {
		t.Errorf("status %v %q from %q", st.Code(), st.Message(), st.Plugin())
	}
	nominates := &testPlugin{name: "Nominate", postFilter: func(*framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
		return &framework.PostFilterResult{NominatedNodeName: "n1"}, nil
	}}
	f = newFramework(t, runtime.Profile{PostFilter: []string{"Preempt", "Nominate"}}, nil, noVictims, nominates)
	res, st := f.RunPostFilterPlugins(context.Background(), framework.NewCycleState(), makePod("p", 0, "1"), &framework.NodeToStatus{})
	if !st.IsSuccess() || res == nil || res.NominatedNodeName != "n1" {
		t.Errorf("got %+v %v, want nomination of n1", res, st)
	}
}

func TestRunBindPlugins(t *testing.T) {
	var bound atomic.Int32
	skipper := &testPlugin{name: "Skipper"}
	binder := &testPlugin{name: "Binder", bind: func() *framework.Status { bound.Add(1); return nil }}
	f := newFramework(t, runtime.Profile{Bind: []string{"Skipper", "Binder"}}, nil, skipper, binder)
	if st := f.RunBindPlugins(context.Background(), framework.NewCycleState(), makePod("p", 0, "1"), "n"); !st.IsSuccess() || bound.Load() != 1 {
		t.Errorf("status %v, bound %d times; want success after the skip", st, bound.Load())
	}
	f = newFramework(t, runtime.Profile{Bind: []string{"Skipper"}}, nil, skipper)
	if st := f.RunBindPlugins(context.Background(), framework.NewCycleState(), makePod("p", 0, "1"), "n"); !st.IsSkip() {
		t.Errorf("status %v, want Skip when every binder skips", st.Code())
	}
}

func TestParallelizeCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 1001} {
		for _, workers := range []int{1, 3, 16} {
			f, err := runtime.New(context.Background(), runtime.Config{Parallelism: workers})
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]atomic.Int32, n)
			f.Parallelize(context.Background(), n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n=%d workers=%d: index %d ran %d times", n, workers, i, c)
				}
			}
		}
	}
}

// TestParallelizeStopsOnCancel checks that no item starts after the
// context ends and none runs after Parallelize returns.
func TestParallelizeStopsOnCancel(t *testing.T) {
	f, err := runtime.New(context.Background(), runtime.Config{Parallelism: 16})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		var ran, afterCancel atomic.Int32
		var returned atomic.Bool
		f.Parallelize(ctx, 10000, func(int) {
			if returned.Load() {
				t.Error("an item ran after Parallelize returned")
			}
			if ctx.Err() != nil {
				afterCancel.Add(1)
			}
			if ran.Add(1) == 100 {
				cancel()
			}
		})
		returned.Store(true)
		cancel()
		// Items already inside a chunk when the context ended finish
		// their chunk; no new chunk starts.
		if n := ran.Load(); n < 100 || n >= 10000 {
			t.Fatalf("%d items ran, want at least 100 and not all", n)
		}
		if afterCancel.Load() > 2*100 {
			t.Fatalf("%d items ran after the cancel", afterCancel.Load())
		}
	}
}

package podtopologyspread

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/scheduler/cache"
	"github.com/tugcluster/tug/internal/scheduler/framework"
	"github.com/tugcluster/tug/internal/scheduler/framework/frameworktest"
)

// cacheHandle is a test handle whose snapshot is kept by a scheduler
// cache, as the scheduler's is, so that it reports the nodes each update
// replaced; with hideChanges it does not (every cycle then counts every
// node).
type cacheHandle struct {
	*frameworktest.Handle
	snapshot    *cache.Snapshot
	hideChanges bool
}

// listerOnly hides a snapshot's other methods.
type listerOnly struct{ framework.SharedLister }

func (h *cacheHandle) SnapshotSharedLister() framework.SharedLister {
	if h.hideChanges {
		return listerOnly{h.snapshot}
	}
	return h.snapshot
}

func newCachePlugin(t testing.TB, snapshot *cache.Snapshot, hideChanges bool, objs ...runtime.Object) *PodTopologySpread {
	t.Helper()
	h := &cacheHandle{Handle: frameworktest.NewHandle(nil, objs...), snapshot: snapshot, hideChanges: hideChanges}
	p, err := New(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return p.(*PodTopologySpread)
}

// TestScoresFollowTheCacheBetweenCycles replays random histories of pods
// and nodes coming, going and moving zones through a scheduler cache and
// its snapshot, scoring pods after every update with a plugin that
// carries its sums between cycles (revisiting only the nodes the
// snapshot replaced) and with one that counts every node each cycle: the
// scores must always agree.
func TestScoresFollowTheCacheBetweenCycles(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rs-web"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	scored := map[string]*corev1.Pod{
		"system defaults": makePod("default", "new", "app", "web").OwnedBy("apps/v1", "ReplicaSet", "rs-web").Obj(),
		"own constraints": makePod("default", "new", "app", "web").
			Spread(2, zone, corev1.ScheduleAnyway, "web").Spread(1, host, corev1.ScheduleAnyway, "web").Obj(),
		"node selector": makePod("default", "new", "app", "web").NodeSelector("disk", "ssd").
			Spread(1, zone, corev1.ScheduleAnyway, "web").Obj(),
		"tolerations honored": makePod("default", "new", "app", "db").
			Spread(1, zone, corev1.ScheduleAnyway, "db", func(c *corev1.TopologySpreadConstraint) {
				c.NodeTaintsPolicy = ptr.To(corev1.NodeInclusionPolicyHonor)
			}).Obj(),
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range scored {
			if !yield(name) {
				return
			}
		}
	})
	incremental := 0
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 7))
		c := cache.New(cache.Options{})
		snapshot := cache.NewSnapshot()
		carried := newCachePlugin(t, snapshot, false, rs)
		recounted := newCachePlugin(t, snapshot, true, rs)
		h := newHistory(rng, c)
		for range 12 {
			h.addNode()
		}
		for step := range 150 {
			for range 1 + rng.IntN(3) {
				h.step()
			}
			before := snapshot.NumNodes()
			_, latest, _ := snapshot.NodeChangesSince(0)
			c.UpdateSnapshot(snapshot)
			if _, _, ok := snapshot.NodeChangesSince(latest); ok && before == snapshot.NumNodes() {
				incremental++
			}
			all, _ := snapshot.List()
			if len(all) == 0 {
				continue
			}
			// Score a random subset, as the filters would leave.
			var filtered []*framework.NodeInfo
			for _, ni := range all {
				if rng.IntN(4) > 0 {
					filtered = append(filtered, ni)
				}
			}
			if len(filtered) == 0 {
				filtered = all[:1]
			}
			for _, name := range names {
				pod := scored[name]
				want, _, wantStatus := frameworktest.ScoreNodes(t, recounted, pod, filtered)
				got, _, gotStatus := frameworktest.ScoreNodes(t, carried, pod, filtered)
				if wantStatus.Code() != gotStatus.Code() {
					t.Fatalf("seed %d step %d, %s: PreScore %v, counting every node %v", seed, step, name, gotStatus, wantStatus)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("seed %d step %d, %s: scores (-counting every node +carried):\n%s", seed, step, name, diff)
				}
			}
		}
	}
	// Most updates must have been carried over, or the test proves
	// little.
	if incremental < 8*150/2 {
		t.Fatalf("only %d of %d updates could be followed incrementally", incremental, 8*150)
	}
}

// history drives a scheduler cache through random changes.
type history struct {
	rng   *rand.Rand
	cache *cache.Cache
	nodes []*corev1.Node
	pods  []*corev1.Pod
	made  int
}

func newHistory(rng *rand.Rand, c *cache.Cache) *history { return &history{rng: rng, cache: c} }

func (h *history) addNode() {
	h.made++
	name := fmt.Sprintf("node-%d", h.made)
	labels := map[string]string{host: name}
	if h.rng.IntN(8) > 0 { // some nodes have no zone
		labels[zone] = fmt.Sprintf("zone-%d", h.rng.IntN(3))
	}
	if h.rng.IntN(2) == 0 {
		labels["disk"] = "ssd"
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if h.rng.IntN(4) == 0 {
		node.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}}
	}
	h.nodes = append(h.nodes, node)
	h.cache.AddNode(node)
}

// step makes one change: mostly pods placed or removed, sometimes a node
// relabeled, retainted, added or removed.
func (h *history) step() {
	switch r := h.rng.IntN(100); {
	case r < 55 && len(h.nodes) > 0:
		h.made++
		app := []string{"web", "web", "db", "other"}[h.rng.IntN(4)]
		b := makePod("default", fmt.Sprintf("p-%d", h.made), "app", app)
		if h.rng.IntN(10) == 0 {
			b = b.Terminating()
		}
		if h.rng.IntN(10) == 0 {
			b = makePod("other-ns", fmt.Sprintf("p-%d", h.made), "app", app)
		}
		pod := b.Obj()
		pod.Spec.NodeName = h.nodes[h.rng.IntN(len(h.nodes))].Name
		h.pods = append(h.pods, pod)
		h.cache.AddPod(pod)
	case r < 80 && len(h.pods) > 0:
		i := h.rng.IntN(len(h.pods))
		h.cache.RemovePod(h.pods[i])
		h.pods = slices.Delete(h.pods, i, i+1)
	case r < 90 && len(h.nodes) > 0:
		i := h.rng.IntN(len(h.nodes))
		node := h.nodes[i].DeepCopy()
		if h.rng.IntN(2) == 0 {
			node.Labels[zone] = fmt.Sprintf("zone-%d", h.rng.IntN(4))
		} else if len(node.Spec.Taints) > 0 {
			node.Spec.Taints = nil
		} else {
			node.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}}
		}
		h.cache.UpdateNode(h.nodes[i], node)
		h.nodes[i] = node
	case r < 95:
		h.addNode()
	case len(h.nodes) > 1:
		i := h.rng.IntN(len(h.nodes))
		gone := h.nodes[i].Name
		h.cache.RemoveNode(h.nodes[i])
		h.nodes = slices.Delete(h.nodes, i, i+1)
		h.pods = slices.DeleteFunc(h.pods, func(p *corev1.Pod) bool {
			if p.Spec.NodeName == gone {
				h.cache.RemovePod(p)
				return true
			}
			return false
		})
	}
}

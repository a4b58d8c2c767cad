package kubelet

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/scheduler/framework"
	affinityplugin "github.com/tugcluster/tug/internal/scheduler/plugins/nodeaffinity"
	"github.com/tugcluster/tug/internal/scheduler/plugins/nodeports"
	"github.com/tugcluster/tug/internal/scheduler/plugins/tainttoleration"
)

// podAdmission is the kubelet's record of the pods it has admitted: the
// pods a new one must not clash with. A pod bound straight to the node
// (spec.nodeName, no scheduler) reaches the kubelet unchecked, so, as
// upstream's kubelet does, it checks the scheduler's node-level predicates
// (and NoExecute taints) once, before the pod's first sandbox, and fails a
// pod that does not fit.
// The zero value is ready to use.
type podAdmission struct {
	mu sync.Mutex
	// admitted is true for each pod admitted, false for each rejected
	// (and so reported Failed) until the pod cache shows it so.
	admitted map[types.UID]bool

	// node is the Node admission last read, at nodeRead: a burst of new
	// pods shares one read.
	nodeMu   sync.Mutex
	node     *corev1.Node
	nodeRead time.Time
}

// admissionNodeTTL is how long admission reuses the Node it read. A taint
// or label changed within it may admit a pod it would now refuse; the
// taint eviction controller and the scheduler still act on the change.
const admissionNodeTTL = time.Second

// rejection is why a pod may not run on the node: the pod's status reason
// and message, as upstream's kubelet words them.
type rejection struct {
	reason, message string
}

// predicateFailed is the rejection for a failed scheduler predicate.
func predicateFailed(name, desc string) *rejection {
	return &rejection{reason: name, message: fmt.Sprintf("Pod was rejected: Predicate %s failed: %s", name, desc)}
}

// admitPod admits pod on its first sync, or fails it for good (phase
// Failed, with the predicate as reason) when it does not fit the node. It
// returns whether the pod may run. Admission is serialized, so that of two
// pods asking for one host port at once exactly one is admitted.
func (k *Kubelet) admitPod(ctx context.Context, pod *corev1.Pod, state *podRuntime) (bool, error) {
	a := &k.admission
	a.mu.Lock()
	if a.admitted == nil {
		a.admitted = map[types.UID]bool{}
	}
	// A pod with a start time was taken on by this kubelet before it
	// restarted, and keeps its place.
	admitted, decided := a.admitted[pod.UID]
	if !decided && pod.Status.StartTime != nil {
		admitted, decided = true, true
		a.admitted[pod.UID] = true
	}
	a.mu.Unlock()
	if decided {
		return admitted, nil
	}
	node, err := k.admissionNode(ctx)
	if err != nil {
		return false, err
	}
	allocatable := k.node.allocatableCopy()
	a.mu.Lock()
	rej := admitOnNode(klog.FromContext(ctx), pod, node, allocatable, k.admittedPods(pod.UID))
	if rej == nil {
		a.admitted[pod.UID] = true
	}
	a.mu.Unlock()
	if rej == nil {
		return true, nil
	}
	klog.FromContext(ctx).V(2).Info("Pod rejected", "reason", rej.reason, "message", rej.message)
	if err := k.failPod(ctx, pod, state, rej.reason, rej.message); err != nil {
		return false, err // decided again on the retry
	}
	a.mu.Lock()
	a.admitted[pod.UID] = false
	a.mu.Unlock()
	return false, nil
}

// admissionNode returns the Node, read at most once per admissionNodeTTL.
func (k *Kubelet) admissionNode(ctx context.Context) (*corev1.Node, error) {
	a := &k.admission
	a.nodeMu.Lock()
	defer a.nodeMu.Unlock()
	now := k.clock.Now()
	if a.node != nil && now.Sub(a.nodeRead) < admissionNodeTTL {
		return a.node, nil
	}
	node, err := k.client.CoreV1().Nodes().Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("kubelet: get node for admission: %w", err)
	}
	a.node, a.nodeRead = node, now
	return node, nil
}

// admittedPods returns the pods other than uid that hold their place on the
// node: admitted (now or before a restart) and not finished. It forgets
// admitted pods that are gone. The caller holds k.admission.mu.
func (k *Kubelet) admittedPods(uid types.UID) []*corev1.Pod {
	present := map[types.UID]bool{}
	var out []*corev1.Pod
	for _, p := range k.Pods() {
		present[p.UID] = true
		if p.UID == uid || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		admitted, decided := k.admission.admitted[p.UID]
		if admitted || (!decided && p.Status.StartTime != nil) {
			out = append(out, p)
		}
	}
	for id := range k.admission.admitted {
		if !present[id] {
			delete(k.admission.admitted, id)
		}
	}
	return out
}

// admitOnNode decides whether pod may run on node, whose allocatable is
// given, next to others, the pods already admitted there: the predicates
// of admitDecision, then resources, then the node's NoExecute taints, the
// first failure reported.
func admitOnNode(logger klog.Logger, pod *corev1.Pod, node *corev1.Node, allocatable corev1.ResourceList, others []*corev1.Pod) *rejection {
	if rej := admitDecision(pod, node, others); rej != nil {
		return rej
	}
	if rej := resourceShortfall(pod, allocatable, others); rej != nil {
		return rej
	}
	if !tainttoleration.ToleratesNoExecute(logger, pod, node) {
		return predicateFailed(tainttoleration.Name, tainttoleration.ErrReasonNotMatch)
	}
	return nil
}

// needsNode reports whether pod selects nodes by label or field, which
// admission compares with the Node.
func needsNode(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.NodeSelector) > 0 ||
		(a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil)
}

// admitDecision decides whether pod may run on node next to others, the
// pods already admitted there; nil admits it. Like upstream it checks node
// affinity before host ports and reports the first failure. node may be
// nil when needsNode(pod) is false.
func admitDecision(pod *corev1.Pod, node *corev1.Node, others []*corev1.Pod) *rejection {
	if needsNode(pod) {
		if node == nil {
			return &rejection{reason: "InvalidNodeInfo", message: "Kubelet cannot get node info."}
		}
		// An invalid selector cannot have passed validation; treat it as
		// not matching rather than running the pod anywhere.
		if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
			return predicateFailed(affinityplugin.Name, affinityplugin.ErrReasonPod)
		}
	}
	if rej := hostPortConflict(pod, others); rej != nil {
		return rej
	}
	return nil
}

// hostPortConflict rejects pod when one of its host ports is held by one
// of others: same protocol and port, and the same host IP or either on
// all addresses.
func hostPortConflict(pod *corev1.Pod, others []*corev1.Pod) *rejection {
	wanted := framework.PodHostPorts(pod)
	if len(wanted) == 0 {
		return nil
	}
	used := framework.HostPortInfo{}
	for _, o := range others {
		for _, p := range framework.PodHostPorts(o) {
			used[p] = struct{}{}
		}
	}
	for _, p := range wanted {
		if used.Conflicts(p) {
			return predicateFailed(nodeports.Name, nodeports.ErrReason)
		}
	}
	return nil
}

// resourceShortfall rejects pod when the node's allocatable cannot hold its
// requests next to those of others, the pods admitted there (reason
// OutOf<resource>, as upstream's kubelet words it). A node whose
// allocatable is not known yet admits everything.
func resourceShortfall(pod *corev1.Pod, allocatable corev1.ResourceList, others []*corev1.Pod) *rejection {
	if len(allocatable) == 0 {
		return nil
	}
	capacity := framework.NewResource(allocatable)
	used := &framework.Resource{}
	for _, o := range others {
		used.AddResource(framework.PodRequests(o, false))
	}
	want := framework.PodRequests(pod, false)
	check := func(name corev1.ResourceName, requested, inUse, limit int64) *rejection {
		if requested == 0 || requested+inUse <= limit {
			return nil
		}
		return &rejection{reason: "OutOf" + string(name), message: fmt.Sprintf(
			"Pod was rejected: Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
			name, requested, inUse, limit)}
	}
	if rej := check(corev1.ResourcePods, want.AllowedPodNumber, used.AllowedPodNumber, capacity.AllowedPodNumber); rej != nil && capacity.AllowedPodNumber > 0 {
		return rej
	}
	for _, r := range []struct {
		name                corev1.ResourceName
		requested, inUse, n int64
	}{
		{corev1.ResourceCPU, want.MilliCPU, used.MilliCPU, capacity.MilliCPU},
		{corev1.ResourceMemory, want.Memory, used.Memory, capacity.Memory},
		{corev1.ResourceEphemeralStorage, want.EphemeralStorage, used.EphemeralStorage, capacity.EphemeralStorage},
	} {
		if _, known := allocatable[r.name]; !known {
			continue
		}
		if rej := check(r.name, r.requested, r.inUse, r.n); rej != nil {
			return rej
		}
	}
	for name, requested := range want.ScalarResources {
		if rej := check(name, requested, used.ScalarResources[name], capacity.ScalarResources[name]); rej != nil {
			return rej
		}
	}
	return nil
}

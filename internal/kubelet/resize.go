package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// In-place resize. A pod's spec holds the resources its containers want
// (pods/resize changes them); the kubelet admits them for the whole pod
// when the node has room ("allocated"), then gives each running container
// its allocation through CRI UpdateContainerResources, or restarts it when
// its resizePolicy says RestartContainer for a changed resource
// ("applied"). Status reports the allocation in allocatedResources, what
// the container has in resources, and the conditions PodResizePending and
// PodResizeInProgress while the three differ.

// annotationResources records the resources a container was created with,
// so a restarted kubelet knows what a running container has.
const annotationResources = "io.tug.container.resources"

// resizeRetry is how often a deferred resize is tried again, in case the
// pods that held the node's resources have gone.
const resizeRetry = 10 * time.Second

// Reasons of the PodResizePending and PodResizeInProgress conditions.
const (
	reasonResizeInfeasible = "Infeasible"
	reasonResizeDeferred   = "Deferred"
	reasonResizeError      = "Error"
)

// resizeState is what the kubelet remembers of resizes; its zero value is
// ready to use.
type resizeState struct {
	mu sync.Mutex
	// allocated holds the admitted resources of each pod's containers
	// (pod UID, then container name).
	allocated map[types.UID]map[string]corev1.ResourceRequirements
	// applied holds what each container instance was given (pod UID,
	// then container ID).
	applied map[types.UID]map[string]corev1.ResourceRequirements
	// pending is the PodResizePending condition of pods whose resize
	// waits; failed the error of the last attempt to apply one.
	pending map[types.UID]corev1.PodCondition
	failed  map[types.UID]string
}

// allocation returns the allocated resources of pod's containers, first
// taking them from the pod's status (what its containers were last
// reported to have) or, for containers not reported yet, from the spec.
func (s *resizeState) allocation(pod *corev1.Pod) map[string]corev1.ResourceRequirements {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.allocated[pod.UID]; ok {
		return a
	}
	a := map[string]corev1.ResourceRequirements{}
	reported := map[string]*corev1.ResourceRequirements{}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if cs.Resources != nil {
			reported[cs.Name] = cs.Resources
		}
	}
	for _, c := range allContainers(pod) {
		if r, ok := reported[c.Name]; ok {
			a[c.Name] = *r.DeepCopy()
		} else {
			a[c.Name] = *c.Resources.DeepCopy()
		}
	}
	if s.allocated == nil {
		s.allocated = map[types.UID]map[string]corev1.ResourceRequirements{}
	}
	s.allocated[pod.UID] = a
	return a
}

// allocate admits the spec's resources of every container of pod.
func (s *resizeState) allocate(pod *corev1.Pod) {
	a := map[string]corev1.ResourceRequirements{}
	for _, c := range allContainers(pod) {
		a[c.Name] = *c.Resources.DeepCopy()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allocated[pod.UID] = a
	delete(s.pending, pod.UID)
}

func (s *resizeState) setPending(uid types.UID, reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[types.UID]corev1.PodCondition{}
	}
	s.pending[uid] = corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue, Reason: reason, Message: message}
}

func (s *resizeState) clearPending(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, uid)
}

func (s *resizeState) setFailed(uid types.UID, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if message == "" {
		delete(s.failed, uid)
		return
	}
	if s.failed == nil {
		s.failed = map[types.UID]string{}
	}
	s.failed[uid] = message
}

func (s *resizeState) noteApplied(uid types.UID, id string, r corev1.ResourceRequirements) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applied == nil {
		s.applied = map[types.UID]map[string]corev1.ResourceRequirements{}
	}
	if s.applied[uid] == nil {
		s.applied[uid] = map[string]corev1.ResourceRequirements{}
	}
	s.applied[uid][id] = *r.DeepCopy()
}

// forget drops what is kept of pod uid and its containers.
func (s *resizeState) forget(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.allocated, uid)
	delete(s.applied, uid)
	delete(s.pending, uid)
	delete(s.failed, uid)
}

// allocatedResources are the resources container c of pod is admitted
// with: what new instances of it get.
func (k *Kubelet) allocatedResources(pod *corev1.Pod, c *corev1.Container) corev1.ResourceRequirements {
	k.resize.mu.Lock()
	defer k.resize.mu.Unlock()
	if r, ok := k.resize.allocated[pod.UID][c.Name]; ok {
		return r
	}
	return c.Resources
}

// withAllocatedResources returns c with its allocated resources, for
// creating an instance of it.
func (k *Kubelet) withAllocatedResources(pod *corev1.Pod, c *corev1.Container) *corev1.Container {
	out, r := *c, k.allocatedResources(pod, c)
	out.Resources = *r.DeepCopy()
	return &out
}

// appliedResources are the resources container instance cs runs with:
// the last the kubelet gave it, else those it was created with.
func (k *Kubelet) appliedResources(pod *corev1.Pod, c *corev1.Container, cs *containerState) corev1.ResourceRequirements {
	k.resize.mu.Lock()
	r, ok := k.resize.applied[pod.UID][cs.id]
	k.resize.mu.Unlock()
	if ok {
		return r
	}
	if raw := cs.status.GetAnnotations()[annotationResources]; raw != "" {
		var created corev1.ResourceRequirements
		if err := json.Unmarshal([]byte(raw), &created); err == nil {
			k.resize.noteApplied(pod.UID, cs.id, created)
			return created
		}
	}
	return c.Resources
}

// resourcesAnnotation encodes r for annotationResources.
func resourcesAnnotation(r corev1.ResourceRequirements) string {
	b, err := json.Marshal(r)
	if err != nil {
		return ""
	}
	return string(b)
}

// resize admits a changed spec and applies the allocation to the running
// containers of the pod. It returns when to look again at a deferred
// resize (0 for no need).
func (r *podRun) resize(ctx context.Context) time.Duration {
	k, pod := r.k, r.pod
	var wait time.Duration
	alloc := k.resize.allocation(pod)
	changed := false
	for _, c := range resizableContainers(pod) {
		if a, ok := alloc[c.Name]; !ok || !sameResources(a, c.Resources, nil) {
			changed = true
		}
	}
	if changed {
		switch reason, message := k.resizeFits(pod); reason {
		case "":
			k.resize.allocate(pod)
			klog.FromContext(ctx).V(2).Info("Pod resize admitted")
		case reasonResizeDeferred:
			k.resize.setPending(pod.UID, reason, message)
			wait = resizeRetry
		default:
			k.resize.setPending(pod.UID, reason, message)
		}
	} else {
		k.resize.clearPending(pod.UID)
	}
	var failure string
	for _, c := range resizableContainers(pod) {
		if err := r.resizeContainer(ctx, c); err != nil && failure == "" {
			failure = err.Error()
		}
	}
	k.resize.setFailed(pod.UID, failure)
	return wait
}

// resizeContainer gives the running instance of c its allocation.
func (r *podRun) resizeContainer(ctx context.Context, c *corev1.Container) error {
	k, pod := r.k, r.pod
	last, _ := r.state.latest(c.Name, r.sandboxID)
	if last == nil || !last.running() {
		return nil // a new instance gets the allocation when it starts
	}
	want, have := k.allocatedResources(pod, c), k.appliedResources(pod, c, last)
	if sameResources(want, have, nil) {
		return nil
	}
	logger := klog.FromContext(ctx).WithValues("container", c.Name)
	if restartNeeded(c, want, have) {
		logger.V(2).Info("Restarting container to resize it")
		if err := k.stopContainer(ctx, pod, c, last, gracePeriodOf(last, podGrace(pod))); err != nil {
			return fmt.Errorf("restart %s to resize: %w", c.Name, err)
		}
		k.backoff.Reset(backoffKey(pod.UID, c.Name))
		if err := r.start(ctx, c, r.nextAttempt(c.Name), isInit(pod, c)); err != nil {
			return fmt.Errorf("restart %s to resize: %w", c.Name, err)
		}
		k.removeOlderInstances(ctx, r.state, c.Name, last)
		return nil
	}
	if lim, ok := want.Limits[corev1.ResourceMemory]; ok {
		if err := k.checkMemoryUsage(ctx, last.id, lim, have); err != nil {
			return err
		}
	}
	res := linuxContainerConfig(pod, &corev1.Container{Name: c.Name, Resources: want}).Resources
	if _, err := k.runtime.UpdateContainerResources(ctx, &runtimeapi.UpdateContainerResourcesRequest{
		ContainerId: last.id, Linux: res,
	}); err != nil {
		return fmt.Errorf("update resources of %s: %w", c.Name, err)
	}
	k.resize.noteApplied(pod.UID, last.id, want)
	logger.V(2).Info("Container resized", "resources", want)
	return nil
}

// checkMemoryUsage refuses to lower a memory limit below what the
// container uses now: the kernel would have to kill it.
func (k *Kubelet) checkMemoryUsage(ctx context.Context, id string, limit resource.Quantity, have corev1.ResourceRequirements) error {
	if old, ok := have.Limits[corev1.ResourceMemory]; ok && limit.Cmp(old) >= 0 {
		return nil
	}
	st, err := k.runtime.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{ContainerId: id})
	if err != nil || st.GetStats().GetMemory().GetUsageBytes() == nil {
		return nil //nolint:nilerr // without stats the runtime has the last word
	}
	if usage := st.GetStats().GetMemory().GetUsageBytes().GetValue(); uint64(limit.Value()) < usage { //nolint:gosec // limits are positive
		return fmt.Errorf("attempting to set pod memory limit (%d) below current usage (%d)", limit.Value(), usage)
	}
	return nil
}

// resizableContainers are the containers resize applies to: regular ones
// and sidecars (init containers that run to completion keep theirs).
func resizableContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			out = append(out, &pod.Spec.InitContainers[i])
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

func isInit(pod *corev1.Pod, c *corev1.Container) bool {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == c.Name {
			return true
		}
	}
	return false
}

// sameResources compares the CPU and memory requests and limits of a and
// b (only of the resources in names, when set).
func sameResources(a, b corev1.ResourceRequirements, names []corev1.ResourceName) bool {
	if names == nil {
		names = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}
	}
	for _, name := range names {
		for _, pair := range [][2]corev1.ResourceList{{a.Requests, b.Requests}, {a.Limits, b.Limits}} {
			x, okx := pair[0][name]
			y, oky := pair[1][name]
			if okx != oky || x.Cmp(y) != 0 {
				return false
			}
		}
	}
	return true
}

// restartNeeded reports whether a resource that changes has the
// RestartContainer policy.
func restartNeeded(c *corev1.Container, want, have corev1.ResourceRequirements) bool {
	for _, p := range c.ResizePolicy {
		if p.RestartPolicy == corev1.RestartContainer && !sameResources(want, have, []corev1.ResourceName{p.ResourceName}) {
			return true
		}
	}
	return false
}

// resizeFits tells whether the node can take pod's new requests: ""
// when it can, Infeasible when the node is too small for them whatever
// else runs, Deferred when other pods hold what it needs.
func (k *Kubelet) resizeFits(pod *corev1.Pod) (reason, message string) {
	allocatable := k.node.allocatableCopy()
	want := podRequests(pod, nil)
	used := corev1.ResourceList{}
	for _, other := range k.Pods() {
		if other.UID == pod.UID || other.Status.Phase == corev1.PodSucceeded || other.Status.Phase == corev1.PodFailed {
			continue
		}
		add(used, podRequests(other, k.resize.allocation(other)))
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		capacity, ok := allocatable[name]
		if !ok {
			continue
		}
		w, u := want[name], used[name]
		if w.Cmp(capacity) > 0 {
			return reasonResizeInfeasible, fmt.Sprintf("Node didn't have enough capacity: %s, requested: %d, capacity: %d",
				name, amount(name, w), amount(name, capacity))
		}
		u.Add(w)
		if u.Cmp(capacity) > 0 {
			used := used[name]
			return reasonResizeDeferred, fmt.Sprintf("Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
				name, amount(name, w), amount(name, used), amount(name, capacity))
		}
	}
	return "", ""
}

// amount is q in the unit the kubelet reports: millicores or bytes.
func amount(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// podRequests sums the CPU and memory requests of pod's containers that
// run together (regular and sidecars), from alloc when given, else the
// spec.
func podRequests(pod *corev1.Pod, alloc map[string]corev1.ResourceRequirements) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for _, c := range resizableContainers(pod) {
		r := c.Resources
		if a, ok := alloc[c.Name]; ok {
			r = a
		}
		add(sum, r.Requests)
	}
	return sum
}

func add(sum, r corev1.ResourceList) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := r[name]; ok {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
}

// setResizeConditions reports the pod's resize in its status: pending
// while the node has not admitted it, in progress while a running
// container lacks its allocation (with the error of the last attempt).
func (k *Kubelet) setResizeConditions(pod *corev1.Pod, state *podRuntime, s *corev1.PodStatus, now metav1.Time) {
	var want []corev1.PodCondition
	if s.Phase != corev1.PodSucceeded && s.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil {
		k.resize.mu.Lock()
		pending, isPending := k.resize.pending[pod.UID]
		failure := k.resize.failed[pod.UID]
		k.resize.mu.Unlock()
		if isPending {
			want = append(want, pending)
		}
		if failure != "" || k.resizeInProgress(pod, state) {
			c := corev1.PodCondition{Type: corev1.PodResizeInProgress, Status: corev1.ConditionTrue}
			if failure != "" {
				c.Reason, c.Message = reasonResizeError, failure
			}
			want = append(want, c)
		}
	}
	out := make([]corev1.PodCondition, 0, len(s.Conditions)+len(want))
	for _, c := range s.Conditions {
		if c.Type != corev1.PodResizePending && c.Type != corev1.PodResizeInProgress {
			out = append(out, c)
		}
	}
	for _, w := range want {
		w.ObservedGeneration = pod.Generation
		w.LastTransitionTime = now
		for _, old := range s.Conditions {
			if old.Type == w.Type && old.Status == w.Status && old.Reason == w.Reason {
				w.LastTransitionTime = old.LastTransitionTime
			}
		}
		out = append(out, w)
	}
	s.Conditions = out
}

// resizeInProgress reports whether a running container of pod lacks its
// allocation.
func (k *Kubelet) resizeInProgress(pod *corev1.Pod, state *podRuntime) bool {
	sandbox := state.readySandbox()
	if sandbox == nil {
		return false
	}
	for _, c := range resizableContainers(pod) {
		last, _ := state.latest(c.Name, sandbox.Id)
		if last != nil && last.running() && !sameResources(k.allocatedResources(pod, c), k.appliedResources(pod, c, last), nil) {
			return true
		}
	}
	return false
}

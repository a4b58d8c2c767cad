package kubelet

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The CRI labels every sandbox and container carries: the kubelet's
// other parts (its API server, the orphan clean-up) find pods by them.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
)

// Annotations the kubelet keeps on containers for itself.
const (
	annotationTerminationGrace = "io.tug.container.terminationGracePeriod"
	annotationInit             = "io.tug.container.init"
	annotationMessagePath      = "io.tug.container.terminationMessagePath"
	annotationMessagePolicy    = "io.tug.container.terminationMessagePolicy"
)

// podRuntime is what the runtime holds of one pod: its sandboxes, newest
// first, and its containers with their statuses.
type podRuntime struct {
	sandboxes  []*runtimeapi.PodSandbox
	containers []*containerState
}

// containerState is one container instance.
type containerState struct {
	id        string
	sandboxID string
	name      string
	attempt   uint32
	status    *runtimeapi.ContainerStatus
}

func (c *containerState) running() bool {
	return c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING
}

func (c *containerState) exited() bool {
	return c.status.State == runtimeapi.ContainerState_CONTAINER_EXITED
}

// readySandbox returns the newest sandbox if it is ready, or nil.
func (p *podRuntime) readySandbox() *runtimeapi.PodSandbox {
	if len(p.sandboxes) > 0 && p.sandboxes[0].State == runtimeapi.PodSandboxState_SANDBOX_READY {
		return p.sandboxes[0]
	}
	return nil
}

// latest returns the newest instance of container name in sandbox (any
// sandbox when sandboxID is empty), and the one before it.
func (p *podRuntime) latest(name, sandboxID string) (last, previous *containerState) {
	for _, c := range p.containers {
		if c.name != name || (sandboxID != "" && c.sandboxID != sandboxID) {
			continue
		}
		if last == nil || c.attempt > last.attempt {
			last, previous = c, last
		} else if previous == nil || c.attempt > previous.attempt {
			previous = c
		}
	}
	return last, previous
}

// podLabels are the CRI labels of pod's sandbox.
func podLabels(pod *corev1.Pod) map[string]string {
	labels := map[string]string{
		LabelPodName:      pod.Name,
		LabelPodNamespace: pod.Namespace,
		LabelPodUID:       string(pod.UID),
	}
	return labels
}

// podRuntimeState reads the sandboxes and containers of the pod uid.
func (k *Kubelet) podRuntimeState(ctx context.Context, uid types.UID) (*podRuntime, error) {
	selector := map[string]string{LabelPodUID: string(uid)}
	sbs, err := k.runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{
		Filter: &runtimeapi.PodSandboxFilter{LabelSelector: selector},
	})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	p := &podRuntime{sandboxes: sbs.Items}
	slices.SortFunc(p.sandboxes, func(a, b *runtimeapi.PodSandbox) int {
		return int(b.Metadata.GetAttempt()) - int(a.Metadata.GetAttempt())
	})
	cs, err := k.runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{
		Filter: &runtimeapi.ContainerFilter{LabelSelector: selector},
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs.Containers {
		st := k.statuses.get(c.Id, c.State)
		if st == nil {
			resp, err := k.runtime.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.Id})
			if err != nil || resp.Status == nil {
				continue // removed meanwhile
			}
			st = resp.Status
			k.statuses.put(c.Id, st)
		}
		p.containers = append(p.containers, &containerState{
			id: c.Id, sandboxID: c.PodSandboxId, name: c.Labels[LabelContainerName],
			attempt: c.Metadata.GetAttempt(), status: st,
		})
	}
	return p, nil
}

// statusCache keeps the runtime's status of each container for as long
// as its state stays the same: a running container's status does not
// change until it exits, an exited one's never, so the runtime is asked
// once per state instead of on every pod sync.
type statusCache struct {
	mu sync.Mutex
	m  map[string]*runtimeapi.ContainerStatus
}

// get returns the cached status of container id if it is in state.
func (c *statusCache) get(id string, state runtimeapi.ContainerState) *runtimeapi.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[id]; st != nil && st.State == state {
		return st
	}
	return nil
}

func (c *statusCache) put(id string, st *runtimeapi.ContainerStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*runtimeapi.ContainerStatus{}
	}
	c.m[id] = st
}

// retain drops the statuses of containers not in ids (removed ones).
func (c *statusCache) retain(ids map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.m {
		if _, ok := ids[id]; !ok {
			delete(c.m, id)
		}
	}
}

// gracePeriodOf is the termination grace period a container was started
// with, from its annotation; def when missing.
func gracePeriodOf(c *containerState, def int64) int64 {
	if v, err := strconv.ParseInt(c.status.Annotations[annotationTerminationGrace], 10, 64); err == nil {
		return v
	}
	return def
}

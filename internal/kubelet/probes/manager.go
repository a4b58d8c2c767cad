package probes

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Kind is which of a container's probes a worker runs.
type Kind int

const (
	// Liveness failures get the container restarted.
	Liveness Kind = iota
	// Readiness decides whether the container is Ready.
	Readiness
	// Startup holds liveness and readiness back until it succeeds; its
	// failure gets the container restarted.
	Startup
)

func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	}
	return "Startup"
}

// ContainerInfo identifies a running container.
type ContainerInfo struct {
	// ID is the runtime's container ID; a new ID is a new container, whose
	// probes start over.
	ID string
	// StartedAt is when it started: initialDelaySeconds counts from there.
	StartedAt time.Time
}

// Manager runs one worker per (pod, container, probe kind) and keeps each
// container's outcome. Its methods are safe for concurrent use.
type Manager struct {
	exec     ExecFunc
	clock    clock.Clock
	onChange func(podUID types.UID)

	mu sync.Mutex
	// ctx is Run's context while Run runs; workers made before Run start
	// when it begins.
	ctx     context.Context
	stopped bool
	wg      sync.WaitGroup
	pods    map[types.UID]*podState
}

type podState struct {
	pod        *corev1.Pod
	containers map[string]*containerState
}

// containerState is the probes' view of one running container.
type containerState struct {
	info                            ContainerInfo
	hasLiveness, hasReadiness       bool
	hasStartup                      bool
	ready, started                  bool
	livenessFailed, startupFailed   bool
	livenessMessage, startupMessage string
	workers                         map[Kind]*worker
}

// NewManager returns a Manager that runs exec probes with exec, times with
// clock and calls onChange (from a worker goroutine, without locks held)
// whenever a container of the pod changes Ready or Started or fails its
// liveness or startup probe. A nil clock is the real one.
func NewManager(exec ExecFunc, clk clock.Clock, onChange func(podUID types.UID)) *Manager {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if onChange == nil {
		onChange = func(types.UID) {}
	}
	return &Manager{exec: exec, clock: clk, onChange: onChange, pods: map[types.UID]*podState{}}
}

// Run starts the workers and blocks until ctx ends, then stops them and
// returns once they have exited.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	for _, ps := range m.pods {
		for _, cs := range ps.containers {
			for _, w := range cs.workers {
				m.startLocked(w)
			}
		}
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	m.wg.Wait()
}

// UpdatePod brings the workers of pod in line with its running containers
// (by name): new containers get workers, containers with a new ID get new
// ones, containers not in running have theirs stopped and count as neither
// started nor ready. Restartable init containers (sidecars) are probed
// like containers. The Manager keeps a copy of pod, for the pod IP.
func (m *Manager) UpdatePod(pod *corev1.Pod, running map[string]ContainerInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.pods[pod.UID]
	if ps == nil {
		ps = &podState{containers: map[string]*containerState{}}
		m.pods[pod.UID] = ps
	}
	ps.pod = pod.DeepCopy()
	inSpec := map[string]bool{}
	for _, c := range probedContainers(ps.pod) {
		inSpec[c.Name] = true
		info, isRunning := running[c.Name]
		cs := ps.containers[c.Name]
		if cs != nil && (!isRunning || cs.info.ID != info.ID) {
			stopWorkers(cs)
			delete(ps.containers, c.Name)
			cs = nil
		}
		if !isRunning || cs != nil {
			continue
		}
		cs = &containerState{
			info:         info,
			hasLiveness:  c.LivenessProbe != nil,
			hasReadiness: c.ReadinessProbe != nil,
			hasStartup:   c.StartupProbe != nil,
			workers:      map[Kind]*worker{},
		}
		ps.containers[c.Name] = cs
		for kind, p := range map[Kind]*corev1.Probe{Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe, Startup: c.StartupProbe} {
			if p == nil {
				continue
			}
			w := newWorker(m, pod.UID, c.Name, kind, p, info)
			cs.workers[kind] = w
			m.startLocked(w)
		}
	}
	for name, cs := range ps.containers {
		if !inSpec[name] {
			stopWorkers(cs)
			delete(ps.containers, name)
		}
	}
}

// RemovePod stops the pod's workers and forgets it.
func (m *Manager) RemovePod(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ps := m.pods[podUID]; ps != nil {
		for _, cs := range ps.containers {
			stopWorkers(cs)
		}
		delete(m.pods, podUID)
	}
}

// Ready reports whether the container is running, has started and passes
// its readiness probe (a container without one is ready once started).
func (m *Manager) Ready(podUID types.UID, container string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.container(podUID, container)
	return cs != nil && cs.isStarted() && (!cs.hasReadiness || cs.ready)
}

// Started reports whether the container is running and has passed its
// startup probe (a container without one has started once it runs).
func (m *Manager) Started(podUID types.UID, container string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.container(podUID, container)
	return cs != nil && cs.isStarted()
}

// LivenessFailed reports whether the container with this ID failed its
// liveness probe failureThreshold times in a row, with the last failure's
// message: the kubelet restarts it.
func (m *Manager) LivenessFailed(podUID types.UID, containerID string) (failed bool, message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cs := m.containerByID(podUID, containerID); cs != nil && cs.livenessFailed {
		return true, cs.livenessMessage
	}
	return false, ""
}

// StartupFailed is LivenessFailed for the startup probe: the kubelet
// restarts the container as well, with a "Startup probe failed" event.
func (m *Manager) StartupFailed(podUID types.UID, containerID string) (failed bool, message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cs := m.containerByID(podUID, containerID); cs != nil && cs.startupFailed {
		return true, cs.startupMessage
	}
	return false, ""
}

func (m *Manager) container(podUID types.UID, name string) *containerState {
	if ps := m.pods[podUID]; ps != nil {
		return ps.containers[name]
	}
	return nil
}

func (m *Manager) containerByID(podUID types.UID, id string) *containerState {
	if ps := m.pods[podUID]; ps != nil {
		for _, cs := range ps.containers {
			if cs.info.ID == id {
				return cs
			}
		}
	}
	return nil
}

func (cs *containerState) isStarted() bool {
	return !cs.hasStartup || cs.started
}

// startLocked starts w if Run is running; m.mu is held.
func (m *Manager) startLocked(w *worker) {
	if m.ctx == nil || m.stopped || w.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	w.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		w.run(ctx)
	}()
}

func stopWorkers(cs *containerState) {
	for _, w := range cs.workers {
		w.stop()
	}
}

// probedContainers are the containers probes apply to: the app containers
// and the init containers that keep running (sidecars).
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var cs []*corev1.Container
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			cs = append(cs, c)
		}
	}
	for i := range pod.Spec.Containers {
		cs = append(cs, &pod.Spec.Containers[i])
	}
	return cs
}

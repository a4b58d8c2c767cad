package probes

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// worker probes one container with one probe every periodSeconds.
type worker struct {
	m         *Manager
	podUID    types.UID
	container string
	kind      Kind
	probe     *corev1.Probe
	info      ContainerInfo

	// cancel stops the worker; nil until it starts. Guarded by m.mu.
	cancel context.CancelFunc
	// stopped is set by stop, so that a probe finishing after it leaves
	// no result. Guarded by m.mu.
	stopped bool
	// last and streak count consecutive equal results against the
	// thresholds; onHold stops probing after a liveness or startup
	// failure until the container is replaced. Only the worker's own
	// goroutine touches them, under m.mu.
	last   Result
	streak int32
	onHold bool
}

func newWorker(m *Manager, podUID types.UID, container string, kind Kind, p *corev1.Probe, info ContainerInfo) *worker {
	return &worker{m: m, podUID: podUID, container: container, kind: kind, probe: p, info: info}
}

// stop ends the worker; m.mu is held.
func (w *worker) stop() {
	w.stopped = true
	if w.cancel != nil {
		w.cancel()
	}
}

func (w *worker) run(ctx context.Context) {
	clk := w.m.clock
	delay := time.Duration(w.probe.InitialDelaySeconds) * time.Second
	if wait := w.info.StartedAt.Add(delay).Sub(clk.Now()); wait > 0 {
		timer := clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
	period := time.Duration(w.probe.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	for {
		w.probeOnce(ctx)
		// A timer per period rather than a ticker: a probe slower than the
		// period delays the next one instead of queueing a burst.
		timer := clk.NewTimer(period)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// probeOnce runs one attempt unless the startup probe gates it, and
// records the outcome once it has repeated threshold times.
func (w *worker) probeOnce(ctx context.Context) {
	m := w.m
	m.mu.Lock()
	ps := m.pods[w.podUID]
	var cs *containerState
	if ps != nil {
		cs = ps.containers[w.container]
	}
	if w.stopped || cs == nil || w.onHold ||
		(w.kind == Startup && cs.started) ||
		(w.kind != Startup && !cs.isStarted()) {
		m.mu.Unlock()
		return
	}
	pod := ps.pod
	var c *corev1.Container
	for _, pc := range probedContainers(pod) {
		if pc.Name == w.container {
			c = pc
		}
	}
	m.mu.Unlock()
	if c == nil {
		return
	}

	result, message, err := Run(ctx, w.probe, pod, c, w.info.ID, m.exec)
	if ctx.Err() != nil {
		return
	}
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "container", w.container, "probe", w.kind.String())
	if err != nil || result == Unknown {
		// Not the container's fault (or not known to be): neither a
		// success nor a failure towards the thresholds.
		logger.V(4).Info("Probe errored", "err", err)
		return
	}
	if result == Failure {
		logger.V(4).Info("Probe failed", "message", message)
	}

	m.mu.Lock()
	if w.stopped {
		m.mu.Unlock()
		return
	}
	if result == w.last {
		w.streak++
	} else {
		w.last, w.streak = result, 1
	}
	threshold := w.probe.FailureThreshold
	if result == Success {
		threshold = w.probe.SuccessThreshold
	}
	if threshold <= 0 {
		threshold = 1
		if result == Failure {
			threshold = 3
		}
	}
	changed := false
	if w.streak >= threshold {
		changed = w.apply(cs, result, message)
	}
	m.mu.Unlock()
	if changed {
		m.onChange(w.podUID)
	}
}

// apply records a result that passed its threshold; m.mu is held. It
// reports whether what the Manager answers for the container changed.
func (w *worker) apply(cs *containerState, result Result, message string) bool {
	ok := result == Success
	switch w.kind {
	case Readiness:
		changed := cs.ready != ok
		cs.ready = ok
		return changed
	case Startup:
		if !ok {
			w.onHold = true
			cs.startupFailed, cs.startupMessage = true, message
			return true
		}
		changed := !cs.started
		cs.started = true
		return changed
	default:
		if !ok {
			w.onHold = true
			cs.livenessFailed, cs.livenessMessage = true, message
			return true
		}
		return false
	}
}

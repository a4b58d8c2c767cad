// Package queue holds the pods waiting to be scheduled: an active queue
// ordered by priority and arrival, a back-off queue for pods that failed
// recently, and the unschedulable pods parked until a cluster event that a
// rejecting plugin registered (or a time-out) gives them a new chance.
package queue

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/scheduler/framework"
)

// Options configure a Queue.
type Options struct {
	// Clock drives back-off and time-outs. Default: the real clock.
	Clock clock.Clock
	// InitialBackoff is the back-off after the first failed attempt; it
	// doubles with every further attempt. Default 1s.
	InitialBackoff time.Duration
	// MaxBackoff caps the back-off. Default 10s.
	MaxBackoff time.Duration
	// MaxInUnschedulable is how long a pod stays parked without a
	// matching event before it is retried anyway. Default 5m.
	MaxInUnschedulable time.Duration
	// PluginEvents lists, for each plugin that implements
	// framework.EnqueueExtensions, the events that may make a pod it
	// rejected schedulable. A rejecting plugin not listed here is retried
	// on every event.
	PluginEvents map[string][]framework.ClusterEvent
	// Nominator tracks nominated pods; the queue keeps it in step with
	// pod adds, updates and deletes. Default: a new one.
	Nominator *Nominator
}

// Default back-off and time-out values (those of kube-scheduler).
const (
	DefaultInitialBackoff     = time.Second
	DefaultMaxBackoff         = 10 * time.Second
	DefaultMaxInUnschedulable = 5 * time.Minute
)

// How often Run moves pods whose back-off ended and pods parked too long.
const (
	backoffFlushPeriod       = time.Second
	unschedulableFlushPeriod = 30 * time.Second
)

// Queue is the scheduling queue. It is safe for concurrent use: informer
// handlers add, update and delete pods while the scheduling loop pops.
type Queue struct {
	opts      Options
	clock     clock.Clock
	nominator *Nominator

	mu      sync.Mutex
	wake    chan struct{} // closed when a pod becomes active
	waiters int
	active  *keyedHeap[*QueuedPodInfo]
	backoff *keyedHeap[*QueuedPodInfo]
	parked  *parkedPods
	// inFlight holds popped pods not yet finished (Done) or returned
	// (AddUnschedulableIfNotPresent), with the events seen meanwhile.
	inFlight map[string]*inFlightPod
	events   []recordedEvent
	cycle    uint64
}

type inFlightPod struct {
	cycle   uint64
	latest  *corev1.Pod // set by an update while in flight
	deleted bool
}

type recordedEvent struct {
	cycle uint64
	event framework.ClusterEvent
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxInUnschedulable <= 0 {
		opts.MaxInUnschedulable = DefaultMaxInUnschedulable
	}
	if opts.Nominator == nil {
		opts.Nominator = NewNominator()
	}
	q := &Queue{
		opts:      opts,
		clock:     opts.Clock,
		nominator: opts.Nominator,
		wake:      make(chan struct{}),
		active:    newKeyedHeap((*QueuedPodInfo).key, activeLess),
		parked:    newParkedPods(),
		inFlight:  map[string]*inFlightPod{},
	}
	q.backoff = newKeyedHeap((*QueuedPodInfo).key, func(a, b *QueuedPodInfo) bool {
		return q.backoffExpiry(a).Before(q.backoffExpiry(b))
	})
	return q
}

// Nominator returns the queue's nominator.
func (q *Queue) Nominator() *Nominator { return q.nominator }

// Run moves pods whose back-off ended to the active queue (every second)
// and retries pods parked longer than MaxInUnschedulable (every 30s),
// until ctx ends.
func (q *Queue) Run(ctx context.Context) {
	backoffTick := q.clock.NewTimer(backoffFlushPeriod)
	defer backoffTick.Stop()
	parkedTick := q.clock.NewTimer(unschedulableFlushPeriod)
	defer parkedTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-backoffTick.C():
			q.flushBackoffCompleted()
			backoffTick.Reset(backoffFlushPeriod)
		case <-parkedTick.C():
			q.flushUnschedulableLeftover()
			parkedTick.Reset(unschedulableFlushPeriod)
		}
	}
}

// Add queues a new pending pod.
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.contains(podKey(pod)) {
		q.update(nil, pod)
		return
	}
	pi := &QueuedPodInfo{PodInfo: framework.NewPodInfo(pod), Timestamp: q.clock.Now()}
	q.nominator.AddNominatedPod(pi.PodInfo, "")
	q.pushActive(pi)
}

// Update replaces a queued pod with its new version. A parked pod whose
// spec changed is retried at once: the change may make it fit.
func (q *Queue) Update(oldPod, newPod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.update(oldPod, newPod)
}

func (q *Queue) update(oldPod, newPod *corev1.Pod) {
	key := podKey(newPod)
	info := framework.NewPodInfo(newPod)
	q.nominator.UpdateNominatedPod(oldPod, info)
	if pi, ok := q.active.Get(key); ok {
		pi.PodInfo = info
		q.active.AddOrUpdate(pi)
		return
	}
	if pi, ok := q.backoff.Get(key); ok {
		pi.PodInfo = info
		q.backoff.AddOrUpdate(pi)
		return
	}
	if pi, ok := q.parked.get(key); ok {
		changed := specChanged(pi.Pod, newPod)
		pi.PodInfo = info
		if changed {
			q.parked.remove(key)
			pi.Timestamp = q.clock.Now()
			q.pushActive(pi)
		}
		return
	}
	if f, ok := q.inFlight[key]; ok {
		f.latest = newPod
		return
	}
	q.pushActive(&QueuedPodInfo{PodInfo: info, Timestamp: q.clock.Now()})
}

// Delete removes a pod from the queue (deleted, or bound by someone).
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := podKey(pod)
	q.nominator.DeleteNominatedPodIfExists(pod)
	q.active.Delete(key)
	q.backoff.Delete(key)
	q.parked.remove(key)
	if f, ok := q.inFlight[key]; ok {
		f.deleted = true
	}
}

// Pop returns the first active pod, blocking until there is one or ctx
// ends (then it returns ctx's error). The pod is in flight until Done or
// AddUnschedulableIfNotPresent.
func (q *Queue) Pop(ctx context.Context) (*QueuedPodInfo, error) {
	q.mu.Lock()
	for {
		if pi, ok := q.active.Pop(); ok {
			q.cycle++
			pi.Attempts++
			if pi.Attempts == 1 {
				pi.InitialAttemptTimestamp = q.clock.Now()
			}
			q.inFlight[pi.key()] = &inFlightPod{cycle: q.cycle}
			q.mu.Unlock()
			return pi, nil
		}
		wake := q.wake
		q.waiters++
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		q.mu.Lock()
		q.waiters--
		if err := ctx.Err(); err != nil {
			q.mu.Unlock()
			return nil, err
		}
	}
}

// Done ends the in-flight period of pod (it was assumed on a node).
func (q *Queue) Done(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.finishInFlight(podKey(pod))
}

// AddUnschedulableIfNotPresent returns a pod whose attempt failed. After
// an internal error (rejected false) it backs off. A rejected pod is
// parked until an event one of its UnschedulablePlugins registered (any
// event when there are none), unless such an event already arrived while
// it was in flight: then it only backs off. A pod deleted or re-added
// meanwhile is left alone.
func (q *Queue) AddUnschedulableIfNotPresent(pi *QueuedPodInfo, rejected bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := pi.key()
	f := q.inFlight[key]
	events := q.eventsSince(f)
	q.finishInFlight(key)
	if (f != nil && f.deleted) || q.contains(key) {
		return
	}
	pi.Timestamp = q.clock.Now()
	if f != nil && f.latest != nil {
		changed := specChanged(pi.Pod, f.latest)
		pi.PodInfo = framework.NewPodInfo(f.latest)
		if changed {
			q.backoff.AddOrUpdate(pi)
			return
		}
	}
	if !rejected {
		q.backoff.AddOrUpdate(pi)
		return
	}
	for _, ev := range events {
		if len(pi.UnschedulablePlugins) == 0 || q.interested(pi, ev) {
			q.backoff.AddOrUpdate(pi)
			return
		}
	}
	q.parked.add(pi)
}

// MoveOnEvent retries the parked pods that a plugin interested in ev
// rejected: to the back-off queue if their back-off has not ended, else
// to the active queue.
func (q *Queue) MoveOnEvent(ev framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.inFlight) > 0 {
		q.events = append(q.events, recordedEvent{cycle: q.cycle, event: ev})
	}
	for _, plugin := range q.parked.plugins() {
		if plugin != anyEvent && !q.pluginInterested(plugin, ev) {
			continue
		}
		for key, pi := range q.parked.byPlugin[plugin] {
			q.parked.remove(key)
			q.requeue(pi)
		}
	}
}

// Len returns how many pods are active, backing off and parked.
func (q *Queue) Len() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.parked.pods)
}

// PendingPods returns every queued pod (not those in flight).
func (q *Queue) PendingPods() []*corev1.Pod {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*corev1.Pod
	for _, pi := range q.active.items {
		out = append(out, pi.Pod)
	}
	for _, pi := range q.backoff.items {
		out = append(out, pi.Pod)
	}
	for _, pi := range q.parked.pods {
		out = append(out, pi.Pod)
	}
	return out
}

func (q *Queue) contains(key string) bool {
	_, a := q.active.Get(key)
	_, b := q.backoff.Get(key)
	_, c := q.parked.get(key)
	return a || b || c
}

func (q *Queue) pushActive(pi *QueuedPodInfo) {
	q.active.AddOrUpdate(pi)
	if q.waiters > 0 {
		close(q.wake)
		q.wake = make(chan struct{})
	}
}

// requeue puts a pod that may fit now where its back-off says.
func (q *Queue) requeue(pi *QueuedPodInfo) {
	if q.clock.Now().Before(q.backoffExpiry(pi)) {
		q.backoff.AddOrUpdate(pi)
		return
	}
	q.pushActive(pi)
}

func (q *Queue) backoffExpiry(pi *QueuedPodInfo) time.Time {
	return pi.Timestamp.Add(backoffDuration(pi.Attempts, q.opts.InitialBackoff, q.opts.MaxBackoff))
}

func (q *Queue) flushBackoffCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for {
		pi, ok := q.backoff.Peek()
		if !ok || now.Before(q.backoffExpiry(pi)) {
			return
		}
		q.backoff.Pop()
		q.pushActive(pi)
	}
}

func (q *Queue) flushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for key, pi := range q.parked.pods {
		if now.Sub(pi.Timestamp) > q.opts.MaxInUnschedulable {
			q.parked.remove(key)
			q.requeue(pi)
		}
	}
}

func (q *Queue) finishInFlight(key string) {
	if _, ok := q.inFlight[key]; !ok {
		return
	}
	delete(q.inFlight, key)
	if len(q.inFlight) == 0 {
		q.events = nil
		return
	}
	oldest := q.cycle
	for _, f := range q.inFlight {
		oldest = min(oldest, f.cycle)
	}
	i := 0
	for i < len(q.events) && q.events[i].cycle < oldest {
		i++
	}
	q.events = q.events[i:]
}

// eventsSince returns the events recorded while f was in flight.
func (q *Queue) eventsSince(f *inFlightPod) []framework.ClusterEvent {
	if f == nil {
		return nil
	}
	var out []framework.ClusterEvent
	for _, e := range q.events {
		if e.cycle >= f.cycle {
			out = append(out, e.event)
		}
	}
	return out
}

func (q *Queue) interested(pi *QueuedPodInfo, ev framework.ClusterEvent) bool {
	for plugin := range pi.UnschedulablePlugins {
		if q.pluginInterested(plugin, ev) {
			return true
		}
	}
	return false
}

// pluginInterested reports whether plugin registered ev; plugins that
// registered nothing are interested in everything.
func (q *Queue) pluginInterested(plugin string, ev framework.ClusterEvent) bool {
	registered, ok := q.opts.PluginEvents[plugin]
	if !ok {
		return true
	}
	for _, r := range registered {
		if r.Resource == ev.Resource && r.ActionType&ev.ActionType != 0 {
			return true
		}
	}
	return false
}

// Package controller is the one informer + workqueue loop every controller
// runs in: it waits for caches, runs workers, recovers from panics and
// requeues failed keys with back-off. A controller is only its Sync.
package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// SyncFunc brings the world in line with the object named by key. It must
// be idempotent: the loop calls it again on failure and on every change.
type SyncFunc func(ctx context.Context, key string) error

// Requeue is returned by a SyncFunc that succeeded for now but must look
// again after After (waiting on something it does not watch).
type Requeue struct{ After time.Duration }

func (r Requeue) Error() string { return fmt.Sprintf("requeue after %v", r.After) }

// Loop runs a SyncFunc over a rate-limited workqueue of keys.
type Loop struct {
	name    string
	sync    SyncFunc
	workers int
	queue   workqueue.TypedRateLimitingInterface[string]
}

// New returns a loop named name with the given number of workers.
func New(name string, workers int, sync SyncFunc) *Loop {
	return &Loop{
		name:    name,
		sync:    sync,
		workers: workers,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
	}
}

// Enqueue adds a key; event handlers call only this.
func (l *Loop) Enqueue(key string) { l.queue.Add(key) }

// EnqueueAfter adds a key once d has passed; a key already waiting is not
// added twice, so changes within d share one sync.
func (l *Loop) EnqueueAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// Len is how many keys wait to be synced now, not counting those added
// with a delay that has not passed.
func (l *Loop) Len() int { return l.queue.Len() }

// EnqueueObject adds the namespace/name key of an informer object.
func (l *Loop) EnqueueObject(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err == nil {
		l.queue.Add(key)
	}
}

// Run waits for synced, then processes keys until ctx ends and every worker
// has returned.
func (l *Loop) Run(ctx context.Context, synced ...cache.InformerSynced) error {
	logger := klog.FromContext(ctx).WithValues("controller", l.name)
	ctx = klog.NewContext(ctx, logger)
	defer l.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil // ctx ended first
	}
	logger.V(2).Info("Controller started")
	var wg sync.WaitGroup
	for range l.workers {
		wg.Go(func() {
			for l.next(ctx) {
			}
		})
	}
	<-ctx.Done()
	l.queue.ShutDown()
	wg.Wait()
	return nil
}

func (l *Loop) next(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	err := l.safeSync(ctx, key)
	var requeue Requeue
	switch {
	case err == nil:
		l.queue.Forget(key)
	case asRequeue(err, &requeue):
		l.queue.Forget(key)
		l.queue.AddAfter(key, requeue.After)
	default:
		klog.FromContext(ctx).V(2).Info("Sync failed, retrying", "key", key, "err", err)
		l.queue.AddRateLimited(key)
	}
	return true
}

func asRequeue(err error, r *Requeue) bool {
	rq, ok := err.(Requeue) //nolint:errorlint // a Requeue is returned as is
	if ok {
		*r = rq
	}
	return ok
}

// safeSync turns a panic in sync into an error, so one bad object cannot
// stop the controller.
func (l *Loop) safeSync(ctx context.Context, key string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			utilruntime.HandleErrorWithContext(ctx, fmt.Errorf("%v", p), "Sync panicked", "key", key)
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return l.sync(ctx, key)
}

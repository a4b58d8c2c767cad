package watchcache

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/internal/storage"
)

// watcherQueue is how many events a watcher may lag behind before it is
// cut off; the client then resumes from its last resourceVersion.
const watcherQueue = 1000

// catchUpTimeout bounds how long a watch from a revision the cache has not
// reached yet waits for it.
const catchUpTimeout = 3 * time.Second

// Watch implements storage.Interface. Watches of a whole prefix from the
// cache's window are served from memory; single keys and older or newer
// revisions go to storage, which keeps a longer history.
func (c *Cache) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	if !opts.Recursive {
		return c.cfg.Storage.Watch(ctx, key, opts)
	}
	rv, err := c.Versioner().ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if err := c.waitFor(ctx, 0); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if int64(rv) > c.rev {
		// A client usually resumes from a revision it just read; give the
		// cache a moment to get there rather than fall back to storage.
		waitCtx, cancel := context.WithTimeout(ctx, catchUpTimeout)
		_ = c.waitFor(waitCtx, int64(rv))
		cancel()
	}
	var initial []cachedEvent
	switch {
	case rv == 0:
		for _, k := range c.sortedKeys(key) {
			initial = append(initial, cachedEvent{key: k, typ: watch.Added, obj: c.objects[k]})
		}
	case int64(rv) == c.rev:
	case int64(rv) > c.rev || int64(rv) < c.log.horizon:
		c.mu.Unlock()
		return c.cfg.Storage.Watch(ctx, key, opts)
	default:
		initial = slices.Clone(c.log.since(int64(rv)))
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &cacheWatcher{
		prefix: key,
		pred:   opts.Predicate,
		limit:  watcherQueue + len(initial),
		queue:  initial,
		wake:   make(chan struct{}, 1),
		result: make(chan watch.Event),
		cancel: cancel,
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(w.result)
		w.run(ctx)
		c.mu.Lock()
		delete(c.watchers, w)
		c.mu.Unlock()
	}()
	return w, nil
}

// cacheWatcher filters the cache's events for one client.
type cacheWatcher struct {
	prefix string
	pred   storage.Predicate
	result chan watch.Event
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// The events not yet sent wait in a slice that grows with the
	// backlog: a channel able to hold the whole limit reserved 72 KB per
	// watcher, idle or not (72 MB for 1,000 watchers).
	mu      sync.Mutex
	queue   []cachedEvent
	spare   []cachedEvent // the last batch sent, reused when small
	limit   int           // the most events queued before the watcher is cut off
	stopped bool          // nothing more is queued: send what is, then end
	wake    chan struct{} // holds a token when queue or stopped changed
}

// spareCap is the largest batch kept for reuse: past a backlog, an idle
// watcher holds no more than this.
const spareCap = 64

// offerLocked queues an event; a watcher whose queue is full is cut off.
// The cache's mu is held.
func (w *cacheWatcher) offerLocked(e cachedEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if len(w.queue) >= w.limit {
		w.stopped = true
	} else {
		w.queue = append(w.queue, e)
	}
	w.signal()
}

// stopLocked ends the watcher once it has sent what it queued. The cache's
// mu is held.
func (w *cacheWatcher) stopLocked() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.stopped = true
		w.signal()
	}
}

// signal wakes the run loop. w.mu is held.
func (w *cacheWatcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// next takes the queued events, waiting for some; done says the watcher
// was stopped and has nothing left, or ctx ended.
func (w *cacheWatcher) next(ctx context.Context) (batch []cachedEvent, done bool) {
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			batch, w.queue, w.spare = w.queue, w.spare, nil
			w.mu.Unlock()
			return batch, false
		}
		stopped := w.stopped
		w.mu.Unlock()
		if stopped {
			return nil, true
		}
		select {
		case <-ctx.Done():
			return nil, true
		case <-w.wake:
		}
	}
}

// recycle keeps a small sent batch for the next one.
func (w *cacheWatcher) recycle(batch []cachedEvent) {
	if cap(batch) > spareCap {
		return
	}
	clear(batch)
	w.mu.Lock()
	w.spare = batch[:0]
	w.mu.Unlock()
}

func (w *cacheWatcher) run(ctx context.Context) {
	for {
		batch, done := w.next(ctx)
		if done {
			return
		}
		for _, e := range batch {
			ev, send := w.transform(e)
			if !send {
				continue
			}
			select {
			case w.result <- ev:
			case <-ctx.Done():
				return
			}
		}
		w.recycle(batch)
	}
}

// transform applies the predicate: objects entering the selection are
// ADDED, leaving it DELETED.
func (w *cacheWatcher) transform(e cachedEvent) (watch.Event, bool) {
	if !strings.HasPrefix(e.key, w.prefix) {
		return watch.Event{}, false
	}
	matches := func(obj runtime.Object) bool {
		if obj == nil {
			return false
		}
		ok, err := w.pred.Matches(obj)
		return err == nil && ok
	}
	switch e.typ {
	case watch.Added:
		return watch.Event{Type: watch.Added, Object: e.obj}, matches(e.obj)
	case watch.Deleted:
		return watch.Event{Type: watch.Deleted, Object: e.obj}, matches(e.obj)
	}
	cur, prev := matches(e.obj), matches(e.prev)
	switch {
	case cur && prev:
		return watch.Event{Type: watch.Modified, Object: e.obj}, true
	case cur:
		return watch.Event{Type: watch.Added, Object: e.obj}, true
	case prev:
		// The last matching state, at the revision it stopped matching.
		obj := e.prev.DeepCopyObject()
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetResourceVersion(resourceVersionOf(e.obj))
		}
		return watch.Event{Type: watch.Deleted, Object: obj}, true
	}
	return watch.Event{}, false
}

func resourceVersionOf(obj runtime.Object) string {
	if accessor, err := meta.Accessor(obj); err == nil {
		return accessor.GetResourceVersion()
	}
	return ""
}

// Stop implements watch.Interface.
func (w *cacheWatcher) Stop() {
	w.cancel()
	go func() {
		for range w.result { //nolint:revive // draining
		}
	}()
	w.wg.Wait()
}

// ResultChan implements watch.Interface.
func (w *cacheWatcher) ResultChan() <-chan watch.Event { return w.result }

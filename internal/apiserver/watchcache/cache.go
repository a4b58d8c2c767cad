// Package watchcache keeps a decoded copy of one resource in memory, fed
// by a single storage watch, and serves lists and watches from it so that
// many clients cost one storage watch and no decoding per client.
package watchcache

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/apiserver/watchcache/sharing"
	"github.com/tugcluster/tug/internal/storage"
)

// Config describes the cached resource.
type Config struct {
	// Storage is the store the cache reads from and writes go to.
	Storage storage.Interface
	// Backend answers the current revision for consistent reads.
	Backend interface {
		Revision(ctx context.Context) (int64, error)
	}
	// Prefix is the resource's key prefix, ending in "/".
	Prefix string
	// NewFunc and NewListFunc make empty objects and lists.
	NewFunc     func() runtime.Object
	NewListFunc func() runtime.Object
	// EventCapacity is how many recent events watchers can always resume
	// from. Default 4000: several times the lag (watcherQueue) at which a
	// slow watcher is ended, so that it can resume from the cache.
	EventCapacity int
	// EventWindow keeps the events younger than this as well, up to
	// MaxEvents (see eventLog). Defaults 30s and 25,000.
	EventWindow time.Duration
	MaxEvents   int
	// Share, if set, makes each object from storage share the parts it has
	// in common with objects cached before it (sharing.New), before the
	// cache publishes it.
	Share sharing.Func
}

// Cache implements storage.Interface for one resource: writes, gets and
// paginated or exact lists go to storage; other lists and all watches are
// served from memory. Objects it returns are shared and must not be mutated.
type Cache struct {
	cfg Config

	mu       sync.RWMutex
	cond     *sync.Cond // broadcast when rev advances
	objects  map[string]runtime.Object
	rev      int64
	log      eventLog
	ready    bool
	stopped  bool // Run has ended: nothing will change any more
	watchers map[*cacheWatcher]struct{}
	// requestProgress asks the storage watch for a bookmark: waiting for
	// a revision beyond rev, the cache asks instead of storage reporting
	// every revision unasked. Nil until the watch starts.
	requestProgress func()
	// written is the revision of the newest write made through the cache
	// (see WaitWritten).
	written atomic.Int64
}

var _ storage.Interface = (*Cache)(nil)

// New returns a cache; Run fills it and keeps it current.
func New(cfg Config) *Cache {
	if cfg.EventCapacity == 0 {
		cfg.EventCapacity = 4 * watcherQueue
	}
	if cfg.EventWindow == 0 {
		cfg.EventWindow = 30 * time.Second
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = 25000
	}
	c := &Cache{cfg: cfg, objects: map[string]runtime.Object{}, watchers: map[*cacheWatcher]struct{}{},
		log: newEventLog(cfg.EventCapacity, cfg.MaxEvents, cfg.EventWindow)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Run lists and watches storage until ctx ends, relisting whenever the
// watch breaks.
func (c *Cache) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithValues("prefix", c.cfg.Prefix)
	for ctx.Err() == nil {
		if err := c.listAndWatch(ctx); err != nil && ctx.Err() == nil {
			logger.V(2).Info("Watch cache restarting", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	c.mu.Lock()
	// Stopped, the cache keeps what it holds for reads that take any
	// revision (admission's, while the server shuts down); reads that
	// need a newer one go to storage at once instead of waiting.
	c.stopped = true
	for w := range c.watchers {
		w.stopLocked()
	}
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *Cache) listAndWatch(ctx context.Context) error {
	list := c.cfg.NewListFunc()
	if err := c.cfg.Storage.GetList(ctx, c.cfg.Prefix, storage.ListOptions{Recursive: true, Predicate: storage.Everything()}, list); err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	rev, err := listRevision(list)
	if err != nil {
		return err
	}
	c.replace(items, rev)
	w, err := c.cfg.Storage.Watch(ctx, c.cfg.Prefix, storage.ListOptions{
		Recursive: true, Predicate: storage.Everything(), ResourceVersion: strconv.FormatInt(rev, 10),
		ProgressNotify: true, TakeWritten: true,
	})
	if err != nil {
		return err
	}
	if pr, ok := w.(storage.ProgressRequester); ok {
		c.mu.Lock()
		c.requestProgress = pr.RequestProgress
		c.mu.Unlock()
	}
	defer w.Stop()
	// Writes trim the event log as they add to it; after the last one,
	// this lets what a burst left behind go. Not more often than every
	// second: a test's window of a nanosecond would make it spin.
	trim := time.NewTicker(max(c.cfg.EventWindow, time.Second))
	defer trim.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-trim.C:
			c.mu.Lock()
			c.log.trim(now.UnixNano())
			c.mu.Unlock()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("storage watch closed")
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("storage watch: %v", ev.Object)
			}
			if ev.Type == watch.Bookmark {
				c.progress(ev.Object)
				continue
			}
			if err := c.apply(ev); err != nil {
				return err
			}
		}
	}
}

func listRevision(list runtime.Object) (int64, error) {
	la, err := meta.ListAccessor(list)
	if err != nil {
		return 0, err
	}
	if la.GetResourceVersion() == "" {
		return 0, nil // an empty, never written store
	}
	return strconv.ParseInt(la.GetResourceVersion(), 10, 64)
}

// replace swaps in a fresh listing. Watchers cannot be resumed across a
// gap in events, so they are ended; clients re-watch.
func (c *Cache) replace(items []runtime.Object, rev int64) {
	objects := make(map[string]runtime.Object, len(items))
	for _, item := range items {
		c.share(item)
		objects[objectKey(c.cfg.Prefix, item)] = item
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects, c.rev, c.ready = objects, rev, true
	c.log.reset(rev)
	for w := range c.watchers {
		w.stopLocked()
	}
	c.cond.Broadcast()
}

// share lets obj, new from storage, share parts with cached objects.
func (c *Cache) share(obj runtime.Object) {
	if c.cfg.Share != nil {
		c.cfg.Share(obj)
	}
}

// apply records one storage event.
func (c *Cache) apply(ev watch.Event) error {
	accessor, err := meta.Accessor(ev.Object)
	if err != nil {
		return err
	}
	rev, err := strconv.ParseInt(accessor.GetResourceVersion(), 10, 64)
	if err != nil {
		return err
	}
	key := objectKey(c.cfg.Prefix, ev.Object)
	c.share(ev.Object)
	at := time.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := cachedEvent{key: key, rev: rev, typ: ev.Type, obj: ev.Object, prev: c.objects[key], at: at}
	if ev.Type == watch.Deleted {
		delete(c.objects, key)
	} else {
		c.objects[key] = ev.Object
	}
	c.log.add(e)
	c.rev = rev
	for w := range c.watchers {
		w.offerLocked(e)
	}
	c.cond.Broadcast()
	return nil
}

// progress records that storage has no changes for this prefix up to the
// bookmark's revision.
func (c *Cache) progress(obj runtime.Object) {
	rev, err := strconv.ParseInt(resourceVersionOf(obj), 10, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev > c.rev {
		c.rev = rev
		c.cond.Broadcast()
	}
}

// objectKey is the storage key of obj under prefix.
func objectKey(prefix string, obj runtime.Object) string {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return prefix
	}
	if ns := accessor.GetNamespace(); ns != "" {
		return prefix + ns + "/" + accessor.GetName()
	}
	return prefix + accessor.GetName()
}

// waitFor blocks until the cache reflects revision rev or ctx ends,
// asking storage for progress while it waits.
func (c *Cache) waitFor(ctx context.Context, rev int64) error {
	return c.wait(ctx, rev, true)
}

// wait is waitFor, asking for progress only if ask is set: a revision of
// one of the cache's own events arrives without asking.
func (c *Cache) wait(ctx context.Context, rev int64, ask bool) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	for (!c.ready || c.rev < rev) && ctx.Err() == nil {
		if ask && c.ready && c.requestProgress != nil {
			c.requestProgress()
		}
		c.cond.Wait()
	}
	return ctx.Err()
}

// catchUp waits, for a bounded time, until the cache reflects rev; a
// revision it does not reach in time is reported as too large, as
// Kubernetes does. c.mu is held. A cache already there answers without
// the timer and wake-up a wait sets up (most reads: a pod create's
// admission reads several).
func (c *Cache) catchUp(ctx context.Context, rev int64) error {
	return c.catchUpAsking(ctx, rev, true)
}

// catchUpAsking is catchUp, asking storage for progress while it waits
// only if ask is set.
func (c *Cache) catchUpAsking(ctx context.Context, rev int64, ask bool) error {
	if c.ready && c.rev >= rev {
		return ctx.Err()
	}
	if c.stopped {
		return storage.NewError(storage.CodeTooLargeRevision, c.cfg.Prefix, rev)
	}
	waitCtx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	err := c.wait(waitCtx, rev, ask)
	if err != nil && ctx.Err() == nil {
		return storage.NewError(storage.CodeTooLargeRevision, c.cfg.Prefix, rev)
	}
	return err
}

// sortedKeys returns the cached keys under prefix in order.
func (c *Cache) sortedKeys(prefix string) []string {
	keys := make([]string, 0, len(c.objects))
	for k := range c.objects {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Versioner implements storage.Interface.
func (c *Cache) Versioner() storage.Versioner { return c.cfg.Storage.Versioner() }

// Create implements storage.Interface.
func (c *Cache) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	return c.noteWritten(out, c.cfg.Storage.Create(ctx, key, obj, out, ttl))
}

// Delete implements storage.Interface.
func (c *Cache) Delete(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions,
	validate storage.ValidateObjectFunc, cached runtime.Object) error {
	return c.noteWritten(out, c.cfg.Storage.Delete(ctx, key, out, pre, validate, c.orCached(key, cached)))
}

// GuaranteedUpdate implements storage.Interface.
func (c *Cache) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	pre *storage.Preconditions, tryUpdate storage.UpdateFunc, cached runtime.Object) error {
	return c.noteWritten(dest, c.cfg.Storage.GuaranteedUpdate(ctx, key, dest, ignoreNotFound, pre, tryUpdate, c.orCached(key, cached)))
}

// noteWritten records the revision of out, the result of a write that
// returned err, as the newest write's if it is (a write that changed
// nothing answers with the stored revision, which is no newer), and
// returns err.
func (c *Cache) noteWritten(out runtime.Object, err error) error {
	if err != nil {
		return err
	}
	rev, verr := c.Versioner().ObjectResourceVersion(out)
	if verr != nil {
		return nil
	}
	for {
		seen := c.written.Load()
		if int64(rev) <= seen || c.written.CompareAndSwap(seen, int64(rev)) {
			return nil
		}
	}
}

// WaitWritten blocks until the cache reflects every write made through it
// (and so through this server), for at most catchUpTimeout. After it, a
// read of any revision from the cache sees this server's own writes: what
// admission needs of the objects it reads on every pod create (limit
// ranges, priority classes), as upstream's plugins read informers. A
// consistent read would instead wait for the cache to hear of storage's
// newest revision, which for a resource written rarely only a progress
// report from storage brings, and each such request has every resource's
// storage watch report; the revision of a write through the cache is one
// of its own events, which come unasked. It fails as catchUp does.
func (c *Cache) WaitWritten(ctx context.Context) error {
	rev := c.written.Load()
	c.mu.RLock()
	done := c.ready && c.rev >= rev
	c.mu.RUnlock()
	if done {
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.catchUpAsking(ctx, rev, false)
}

// orCached is the caller's cached object for key, or else the cache's own:
// storage copies it instead of decoding the stored bytes when it is of the
// stored revision (an object is usually written again well after the cache
// saw its last write), and never modifies it.
func (c *Cache) orCached(key string, cached runtime.Object) runtime.Object {
	if cached != nil {
		return cached
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.objects[key]
}

// Count implements storage.Interface.
func (c *Cache) Count(ctx context.Context, key string) (int64, error) {
	return c.cfg.Storage.Count(ctx, key)
}

// Get implements storage.Interface. Reads without a resourceVersion are
// consistent and go to storage; others are served from memory once the
// cache has caught up with the requested revision.
func (c *Cache) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	if opts.ResourceVersion == "" {
		return c.cfg.Storage.Get(ctx, key, opts, out)
	}
	minRev, err := c.Versioner().ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, int64(minRev)); err != nil {
		return err
	}
	obj, ok := c.objects[key]
	if !ok {
		if opts.IgnoreNotFound {
			return runtime.SetZeroValue(out)
		}
		return storage.NewError(storage.CodeKeyNotFound, key, c.rev)
	}
	return copyInto(obj, out)
}

// copyInto deep-copies a cached object into a caller's out parameter.
func copyInto(obj, out runtime.Object) error {
	src, dst := reflect.ValueOf(obj.DeepCopyObject()), reflect.ValueOf(out)
	if src.Type() != dst.Type() || dst.Kind() != reflect.Pointer {
		return fmt.Errorf("cannot copy %T into %T", obj, out)
	}
	dst.Elem().Set(src.Elem())
	return nil
}

// GetList implements storage.Interface. Paginated and exact-revision lists
// go to storage; the rest are served from memory at the newest revision,
// after the cache has caught up with storage (or with the requested
// minimum revision). A limit on a list that takes any revision
// (resourceVersion "0", or a minimum with resourceVersionMatch
// NotOlderThan) is ignored and the whole list served from memory, as
// Kubernetes' watch cache does: a client-go informer's first list is of
// this kind.
func (c *Cache) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	anyRevision := opts.ResourceVersion == "0" || opts.ResourceVersionMatch == metav1.ResourceVersionMatchNotOlderThan
	if (opts.Predicate.Limit > 0 && !anyRevision) || opts.Predicate.Continue != "" ||
		opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact || !opts.Recursive {
		return c.cfg.Storage.GetList(ctx, key, opts, listObj)
	}
	var minRev int64
	if opts.ResourceVersion == "" {
		rev, err := c.cfg.Backend.Revision(ctx)
		if err != nil {
			return err
		}
		minRev = rev
	} else {
		rv, err := c.Versioner().ParseResourceVersion(opts.ResourceVersion)
		if err != nil {
			return err
		}
		minRev = int64(rv)
	}
	c.mu.Lock()
	if err := c.catchUp(ctx, minRev); err != nil {
		c.mu.Unlock()
		if opts.ResourceVersion == "" && storage.IsTooLargeRevision(err) {
			// A consistent read the cache cannot serve in time is served
			// by storage: slower, never wrong.
			return c.cfg.Storage.GetList(ctx, key, opts, listObj)
		}
		return err
	}
	keys := c.sortedKeys(key)
	objs := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		objs = append(objs, c.objects[k])
	}
	rev := c.rev
	c.mu.Unlock()

	matching := objs[:0]
	for _, obj := range objs {
		ok, err := opts.Predicate.Matches(obj)
		if err != nil {
			return err
		}
		if ok {
			matching = append(matching, obj)
		}
	}
	if err := meta.SetList(listObj, matching); err != nil {
		return err
	}
	return c.Versioner().UpdateList(listObj, uint64(rev), "", nil)
}

// WaitReady blocks until the cache holds its first listing or ctx ends.
func (c *Cache) WaitReady(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitFor(ctx, 0)
}

package storage

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// Watch implements Interface.
func (s *Store) Watch(ctx context.Context, key string, opts ListOptions) (watch.Interface, error) {
	rev, err := s.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	prefix := key
	if opts.Recursive {
		prefix = recursivePrefix(key)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &storeWatcher{
		store:     s,
		key:       prefix,
		recursive: opts.Recursive,
		progress:  opts.ProgressNotify,
		takes:     opts.TakeWritten,
		pred:      opts.Predicate,
		result:    make(chan watch.Event, 100),
		requests:  make(chan struct{}, 1),
		cancel:    cancel,
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(w.result)
		w.run(ctx, int64(rev))
	}()
	return w, nil
}

// storeWatcher turns backend events into decoded, filtered watch events.
type storeWatcher struct {
	store     *Store
	key       string
	recursive bool
	progress  bool
	takes     bool // TakeWritten
	pred      Predicate
	result    chan watch.Event
	requests  chan struct{} // RequestProgress calls, coalesced
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// ProgressRequester is a watch that reports progress when asked.
type ProgressRequester interface {
	// RequestProgress asks for a BOOKMARK at the newest revision the watch
	// has seen, and, through the backend (WatchProgressRequester), another
	// at the backend's newest revision once the watch reaches it, so that a
	// caller waiting for a revision without events for this watch learns
	// when it is reached.
	RequestProgress()
}

// RequestProgress implements ProgressRequester; it never blocks.
func (w *storeWatcher) RequestProgress() {
	select {
	case w.requests <- struct{}{}:
	default:
	}
}

// Stop implements watch.Interface; it returns once the watcher's
// goroutine has exited and ResultChan is closed.
func (w *storeWatcher) Stop() {
	w.cancel()
	// Drain so the goroutine is never stuck on a send nobody reads.
	go func() {
		for range w.result { //nolint:revive // draining
		}
	}()
	w.wg.Wait()
}

// ResultChan implements watch.Interface.
func (w *storeWatcher) ResultChan() <-chan watch.Event { return w.result }

func (w *storeWatcher) run(ctx context.Context, rev int64) {
	var listed int64 // the events up to this revision are in the initial state
	if rev == 0 {
		// Start from the current state: every matching object is ADDED.
		// The watch starts first (from now), so that no write between it
		// and the read of the state is lost; of what it brings, the state
		// already holds what is at or below the state's revision.
		responses := w.store.backend.Watch(ctx, w.key, w.recursive, 0)
		var initial []watch.Event
		var err error
		listed, err = w.store.backend.Range(ctx, w.key, "", 0, func(kv KeyValue) bool {
			if !w.recursive && kv.Key != w.key {
				return false
			}
			obj, ok, decodeErr := w.decodeMatching(kv.Key, kv.Value, kv.ModRevision, false)
			if decodeErr != nil {
				err = decodeErr
				return false
			}
			if ok {
				initial = append(initial, watch.Event{Type: watch.Added, Object: obj})
			}
			return true
		})
		if err != nil {
			w.sendError(ctx, err)
			return
		}
		for _, ev := range initial {
			if !w.send(ctx, ev) {
				return
			}
		}
		w.follow(ctx, responses, listed)
		return
	}
	w.follow(ctx, w.store.backend.Watch(ctx, w.key, w.recursive, rev), 0)
}

// follow turns the backend's responses into watch events, skipping those
// at or below revision listed, and reports progress.
func (w *storeWatcher) follow(ctx context.Context, responses <-chan WatchResponse, listed int64) {
	seen, reported := listed, listed // the newest revision seen, and reported by a bookmark
	asked := false                   // a progress request waits for the backend's next revision
	report := func(rev int64) bool {
		reported = rev
		return w.send(ctx, w.bookmark(rev))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.requests:
			if !w.progress {
				continue
			}
			asked = true
			if r, ok := w.store.backend.(WatchProgressRequester); ok {
				// Failing, the asker waits for progress told unasked.
				_ = r.RequestWatchProgress(ctx)
			}
			if seen > reported && !report(seen) {
				return
			}
		case resp, ok := <-responses:
			if !ok {
				return
			}
			if resp.Err != nil {
				w.sendError(ctx, resp.Err)
				return
			}
			sent := false
			for _, e := range resp.Events {
				if e.KV.ModRevision <= listed {
					continue
				}
				ev, ok, err := w.transform(e)
				if err != nil {
					w.sendError(ctx, err)
					return
				}
				if ok {
					if !w.send(ctx, ev) {
						return
					}
					sent = true
				}
			}
			if resp.Revision <= 0 {
				continue
			}
			seen = max(seen, resp.Revision)
			// A response without events is the backend's progress report,
			// which it paces (WatchProgressRequester).
			if w.progress && (asked || !sent) {
				asked = false
				if !report(seen) {
					return
				}
			}
		}
	}
}

// transform maps a backend event to the watch event this watcher's
// predicate sees: objects entering the selection are ADDED, leaving it
// DELETED (the last matching state, at the event's revision).
func (w *storeWatcher) transform(e Event) (watch.Event, bool, error) {
	var cur, prev kruntime.Object
	var curOK, prevOK bool
	var err error
	if e.Type == EventPut {
		if cur, curOK, err = w.decodeMatching(e.KV.Key, e.KV.Value, e.KV.ModRevision, true); err != nil {
			return watch.Event{}, false, err
		}
	}
	needPrev := e.Prev != nil && (e.Type == EventDelete || !w.pred.Empty())
	if needPrev {
		if prev, prevOK, err = w.decodeMatching(e.KV.Key, e.Prev.Value, e.KV.ModRevision, false); err != nil {
			return watch.Event{}, false, err
		}
	} else {
		prevOK = e.Prev != nil
	}
	switch {
	case e.Type == EventDelete:
		return watch.Event{Type: watch.Deleted, Object: prev}, prevOK, nil
	case curOK && prevOK:
		return watch.Event{Type: watch.Modified, Object: cur}, true, nil
	case curOK:
		return watch.Event{Type: watch.Added, Object: cur}, true, nil
	case prevOK && prev != nil:
		return watch.Event{Type: watch.Deleted, Object: prev}, true, nil
	}
	return watch.Event{}, false, nil
}

// bookmark is a progress event: an empty object at revision rev.
func (w *storeWatcher) bookmark(rev int64) watch.Event {
	obj := w.store.newFunc()
	_ = w.store.versioner.UpdateObject(obj, uint64(rev))
	return watch.Event{Type: watch.Bookmark, Object: obj}
}

// decodeMatching decodes an object stamped with rev and reports whether
// the predicate selects it. A write's new state (written) may come decoded
// already from its writer.
func (w *storeWatcher) decodeMatching(key string, data []byte, rev int64, written bool) (kruntime.Object, bool, error) {
	var obj kruntime.Object
	if written && w.takes {
		obj = w.store.handoffs.take(key, data)
	}
	if obj != nil {
		if err := w.store.stamp(key, obj, rev); err != nil {
			return nil, false, err
		}
	} else {
		obj = w.store.newFunc()
		if err := w.store.decode(key, data, obj, rev); err != nil {
			return nil, false, err
		}
	}
	ok, err := w.pred.Matches(obj)
	if err != nil {
		return nil, false, Errorf(CodeInvalidObject, key, "match %s: %v", key, err)
	}
	return obj, ok, nil
}

func (w *storeWatcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// sendError delivers err as a watch.Error event carrying a Status.
func (w *storeWatcher) sendError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	w.send(ctx, watch.Event{Type: watch.Error, Object: statusFor(err)})
}

// statusFor converts a storage error into the Status a watch stream carries.
func statusFor(err error) *metav1.Status {
	if IsExpired(err) {
		return &apierrors.NewResourceExpired(err.Error()).ErrStatus
	}
	return &apierrors.NewInternalError(err).ErrStatus
}

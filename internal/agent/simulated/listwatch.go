package simulated

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// filteredListWatch lists and watches through lw but passes on only the
// objects keep accepts, before the informer decodes them into its cache.
// Bookmarks and errors always pass: the reflector needs them to track
// resource versions and to end a watch-list's initial events.
//
// It lets one watch serve 5,000 nodes: the API server has no field
// selector for "spec.nodeName is one of these", and a watch per node
// would be 5,000 watches. The price is that the agent receives (and drops)
// the pods bound to other nodes; pod names, not objects, would be cheaper
// to drop, but this is one process per agent, not one per node.
type filteredListWatch struct {
	lw   cache.ListerWatcherWithContext
	keep func(runtime.Object) bool
}

var (
	_ cache.ListerWatcherWithContext = filteredListWatch{}
	_ cache.ListerWatcher            = filteredListWatch{}
)

// ListWithContext implements cache.ListerWithContext.
func (f filteredListWatch) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	list, err := f.lw.ListWithContext(ctx, options)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	kept := items[:0]
	for _, item := range items {
		if f.keep(item) {
			kept = append(kept, item)
		}
	}
	if err := meta.SetList(list, kept); err != nil {
		return nil, err
	}
	return list, nil
}

// WatchWithContext implements cache.WatcherWithContext.
func (f filteredListWatch) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	w, err := f.lw.WatchWithContext(ctx, options)
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		switch e.Type {
		case watch.Bookmark, watch.Error:
			return e, true
		}
		return e, f.keep(e.Object)
	}), nil
}

// List implements cache.Lister for callers without a context; the
// informer uses ListWithContext.
func (f filteredListWatch) List(options metav1.ListOptions) (runtime.Object, error) {
	return f.ListWithContext(context.Background(), options)
}

// Watch implements cache.Watcher for callers without a context; the
// informer uses WatchWithContext.
func (f filteredListWatch) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return f.WatchWithContext(context.Background(), options)
}

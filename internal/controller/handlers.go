package controller

import "k8s.io/client-go/tools/cache"

// ObjectHandler returns informer handlers that enqueue the key of every
// added, updated and deleted object: for the kind the loop is keyed by.
func (l *Loop) ObjectHandler() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    l.EnqueueObject,
		UpdateFunc: func(_, obj any) { l.EnqueueObject(obj) },
		DeleteFunc: l.EnqueueObject,
	}
}

// OnEvery returns informer handlers that call f with every added object,
// the new object of every update and every deleted object (possibly a
// tombstone; As unwraps it).
func OnEvery(f func(obj any)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    f,
		UpdateFunc: func(_, obj any) { f(obj) },
		DeleteFunc: f,
	}
}

// As returns obj as a T, looking through the tombstone a delete handler
// may be given when the informer missed the deletion itself.
func As[T any](obj any) (T, bool) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	t, ok := obj.(T)
	return t, ok
}

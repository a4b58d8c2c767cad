package storage

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Interface is the object store the API server's registry uses. Objects
// returned through out parameters belong to the caller.
type Interface interface {
	// Versioner reads and writes resourceVersions of this store's objects.
	Versioner() Versioner
	// Create stores obj at key if key is free and decodes the stored object
	// into out (if not nil). obj must not carry a resourceVersion. A ttl
	// above zero deletes the object that many seconds after its last write.
	Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error
	// Delete removes key after checking preconditions and validateDeletion
	// against its current state, retrying on concurrent writes, and decodes
	// the deleted object into out with the delete's resourceVersion.
	// cachedExistingObject, if not nil, is a recent decoded copy of the
	// object (a watch cache's): if it is still the stored state, the
	// store copies it instead of decoding. It is never modified.
	Delete(ctx context.Context, key string, out runtime.Object, preconditions *Preconditions,
		validateDeletion ValidateObjectFunc, cachedExistingObject runtime.Object) error
	// Watch watches key (or everything under it when opts.Recursive) from
	// opts.ResourceVersion. "" or "0" first sends the current matching
	// objects as ADDED events; that initial state is read after Watch
	// returns, so it may already include writes made just after the call.
	Watch(ctx context.Context, key string, opts ListOptions) (watch.Interface, error)
	// Get decodes the object at key into out. With opts.IgnoreNotFound a
	// missing key leaves out zeroed instead of failing.
	Get(ctx context.Context, key string, opts GetOptions, out runtime.Object) error
	// GetList fills listObj with the objects under key that match
	// opts.Predicate, honoring resourceVersion, limit and continue.
	GetList(ctx context.Context, key string, opts ListOptions, listObj runtime.Object) error
	// GuaranteedUpdate reads key, calls tryUpdate with the current object and
	// writes the result if nothing changed in between, retrying otherwise. An
	// update that changes no byte writes nothing. With ignoreNotFound a
	// missing key is created from tryUpdate's result on an empty object.
	// cachedExistingObject is as for Delete.
	GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
		preconditions *Preconditions, tryUpdate UpdateFunc, cachedExistingObject runtime.Object) error
	// Count returns the number of objects under key.
	Count(ctx context.Context, key string) (int64, error)
}

// GetOptions tunes Get.
type GetOptions struct {
	// IgnoreNotFound returns a zero object instead of a not-found error.
	IgnoreNotFound bool
	// ResourceVersion, when set, is the minimum revision the read must
	// reflect.
	ResourceVersion string
}

// ListOptions tunes GetList and Watch.
type ListOptions struct {
	// ResourceVersion and ResourceVersionMatch follow the Kubernetes API
	// semantics for list and watch.
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	// Predicate filters objects and carries limit and continue.
	Predicate Predicate
	// Recursive lists or watches every key under the given key.
	Recursive bool
	// ProgressNotify makes a watch send BOOKMARK events (objects carrying
	// only a resourceVersion) when it has seen changes up to a revision that
	// included none of its own keys, so the watcher knows it is current:
	// unasked at most every so often, and when asked (ProgressRequester).
	ProgressNotify bool
	// TakeWritten makes a watch take the objects this store's writes
	// decoded for their callers instead of decoding the written bytes
	// again (see handoffs). One watch per store should: the one that
	// sees every write (the watch cache's). Another watch of the same
	// keys decodes for itself either way; were it to take an object
	// first, the watch that sees every write would decode it too.
	TakeWritten bool
}

// ResponseMeta describes the current state handed to an UpdateFunc.
type ResponseMeta struct {
	// ResourceVersion is the revision of the current object (0 if absent).
	ResourceVersion uint64
}

// UpdateFunc turns the current object into the desired one. It may return
// a TTL in seconds for the new state. It must not keep input.
type UpdateFunc func(input runtime.Object, res ResponseMeta) (output runtime.Object, ttl *uint64, err error)

// ValidateObjectFunc vetoes a delete given the current object.
type ValidateObjectFunc func(ctx context.Context, obj runtime.Object) error

// Preconditions must hold on the current object for an update or delete.
type Preconditions struct {
	UID             *types.UID
	ResourceVersion *string
}

// Check returns a conflict error if obj does not satisfy p.
func (p *Preconditions) Check(key string, obj runtime.Object) error {
	if p == nil {
		return nil
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return Errorf(CodeInvalidObject, key, "precondition check on %s: %v", key, err)
	}
	if p.UID != nil && *p.UID != accessor.GetUID() {
		return Errorf(CodeConflict, key, "Precondition failed: UID in precondition: %v, UID in object meta: %v",
			*p.UID, accessor.GetUID())
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != accessor.GetResourceVersion() {
		return Errorf(CodeConflict, key,
			"Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v",
			*p.ResourceVersion, accessor.GetResourceVersion())
	}
	return nil
}

// String helps test failure messages.
func (p *Preconditions) String() string {
	if p == nil {
		return "<none>"
	}
	return fmt.Sprintf("uid=%v rv=%v", p.UID, p.ResourceVersion)
}

package registry

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/storage"
)

// Store serves one resource from storage.
type Store struct {
	Resource *resources.Resource
	Strategy Strategy
	Storage  storage.Interface
	// Clock stamps creation and deletion times; nil means the real clock.
	Clock clock.PassiveClock
	// StoredAs, when set, is the resource whose keys hold the objects, for
	// a resource served from another one's storage (events.k8s.io events
	// are core events).
	StoredAs schema.GroupResource
}

func (s *Store) now() metav1.Time {
	c := s.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	return metav1.NewTime(c.Now().Truncate(1e9))
}

// GroupResource names the resource in errors.
func (s *Store) GroupResource() schema.GroupResource { return s.Resource.GVR.GroupResource() }

// keyRoot is /registry/<group>/<resource>, with "core" for the core group.
func (s *Store) keyRoot() string {
	gr := s.Resource.GVR.GroupResource()
	if !s.StoredAs.Empty() {
		gr = s.StoredAs
	}
	group := gr.Group
	if group == "" {
		group = "core"
	}
	return "/registry/" + group + "/" + gr.Resource
}

// Key returns the storage key of one object.
func (s *Store) Key(namespace, name string) string {
	if s.Resource.Namespaced {
		return s.keyRoot() + "/" + namespace + "/" + name
	}
	return s.keyRoot() + "/" + name
}

// prefix returns the key prefix of a list: one namespace or all.
func (s *Store) prefix(namespace string) string {
	if s.Resource.Namespaced && namespace != "" {
		return s.keyRoot() + "/" + namespace + "/"
	}
	return s.keyRoot() + "/"
}

// Get returns one object.
func (s *Store) Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	obj := s.Resource.New()
	rv := ""
	if opts != nil {
		rv = opts.ResourceVersion
	}
	if err := s.Storage.Get(ctx, s.Key(namespace, name), storage.GetOptions{ResourceVersion: rv}, obj); err != nil {
		return nil, interpretError(err, s.GroupResource(), name)
	}
	return obj, nil
}

// GetRecent reads an object from the watch cache, which may be a moment
// behind storage, and from storage when the cache does not hold it (yet):
// what admission looks up on every write, as upstream's plugins read an
// informer and fall back to a live lookup for objects created just now.
func (s *Store) GetRecent(ctx context.Context, namespace, name string) (runtime.Object, error) {
	obj, err := s.Get(ctx, namespace, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		return s.Get(ctx, namespace, name, nil)
	}
	return obj, err
}

// writesWaiter is a storage, the watch cache, that can wait until it
// reflects every write made through it.
type writesWaiter interface {
	WaitWritten(ctx context.Context) error
}

// ListRecent lists a namespace's objects ("" for all) from the watch cache
// once it holds every write this server made to the resource, else (no
// cache, or one that does not get there in time) from storage: what
// admission reads on every pod create. Unlike a consistent list, it does
// not wait for the cache to hear of storage's newest revision.
func (s *Store) ListRecent(ctx context.Context, namespace string) (runtime.Object, error) {
	if w, ok := s.Storage.(writesWaiter); ok && w.WaitWritten(ctx) == nil {
		return s.List(ctx, namespace, &metav1.ListOptions{ResourceVersion: "0"})
	}
	return s.List(ctx, namespace, &metav1.ListOptions{})
}

// predicate builds the storage predicate of a list or watch request.
func (s *Store) predicate(opts *metav1.ListOptions) (storage.Predicate, error) {
	p := storage.Predicate{GetAttrs: s.Strategy.GetAttrs, Limit: opts.Limit, Continue: opts.Continue}
	if opts.LabelSelector != "" {
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return p, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		p.Label = sel
	}
	if opts.FieldSelector != "" {
		sel, err := fields.ParseSelector(opts.FieldSelector)
		if err != nil {
			return p, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		if err := s.checkFieldSelector(sel); err != nil {
			return p, err
		}
		p.Field = sel
	}
	return p, nil
}

// checkFieldSelector rejects fields the resource cannot be selected by,
// as Kubernetes does, so a typo is not silently an empty list.
func (s *Store) checkFieldSelector(sel fields.Selector) error {
	_, supported, err := s.Strategy.GetAttrs(s.Resource.New())
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	for _, req := range sel.Requirements() {
		if _, ok := supported[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// List returns the objects of a namespace ("" for all) that match opts.
func (s *Store) List(ctx context.Context, namespace string, opts *metav1.ListOptions) (runtime.Object, error) {
	pred, err := s.predicate(opts)
	if err != nil {
		return nil, err
	}
	list := s.Resource.NewList()
	err = s.Storage.GetList(ctx, s.prefix(namespace), storage.ListOptions{
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Predicate:            pred,
		Recursive:            true,
	}, list)
	if err != nil {
		return nil, interpretError(err, s.GroupResource(), "")
	}
	return list, nil
}

// Watch streams changes to the objects of a namespace that match opts.
func (s *Store) Watch(ctx context.Context, namespace string, opts *metav1.ListOptions) (watch.Interface, error) {
	pred, err := s.predicate(opts)
	if err != nil {
		return nil, err
	}
	pred.Limit, pred.Continue = 0, ""
	w, err := s.Storage.Watch(ctx, s.prefix(namespace), storage.ListOptions{
		ResourceVersion: opts.ResourceVersion,
		Predicate:       pred,
		Recursive:       true,
	})
	if err != nil {
		return nil, interpretError(err, s.GroupResource(), "")
	}
	return w, nil
}

// ObjectMeta returns obj's metadata accessor or an internal error.
func ObjectMeta(obj runtime.Object) (metav1.Object, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return accessor, nil
}

// checkNamespace reconciles the object's namespace with the request's.
func (s *Store) checkNamespace(accessor metav1.Object, namespace string) error {
	if !s.Resource.Namespaced {
		accessor.SetNamespace("")
		return nil
	}
	if namespace == "" {
		return apierrors.NewBadRequest("namespace is required for namespaced resource " + s.Resource.GVR.Resource)
	}
	switch accessor.GetNamespace() {
	case "":
		accessor.SetNamespace(namespace)
	case namespace:
	default:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

// IsDryRun reports whether a request's dryRun values ask for a dry run.
func IsDryRun(dryRun []string) bool {
	for _, d := range dryRun {
		if strings.EqualFold(d, metav1.DryRunAll) {
			return true
		}
	}
	return false
}

// KeyPrefix is the prefix of every key of this resource.
func (s *Store) KeyPrefix() string { return s.keyRoot() + "/" }

// Package convert serves one resource from the storage of another version
// of the same objects: a storage.Interface that converts on the way in and
// out, as events.k8s.io/v1 Events are stored as core/v1 Events.
package convert

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/internal/storage"
)

// Funcs convert between the served type and the stored type.
type Funcs struct {
	// ToStored and FromStored convert one object.
	ToStored   func(runtime.Object) (runtime.Object, error)
	FromStored func(runtime.Object) (runtime.Object, error)
	// NewStored and NewStoredList make empty stored objects and lists.
	NewStored     func() runtime.Object
	NewStoredList func() runtime.Object
}

// Storage is the served view of another resource's storage.
type Storage struct {
	inner storage.Interface
	funcs Funcs
}

var _ storage.Interface = (*Storage)(nil)

// New returns the served view of inner.
func New(inner storage.Interface, funcs Funcs) *Storage { return &Storage{inner: inner, funcs: funcs} }

// into converts a stored object and copies it into out, which has the
// served type.
func (s *Storage) into(stored, out runtime.Object) error {
	served, err := s.funcs.FromStored(stored)
	if err != nil {
		return err
	}
	src, dst := reflect.ValueOf(served), reflect.ValueOf(out)
	if src.Type() != dst.Type() {
		return fmt.Errorf("cannot copy %T into %T", served, out)
	}
	dst.Elem().Set(src.Elem())
	return nil
}

// Versioner implements storage.Interface.
func (s *Storage) Versioner() storage.Versioner { return s.inner.Versioner() }

// Create implements storage.Interface.
func (s *Storage) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	stored, err := s.funcs.ToStored(obj)
	if err != nil {
		return err
	}
	storedOut := s.funcs.NewStored()
	if err := s.inner.Create(ctx, key, stored, storedOut, ttl); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return s.into(storedOut, out)
}

// Delete implements storage.Interface.
func (s *Storage) Delete(ctx context.Context, key string, out runtime.Object, pre *storage.Preconditions,
	validate storage.ValidateObjectFunc, _ runtime.Object) error {
	var validateStored storage.ValidateObjectFunc
	if validate != nil {
		validateStored = func(ctx context.Context, obj runtime.Object) error {
			served, err := s.funcs.FromStored(obj)
			if err != nil {
				return err
			}
			return validate(ctx, served)
		}
	}
	storedOut := s.funcs.NewStored()
	if err := s.inner.Delete(ctx, key, storedOut, pre, validateStored, nil); err != nil {
		return err
	}
	return s.into(storedOut, out)
}

// Watch implements storage.Interface.
func (s *Storage) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	pred := opts.Predicate
	opts.Predicate = storage.Predicate{}
	w, err := s.inner.Watch(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(ev watch.Event) (watch.Event, bool) {
		if ev.Type == watch.Error {
			return ev, true
		}
		served, err := s.funcs.FromStored(ev.Object)
		if err != nil {
			return ev, false
		}
		if ev.Type != watch.Bookmark {
			if ok, err := pred.Matches(served); err != nil || !ok {
				return ev, false
			}
		}
		ev.Object = served
		return ev, true
	}), nil
}

// Get implements storage.Interface.
func (s *Storage) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	stored := s.funcs.NewStored()
	if err := s.inner.Get(ctx, key, opts, stored); err != nil {
		return err
	}
	if accessor, err := meta.Accessor(stored); err == nil && accessor.GetName() == "" && opts.IgnoreNotFound {
		return runtime.SetZeroValue(out)
	}
	return s.into(stored, out)
}

// GetList implements storage.Interface. The served view's field selectors
// differ from the stored one's, so filtering happens after conversion; a
// limit then counts stored objects, which only makes pages shorter.
func (s *Storage) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	pred := opts.Predicate
	opts.Predicate = storage.Predicate{Limit: pred.Limit, Continue: pred.Continue}
	stored := s.funcs.NewStoredList()
	if err := s.inner.GetList(ctx, key, opts, stored); err != nil {
		return err
	}
	items, err := meta.ExtractList(stored)
	if err != nil {
		return err
	}
	served := make([]runtime.Object, 0, len(items))
	for _, item := range items {
		obj, err := s.funcs.FromStored(item)
		if err != nil {
			return err
		}
		if ok, err := pred.Matches(obj); err != nil || !ok {
			continue
		}
		served = append(served, obj)
	}
	if err := meta.SetList(listObj, served); err != nil {
		return err
	}
	la, err := meta.ListAccessor(stored)
	if err != nil {
		return err
	}
	rv, _ := s.Versioner().ParseResourceVersion(la.GetResourceVersion())
	return s.Versioner().UpdateList(listObj, rv, la.GetContinue(), la.GetRemainingItemCount())
}

// GuaranteedUpdate implements storage.Interface.
func (s *Storage) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	pre *storage.Preconditions, tryUpdate storage.UpdateFunc, _ runtime.Object) error {
	storedDest := s.funcs.NewStored()
	err := s.inner.GuaranteedUpdate(ctx, key, storedDest, ignoreNotFound, pre,
		func(input runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
			served, err := s.funcs.FromStored(input)
			if err != nil {
				return nil, nil, err
			}
			out, ttl, err := tryUpdate(served, res)
			if err != nil {
				return nil, nil, err
			}
			stored, err := s.funcs.ToStored(out)
			return stored, ttl, err
		}, nil)
	if err != nil {
		return err
	}
	return s.into(storedDest, dest)
}

// Count implements storage.Interface.
func (s *Storage) Count(ctx context.Context, key string) (int64, error) {
	return s.inner.Count(ctx, key)
}

package registry

import (
	"context"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/storage"
)

// UpdateFunc returns the object the client wants, given the current one
// (nil when the object does not exist and creation is allowed). current is
// read, never changed: the update's rules compare the result with it, so a
// function that builds on it changes a copy. The object returned becomes
// the update's own, to change as it stores it. (Copying current for every
// function was two pod copies on each status write, where most functions
// only read it; tests check the rule, see checkUnchanged.)
type UpdateFunc func(ctx context.Context, current runtime.Object) (runtime.Object, error)

// UpdateOptions tune Update.
type UpdateOptions struct {
	DryRun bool
	// ForceAllowCreate lets a missing object be created (server-side apply
	// and resources whose strategy allows create on update).
	ForceAllowCreate bool
	// Subresource is "" for the main resource, or the subresource
	// written: "status", "resize", "ephemeralcontainers", …
	Subresource string
}

// Update applies update to the object and stores the result. It returns
// the stored object and whether it was created.
func (s *Store) Update(ctx context.Context, namespace, name string, update UpdateFunc, opts UpdateOptions) (runtime.Object, bool, error) {
	key := s.Key(namespace, name)
	allowCreate := opts.Subresource == "" && (opts.ForceAllowCreate || s.Strategy.AllowCreateOnUpdate())
	if opts.DryRun {
		return s.dryRunUpdate(ctx, namespace, name, update, allowCreate, opts)
	}
	var (
		created       bool
		attempt, prev runtime.Object
	)
	out := s.Resource.New()
	err := s.Storage.GuaranteedUpdate(ctx, key, out, allowCreate, nil,
		func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			if attempt != nil {
				s.aborted(attempt, prev) // a retry replaces the last attempt
			}
			obj, isCreate, err := s.nextState(ctx, namespace, name, input, update, opts)
			created, attempt, prev = isCreate, obj, input
			if isCreate {
				prev = nil
			}
			return obj, nil, err
		}, nil)
	if err != nil {
		if attempt != nil {
			s.aborted(attempt, prev)
		}
		return nil, false, interpretError(err, s.GroupResource(), name)
	}
	s.committed(out, prev)
	// An object being deleted goes once its last finalizer is removed.
	if accessor, err := ObjectMeta(out); err == nil && accessor.GetDeletionTimestamp() != nil &&
		len(accessor.GetFinalizers()) == 0 && !s.holdsDeletion(out) && !s.waitsForGrace(out) {
		rv := accessor.GetResourceVersion()
		deleted := s.Resource.New()
		err := s.Storage.Delete(ctx, key, deleted, &storage.Preconditions{ResourceVersion: &rv}, nil, nil)
		if err == nil {
			s.committed(nil, deleted)
			return deleted, false, nil
		}
		if !storage.IsConflict(err) && !storage.IsNotFound(err) {
			return nil, false, interpretError(err, s.GroupResource(), name)
		}
	}
	return out, created, nil
}

func (s *Store) dryRunUpdate(ctx context.Context, namespace, name string, update UpdateFunc, allowCreate bool, opts UpdateOptions) (runtime.Object, bool, error) {
	current := s.Resource.New()
	err := s.Storage.Get(ctx, s.Key(namespace, name), storage.GetOptions{IgnoreNotFound: allowCreate}, current)
	if err != nil {
		return nil, false, interpretError(err, s.GroupResource(), name)
	}
	obj, created, err := s.nextState(ctx, namespace, name, current, update, opts)
	if obj != nil {
		s.aborted(obj, current)
	}
	return obj, created, err
}

// nextState computes the object to store from the current one.
func (s *Store) nextState(ctx context.Context, namespace, name string, current runtime.Object, update UpdateFunc, opts UpdateOptions) (runtime.Object, bool, error) {
	curMeta, err := ObjectMeta(current)
	if err != nil {
		return nil, false, err
	}
	exists := curMeta.GetName() != ""
	var input runtime.Object
	if exists {
		input = current
	}
	obj, err := checkUnchanged(input, func() (runtime.Object, error) { return update(ctx, input) })
	if err != nil {
		return nil, false, err
	}
	accessor, err := ObjectMeta(obj)
	if err != nil {
		return nil, false, err
	}
	if err := s.checkNamespace(accessor, namespace); err != nil {
		return nil, false, err
	}
	if accessor.GetName() != name {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", accessor.GetName(), name))
	}
	if !exists {
		if opts.Subresource != "" {
			return nil, false, apierrors.NewNotFound(s.GroupResource(), name)
		}
		if err := s.prepareCreate(ctx, obj); err != nil {
			return nil, false, err
		}
		return obj, true, nil
	}
	// A resourceVersion in the request is a precondition, and so is a
	// uid: an object re-created under the same name is another object.
	if rv := accessor.GetResourceVersion(); rv != "" && rv != curMeta.GetResourceVersion() {
		return nil, false, apierrors.NewConflict(s.GroupResource(), name,
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if uid := accessor.GetUID(); uid != "" && uid != curMeta.GetUID() {
		return nil, false, apierrors.NewConflict(s.GroupResource(), name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", uid, curMeta.GetUID())) //nolint:staticcheck // upstream's message starts with a capital
	}
	// A subresource that writes one part of the object by rules of the
	// resource's own (status included, for some) comes first.
	parts, hasParts := s.Strategy.(PartUpdater)
	partial := hasParts && opts.Subresource != "" && parts.WritesPart(opts.Subresource)
	if partial {
		if obj, err = parts.MergePart(opts.Subresource, obj, current); err != nil {
			return nil, false, err
		}
		if accessor, err = ObjectMeta(obj); err != nil {
			return nil, false, err
		}
	}
	switch {
	case partial:
	case opts.Subresource == "finalize":
		obj = withSpecFinalizersOf(current, obj)
		if accessor, err = ObjectMeta(obj); err != nil {
			return nil, false, err
		}
	case opts.Subresource == "binding":
		// The binding endpoint computed the whole object itself.
	case opts.Subresource == "status":
		obj = withStatusOf(current, obj)
		if accessor, err = ObjectMeta(obj); err != nil {
			return nil, false, err
		}
	default:
		s.Strategy.PrepareForUpdate(ctx, obj, current)
	}
	s.Strategy.Default(obj)
	// System metadata is the server's, whatever the client sent.
	accessor.SetUID(curMeta.GetUID())
	accessor.SetCreationTimestamp(curMeta.GetCreationTimestamp())
	accessor.SetDeletionTimestamp(curMeta.GetDeletionTimestamp())
	accessor.SetDeletionGracePeriodSeconds(curMeta.GetDeletionGracePeriodSeconds())
	accessor.SetGeneration(curMeta.GetGeneration())
	accessor.SetResourceVersion(curMeta.GetResourceVersion())
	accessor.SetSelfLink("")
	// A binding only places the pod: its spec, as the user wrote it, stays.
	if s.tracksGeneration() && opts.Subresource != "binding" && s.specChanged(obj, current) {
		accessor.SetGeneration(curMeta.GetGeneration() + 1)
	}
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(accessor, curMeta, field.NewPath("metadata"))
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(accessor, s.Resource.Namespaced, s.Strategy.NameValidator(), field.NewPath("metadata"))...)
	// A binding only sets the node, checked by its endpoint; a part has
	// rules of its own, and so may status.
	statusRules, hasStatusRules := s.Strategy.(StatusValidator)
	switch {
	case partial:
		errs = append(errs, parts.ValidatePart(ctx, opts.Subresource, obj, current)...)
	case opts.Subresource == "status" && hasStatusRules:
		errs = append(errs, statusRules.ValidateStatusUpdate(ctx, obj, current)...)
	case opts.Subresource != "binding":
		errs = append(errs, s.Strategy.ValidateUpdate(ctx, obj, current)...)
	}
	if len(errs) > 0 {
		return nil, false, apierrors.NewInvalid(s.Resource.GroupVersionKind().GroupKind(), name, errs)
	}
	return obj, false, nil
}

// withSpecFinalizersOf returns current with the spec.finalizers of obj: the
// finalize subresource of namespaces changes nothing else.
func withSpecFinalizersOf(current, obj runtime.Object) runtime.Object {
	out := current.DeepCopyObject()
	dst := reflect.ValueOf(out).Elem().FieldByName("Spec")
	src := reflect.ValueOf(obj).Elem().FieldByName("Spec")
	if dst.IsValid() && src.IsValid() {
		if d, s := dst.FieldByName("Finalizers"), src.FieldByName("Finalizers"); d.IsValid() && s.IsValid() {
			d.Set(s)
		}
	}
	return out
}

// waitsForGrace reports whether a graceful deletion is still running: the
// object's node, not an update, ends it.
func (s *Store) waitsForGrace(obj runtime.Object) bool {
	accessor, err := ObjectMeta(obj)
	if err != nil {
		return false
	}
	g := accessor.GetDeletionGracePeriodSeconds()
	return g != nil && *g > 0
}

// withStatusOf returns obj, the update's own, with everything but metadata
// and status taken from current: a status update may change status, labels
// and annotations, never the spec.
func withStatusOf(current, obj runtime.Object) runtime.Object {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if cur, ok := current.(*unstructured.Unstructured); ok {
			return withUnstructuredStatusOf(cur, u)
		}
	}
	dst, src := reflect.ValueOf(obj).Elem(), reflect.ValueOf(current).Elem()
	if dst.Type() != src.Type() || dst.Kind() != reflect.Struct {
		return obj
	}
	for i := range dst.NumField() {
		switch dst.Type().Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		dst.Field(i).Set(reflect.ValueOf(src.Field(i).Interface()))
	}
	return obj
}

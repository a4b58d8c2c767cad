package registry

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/storage"
)

// generateNameAttempts bounds retries when a generated name is taken.
const generateNameAttempts = 5

// Create stores a new object in namespace and returns it as stored.
func (s *Store) Create(ctx context.Context, namespace string, obj runtime.Object, opts *metav1.CreateOptions) (runtime.Object, error) {
	accessor, err := ObjectMeta(obj)
	if err != nil {
		return nil, err
	}
	if err := s.checkNamespace(accessor, namespace); err != nil {
		return nil, err
	}
	generated := accessor.GetName() == "" && accessor.GetGenerateName() != ""
	for attempt := 0; ; attempt++ {
		if generated {
			accessor.SetName(accessor.GetGenerateName() + utilrand.String(5))
		}
		if err := s.prepareCreate(ctx, obj); err != nil {
			s.aborted(obj, nil)
			return nil, err
		}
		if IsDryRun(opts.DryRun) {
			s.aborted(obj, nil)
			return obj, nil
		}
		out := s.Resource.New()
		err := s.Storage.Create(ctx, s.Key(accessor.GetNamespace(), accessor.GetName()), obj, out, 0)
		if err != nil {
			s.aborted(obj, nil)
		} else {
			s.committed(out, nil)
		}
		if generated && storage.IsExists(err) && attempt < generateNameAttempts {
			continue
		}
		if err != nil {
			return nil, interpretError(err, s.GroupResource(), accessor.GetName())
		}
		return out, nil
	}
}

// prepareCreate fills system metadata, defaults and validates.
func (s *Store) prepareCreate(ctx context.Context, obj runtime.Object) error {
	accessor, err := ObjectMeta(obj)
	if err != nil {
		return err
	}
	if accessor.GetResourceVersion() != "" {
		// Clients often send back what they read; Kubernetes ignores it.
		accessor.SetResourceVersion("")
	}
	// The uid comes first: strategies derive labels from it (Jobs).
	accessor.SetUID(types.UID(uuid.NewUUID()))
	s.Strategy.PrepareForCreate(ctx, obj)
	s.Strategy.Default(obj)
	accessor.SetCreationTimestamp(s.now())
	accessor.SetDeletionTimestamp(nil)
	accessor.SetDeletionGracePeriodSeconds(nil)
	accessor.SetSelfLink("")
	if s.tracksGeneration() {
		accessor.SetGeneration(1)
	} else {
		accessor.SetGeneration(0)
	}
	errs := apivalidation.ValidateObjectMetaAccessor(accessor, s.Resource.Namespaced, s.Strategy.NameValidator(), field.NewPath("metadata"))
	errs = append(errs, s.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return apierrors.NewInvalid(s.Resource.GroupVersionKind().GroupKind(), accessor.GetName(), errs)
	}
	return nil
}

func (s *Store) committed(obj, old runtime.Object) {
	if c, ok := s.Strategy.(Committer); ok {
		c.Committed(obj, old)
	}
}

func (s *Store) aborted(obj, old runtime.Object) {
	if c, ok := s.Strategy.(Committer); ok {
		c.Aborted(obj, old)
	}
}

// tracksGeneration reports whether the resource splits spec from status,
// the resources whose metadata.generation counts spec changes, and custom
// resources, whose generation counts every change but metadata (and
// status, with a status subresource).
func (s *Store) tracksGeneration() bool {
	_, hasStatus := s.Resource.Subresource("status")
	return hasStatus || s.Resource.Custom
}

// specChanged reports a change that bumps metadata.generation.
func (s *Store) specChanged(obj, old runtime.Object) bool {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if _, hasStatus := s.Resource.Subresource("status"); !hasStatus {
			return unstructuredChanged(u, old, "metadata")
		}
	}
	return specChanged(obj, old)
}

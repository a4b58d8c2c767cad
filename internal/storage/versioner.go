package storage

import (
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// Versioner moves revisions in and out of objects' metadata.
type Versioner interface {
	// UpdateObject sets obj's resourceVersion to rev.
	UpdateObject(obj runtime.Object, rev uint64) error
	// UpdateList sets a list's resourceVersion, continue token and remaining
	// item count (nil leaves it unset).
	UpdateList(list runtime.Object, rev uint64, continueToken string, remaining *int64) error
	// PrepareObjectForStorage clears the fields that are never stored.
	PrepareObjectForStorage(obj runtime.Object) error
	// ObjectResourceVersion returns obj's resourceVersion, 0 if unset.
	ObjectResourceVersion(obj runtime.Object) (uint64, error)
	// ParseResourceVersion parses a resourceVersion from a request; "" is 0.
	ParseResourceVersion(rv string) (uint64, error)
}

// APIObjectVersioner is the Versioner for objects with ObjectMeta and
// ListMeta: resourceVersion is the decimal revision.
type APIObjectVersioner struct{}

var _ Versioner = APIObjectVersioner{}

// UpdateObject implements Versioner.
func (APIObjectVersioner) UpdateObject(obj runtime.Object, rev uint64) error {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	accessor.SetResourceVersion(formatRevision(rev))
	return nil
}

// UpdateList implements Versioner.
func (APIObjectVersioner) UpdateList(list runtime.Object, rev uint64, continueToken string, remaining *int64) error {
	listAccessor, err := meta.ListAccessor(list)
	if err != nil {
		return err
	}
	listAccessor.SetResourceVersion(formatRevision(rev))
	listAccessor.SetContinue(continueToken)
	listAccessor.SetRemainingItemCount(remaining)
	return nil
}

// PrepareObjectForStorage implements Versioner.
func (APIObjectVersioner) PrepareObjectForStorage(obj runtime.Object) error {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	accessor.SetResourceVersion("")
	accessor.SetSelfLink("")
	return nil
}

// ObjectResourceVersion implements Versioner.
func (v APIObjectVersioner) ObjectResourceVersion(obj runtime.Object) (uint64, error) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return 0, err
	}
	return v.ParseResourceVersion(accessor.GetResourceVersion())
}

// ParseResourceVersion implements Versioner.
func (APIObjectVersioner) ParseResourceVersion(rv string) (uint64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, Errorf(CodeInvalidRequest, "", "invalid resource version %q: %v", rv, err)
	}
	return n, nil
}

func formatRevision(rev uint64) string {
	if rev == 0 {
		return ""
	}
	return strconv.FormatUint(rev, 10)
}

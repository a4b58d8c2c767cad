package customresources

import (
	"context"
	"errors"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources/apiextensions"
)

// CleanupFinalizer holds a deleted CRD until its objects are deleted.
const CleanupFinalizer = apiextensions.CleanupFinalizer

// sync brings the serving and the status of one CRD in step with it. It
// reports whether the CRD waits for something: a deleted CRD for its
// objects to go.
func (m *Manager) sync(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) bool {
	if crd.DeletionTimestamp != nil {
		return m.finalize(ctx, crd)
	}
	if err := m.serve(ctx, crd); err != nil {
		m.log.Error(err, "Serving custom resources", "crd", crd.Name)
		return false
	}
	m.writeStatus(ctx, crd.Name, func(status *apiextensionsv1.CustomResourceDefinitionStatus, spec *apiextensionsv1.CustomResourceDefinitionSpec) {
		status.AcceptedNames = acceptedNames(spec.Names)
		setCondition(status, apiextensionsv1.NamesAccepted, apiextensionsv1.ConditionTrue, "NoConflicts", "no conflicts found")
		setCondition(status, apiextensionsv1.Established, apiextensionsv1.ConditionTrue, "InitialNamesAccepted", "the initial names have been accepted")
		for _, v := range spec.Versions {
			if v.Storage && !slices.Contains(status.StoredVersions, v.Name) {
				status.StoredVersions = append(status.StoredVersions, v.Name)
			}
		}
	})
	return false
}

// serve builds (or rebuilds, after a change of its spec) what serves crd,
// and tells OnChange when it did.
func (m *Manager) serve(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	m.mu.RLock()
	current, ok := m.byName[crd.Name]
	m.mu.RUnlock()
	if ok && current.generation == crd.Generation && current.crd.UID == crd.UID {
		return nil
	}
	served := crd.DeepCopy()
	s, err := newServing(ctx, served, m.cfg.Backend, m.cfg.NewSchema)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.unserveLocked(crd.Name)
	m.byName[crd.Name] = s
	for v, store := range s.stores {
		m.byGVR[store.Resource.GVR] = store
		m.plurals[store.Resource.GroupVersionKind().GroupKind()] = store.Resource.GVR.Resource
		m.plurals[schema.GroupKind{Group: store.Resource.GVR.Group, Kind: store.Resource.ListKind}] = store.Resource.GVR.Resource
		for _, sv := range served.Spec.Versions {
			if sv.Name == v {
				m.columns[store.Resource.GVR] = sv.AdditionalPrinterColumns
			}
		}
	}
	m.mu.Unlock()
	m.changed()
	return nil
}

// finalize deletes a deleted CRD's objects and then lets the CRD go, by
// removing CleanupFinalizer. It reports whether objects remain.
func (m *Manager) finalize(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) bool {
	if !slices.Contains(crd.Finalizers, CleanupFinalizer) {
		return false
	}
	if err := m.serve(ctx, crd); err != nil {
		m.log.Error(err, "Serving custom resources to delete them", "crd", crd.Name)
		return true
	}
	m.writeStatus(ctx, crd.Name, func(status *apiextensionsv1.CustomResourceDefinitionStatus, _ *apiextensionsv1.CustomResourceDefinitionSpec) {
		setCondition(status, apiextensionsv1.Terminating, apiextensionsv1.ConditionTrue, "InstanceDeletionInProgress", "CustomResource deletion is in progress")
	})
	m.mu.RLock()
	s := m.byName[crd.Name]
	m.mu.RUnlock()
	list, err := s.storageStore.List(ctx, "", &metav1.ListOptions{})
	if err != nil {
		m.log.Error(err, "Listing custom resources to delete", "crd", crd.Name)
		return true
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return true
	}
	for _, item := range items {
		accessor, err := registry.ObjectMeta(item)
		if err != nil || accessor.GetDeletionTimestamp() != nil {
			continue
		}
		if _, _, err := s.storageStore.Delete(ctx, accessor.GetNamespace(), accessor.GetName(), &metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			m.log.Error(err, "Deleting a custom resource", "crd", crd.Name, "name", accessor.GetName())
		}
	}
	if len(items) > 0 {
		return true
	}
	m.unserve(crd.Name)
	m.changed()
	_, _, err = m.cfg.CRDs.Update(ctx, "", crd.Name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		c, ok := current.(*apiextensionsv1.CustomResourceDefinition)
		if !ok {
			return nil, apierrors.NewNotFound(m.cfg.CRDs.GroupResource(), crd.Name)
		}
		c = c.DeepCopy()
		c.Finalizers = slices.DeleteFunc(c.Finalizers, func(f string) bool { return f == CleanupFinalizer })
		return c, nil
	}, registry.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		m.log.Error(err, "Removing the cleanup finalizer", "crd", crd.Name)
		return true
	}
	return false
}

// writeStatus changes a CRD's status with change, writing only when
// something changed.
func (m *Manager) writeStatus(ctx context.Context, name string,
	change func(*apiextensionsv1.CustomResourceDefinitionStatus, *apiextensionsv1.CustomResourceDefinitionSpec)) {
	_, _, err := m.cfg.CRDs.Update(ctx, "", name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		c, ok := current.(*apiextensionsv1.CustomResourceDefinition)
		if !ok {
			return nil, apierrors.NewNotFound(m.cfg.CRDs.GroupResource(), name)
		}
		c = c.DeepCopy()
		before := c.Status.DeepCopy()
		change(&c.Status, &c.Spec)
		if equality.Semantic.DeepEqual(before, &c.Status) {
			return nil, errUnchanged
		}
		return c, nil
	}, registry.UpdateOptions{Subresource: "status"})
	if err != nil && !errors.Is(err, errUnchanged) && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		m.log.Error(err, "Writing the status of a CustomResourceDefinition", "crd", name)
	}
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = apierrors.NewBadRequest("unchanged")

// acceptedNames are the CRD's names with upstream's defaults.
func acceptedNames(names apiextensionsv1.CustomResourceDefinitionNames) apiextensionsv1.CustomResourceDefinitionNames {
	out := *names.DeepCopy()
	if out.Singular == "" {
		out.Singular = strings.ToLower(out.Kind)
	}
	if out.ListKind == "" && out.Kind != "" {
		out.ListKind = out.Kind + "List"
	}
	return out
}

// setCondition sets a condition, with a new transition time only when its
// status changes.
func setCondition(status *apiextensionsv1.CustomResourceDefinitionStatus, t apiextensionsv1.CustomResourceDefinitionConditionType,
	s apiextensionsv1.ConditionStatus, reason, message string) {
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != s {
			c.LastTransitionTime = metav1.Now()
		}
		c.Status, c.Reason, c.Message = s, reason, message
		return
	}
	status.Conditions = append(status.Conditions, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: t, Status: s, Reason: reason, Message: message, LastTransitionTime: metav1.Now(),
	})
}

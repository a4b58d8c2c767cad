package simulated

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The methods below make *Pod a metav1.Object, which the informer's store
// and key functions read through meta.Accessor. Fields a slim pod does not
// keep read as empty, and setting them does nothing.

var _ metav1.Object = (*Pod)(nil)

// GetNamespace implements metav1.Object.
func (p *Pod) GetNamespace() string { return p.Namespace }

// SetNamespace implements metav1.Object.
func (p *Pod) SetNamespace(namespace string) { p.Namespace = namespace }

// GetName implements metav1.Object.
func (p *Pod) GetName() string { return p.Name }

// SetName implements metav1.Object.
func (p *Pod) SetName(name string) { p.Name = name }

// GetGenerateName implements metav1.Object.
func (p *Pod) GetGenerateName() string { return "" }

// SetGenerateName implements metav1.Object.
func (p *Pod) SetGenerateName(string) {}

// GetUID implements metav1.Object.
func (p *Pod) GetUID() types.UID { return p.UID }

// SetUID implements metav1.Object.
func (p *Pod) SetUID(uid types.UID) { p.UID = uid }

// GetResourceVersion implements metav1.Object.
func (p *Pod) GetResourceVersion() string { return p.ResourceVersion }

// SetResourceVersion implements metav1.Object.
func (p *Pod) SetResourceVersion(version string) { p.ResourceVersion = version }

// GetGeneration implements metav1.Object.
func (p *Pod) GetGeneration() int64 { return 0 }

// SetGeneration implements metav1.Object.
func (p *Pod) SetGeneration(int64) {}

// GetSelfLink implements metav1.Object.
func (p *Pod) GetSelfLink() string { return "" }

// SetSelfLink implements metav1.Object.
func (p *Pod) SetSelfLink(string) {}

// GetCreationTimestamp implements metav1.Object.
func (p *Pod) GetCreationTimestamp() metav1.Time { return metav1.Time{} }

// SetCreationTimestamp implements metav1.Object.
func (p *Pod) SetCreationTimestamp(metav1.Time) {}

// GetDeletionTimestamp implements metav1.Object.
func (p *Pod) GetDeletionTimestamp() *metav1.Time { return p.DeletionTimestamp }

// SetDeletionTimestamp implements metav1.Object.
func (p *Pod) SetDeletionTimestamp(t *metav1.Time) { p.DeletionTimestamp = t }

// GetDeletionGracePeriodSeconds implements metav1.Object.
func (p *Pod) GetDeletionGracePeriodSeconds() *int64 { return nil }

// SetDeletionGracePeriodSeconds implements metav1.Object.
func (p *Pod) SetDeletionGracePeriodSeconds(*int64) {}

// GetLabels implements metav1.Object.
func (p *Pod) GetLabels() map[string]string { return nil }

// SetLabels implements metav1.Object.
func (p *Pod) SetLabels(map[string]string) {}

// GetAnnotations implements metav1.Object.
func (p *Pod) GetAnnotations() map[string]string { return nil }

// SetAnnotations implements metav1.Object.
func (p *Pod) SetAnnotations(map[string]string) {}

// GetFinalizers implements metav1.Object.
func (p *Pod) GetFinalizers() []string { return nil }

// SetFinalizers implements metav1.Object.
func (p *Pod) SetFinalizers([]string) {}

// GetOwnerReferences implements metav1.Object.
func (p *Pod) GetOwnerReferences() []metav1.OwnerReference { return nil }

// SetOwnerReferences implements metav1.Object.
func (p *Pod) SetOwnerReferences([]metav1.OwnerReference) {}

// GetManagedFields implements metav1.Object.
func (p *Pod) GetManagedFields() []metav1.ManagedFieldsEntry { return nil }

// SetManagedFields implements metav1.Object.
func (p *Pod) SetManagedFields([]metav1.ManagedFieldsEntry) {}

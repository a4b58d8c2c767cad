package resources

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// registeredAs fails t unless s knows obj as gvk.
func registeredAs(t *testing.T, s *runtime.Scheme, obj runtime.Object, gvk schema.GroupVersionKind) {
	t.Helper()
	kinds, _, err := s.ObjectKinds(obj)
	if err != nil {
		t.Errorf("%T: %v", obj, err)
		return
	}
	for _, k := range kinds {
		if k == gvk {
			return
		}
	}
	t.Errorf("%T is registered as %v, want %v", obj, kinds, gvk)
}

func TestSchemeHasEveryCatalogKind(t *testing.T) {
	s := Scheme()
	for _, r := range Builtin() {
		t.Run(r.GVR.String(), func(t *testing.T) {
			registeredAs(t, s, r.New(), r.GroupVersionKind())
			if r.NewList != nil {
				registeredAs(t, s, r.NewList(), r.GVR.GroupVersion().WithKind(r.ListKind))
			}
			for _, sub := range r.Subresources {
				if sub.GVK.Empty() {
					continue
				}
				obj, err := s.New(sub.GVK)
				if err != nil {
					t.Errorf("subresource %s: kind %v: %v", sub.Name, sub.GVK, err)
					continue
				}
				registeredAs(t, s, obj, sub.GVK)
			}
			if !r.StorageVersion.Empty() && !s.Recognizes(r.StorageVersion) {
				t.Errorf("storage version %v is not in the scheme", r.StorageVersion)
			}
		})
	}
}

func TestSchemeMetaTypes(t *testing.T) {
	s := Scheme()
	meta := metav1.SchemeGroupVersion
	for _, tc := range []struct {
		obj runtime.Object
		gvk schema.GroupVersionKind
	}{
		{&metav1.Table{}, meta.WithKind("Table")},
		{&metav1.TableOptions{}, meta.WithKind("TableOptions")},
		{&metav1.PartialObjectMetadata{}, meta.WithKind("PartialObjectMetadata")},
		{&metav1.PartialObjectMetadataList{}, meta.WithKind("PartialObjectMetadataList")},
		{&metav1.WatchEvent{}, meta.WithKind("WatchEvent")},
		{&metav1.DeleteOptions{}, meta.WithKind("DeleteOptions")},
		{&metav1.ListOptions{}, meta.WithKind("ListOptions")},
		{&metav1.GetOptions{}, meta.WithKind("GetOptions")},
		{&metav1.CreateOptions{}, meta.WithKind("CreateOptions")},
		{&metav1.PatchOptions{}, meta.WithKind("PatchOptions")},
		{&metav1.UpdateOptions{}, meta.WithKind("UpdateOptions")},
		{&metav1.Table{}, schema.GroupVersionKind{Group: "meta.k8s.io", Version: "v1beta1", Kind: "Table"}},
		{&metav1.WatchEvent{}, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "WatchEvent"}},
		{&metav1.DeleteOptions{}, schema.GroupVersionKind{Version: "v1", Kind: "DeleteOptions"}},
		{&metav1.Status{}, schema.GroupVersionKind{Version: "v1", Kind: "Status"}},
		{&metav1.APIResourceList{}, schema.GroupVersionKind{Version: "v1", Kind: "APIResourceList"}},
		{&metav1.APIGroupList{}, schema.GroupVersionKind{Version: "v1", Kind: "APIGroupList"}},
	} {
		registeredAs(t, s, tc.obj, tc.gvk)
	}
	for _, obj := range []runtime.Object{&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroup{}} {
		if _, unversioned, err := s.ObjectKinds(obj); err != nil || !unversioned {
			t.Errorf("%T: unversioned=%v err=%v, want an unversioned type", obj, unversioned, err)
		}
	}
}

func TestSchemeCoversEveryServedGroupVersion(t *testing.T) {
	s := Scheme()
	for _, gv := range BuiltinCatalog().GroupVersions() {
		if !s.IsVersionRegistered(gv) {
			t.Errorf("%v is not registered", gv)
		}
	}
}

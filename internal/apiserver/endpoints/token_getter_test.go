package endpoints

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/storage"
)

// laggingCache is a storage whose watch cache (reads at resourceVersion
// "0") has not heard of the one object storage holds.
type laggingCache struct {
	storage.Interface
	stored *corev1.ServiceAccount
}

func (c laggingCache) Get(_ context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	if opts.ResourceVersion == "0" {
		return storage.NewError(storage.CodeKeyNotFound, key, 0)
	}
	c.stored.DeepCopyInto(out.(*corev1.ServiceAccount))
	return nil
}

// TestServiceAccountObjectsReadStorageOnACacheMiss: the token
// authenticator finds a service account created a moment ago, which the
// watch cache has not heard of yet, in storage (a token issued for it
// was once called invalidated).
func TestServiceAccountObjectsReadStorageOnACacheMiss(t *testing.T) {
	r, ok := resources.Lookup(serviceAccountsGVR)
	if !ok {
		t.Fatal("no serviceaccounts resource")
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "fresh", Namespace: "default", UID: "u1"}}
	h := &Handler{stores: map[schema.GroupVersionResource]*registry.Store{serviceAccountsGVR: {Resource: r, Storage: laggingCache{stored: sa}}}}
	got, err := h.ServiceAccountObjects().GetServiceAccount(context.Background(), "default", "fresh")
	if err != nil || got.UID != "u1" {
		t.Fatalf("GetServiceAccount = %v, %v; want the stored account", got, err)
	}
}

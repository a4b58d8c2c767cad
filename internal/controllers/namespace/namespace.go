// Package namespace is the namespace lifecycle controller: once a namespace
// is being deleted it deletes everything in it, then removes the
// "kubernetes" finalizer so the API server can delete the namespace.
package namespace

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// retryInterval is how often a terminating namespace is checked while its
// content is still going away (finalizers, graceful deletion).
const retryInterval = time.Second

// Controller empties and finalizes terminating namespaces.
type Controller struct {
	client    kubernetes.Interface
	metadata  metadata.Interface
	resources func() []schema.GroupVersionResource
	lister    corelisters.NamespaceLister
	synced    cache.InformerSynced
	loop      *controller.Loop
}

// New returns the controller. resources returns the namespaced resources
// it deletes, each supporting list and deletecollection: asked on every
// sync, as custom resources come and go.
func New(client kubernetes.Interface, meta metadata.Interface, informer coreinformers.NamespaceInformer,
	resources func() []schema.GroupVersionResource) (*Controller, error) {
	c := &Controller{
		client:    client,
		metadata:  meta,
		resources: resources,
		lister:    informer.Lister(),
		synced:    informer.Informer().HasSynced,
	}
	c.loop = controller.New("namespace", 2, c.sync)
	enqueue := func(obj any) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.loop.EnqueueObject(ns)
		}
	}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	return c, err
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced) }

func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	remaining := 0
	for _, gvr := range c.resources() {
		client := c.metadata.Resource(gvr).Namespace(name)
		err := client.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
			return fmt.Errorf("delete %s in %s: %w", gvr.Resource, name, err)
		}
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("list %s in %s: %w", gvr.Resource, name, err)
		}
		if list != nil {
			remaining += len(list.Items)
		}
	}
	if remaining > 0 {
		return controller.Requeue{After: retryInterval}
	}
	finalized := ns.DeepCopy()
	finalized.Spec.Finalizers = slices.DeleteFunc(finalized.Spec.Finalizers, func(f corev1.FinalizerName) bool {
		return f == corev1.FinalizerKubernetes
	})
	_, err = c.client.CoreV1().Namespaces().Finalize(ctx, finalized, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

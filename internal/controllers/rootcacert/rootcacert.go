// Package rootcacert publishes the cluster CA in every namespace as the
// ConfigMap kube-root-ca.crt, which projected service account volumes use.
package rootcacert

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// Name is the ConfigMap's name.
const Name = "kube-root-ca.crt"

// DataKey is the ConfigMap key holding the CA certificate.
const DataKey = "ca.crt"

// Controller keeps kube-root-ca.crt in each namespace equal to the CA.
type Controller struct {
	client     kubernetes.Interface
	caPEM      string
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	synced     []cache.InformerSynced
	loop       *controller.Loop
}

// New returns the controller for the CA certificate caPEM.
func New(client kubernetes.Interface, caPEM []byte, namespaces coreinformers.NamespaceInformer, configMaps coreinformers.ConfigMapInformer) (*Controller, error) {
	c := &Controller{
		client:     client,
		caPEM:      string(caPEM),
		namespaces: namespaces.Lister(),
		configMaps: configMaps.Lister(),
		synced:     []cache.InformerSynced{namespaces.Informer().HasSynced, configMaps.Informer().HasSynced},
	}
	c.loop = controller.New("root-ca-cert-publisher", 2, c.sync)
	if _, err := namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
	}); err != nil {
		return nil, err
	}
	onConfigMap := func(obj any) {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == Name {
			c.loop.Enqueue(cm.Namespace)
		}
	}
	_, err := configMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { onConfigMap(obj) },
		DeleteFunc: onConfigMap,
	})
	return c, err
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced...) }

func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.namespaces.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil {
		return nil
	}
	cm, err := c.configMaps.ConfigMaps(namespace).Get(Name)
	switch {
	case apierrors.IsNotFound(err):
		_, err = c.client.CoreV1().ConfigMaps(namespace).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: Name},
			Data:       map[string]string{DataKey: c.caPEM},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
			return nil
		}
		return err
	case err != nil:
		return err
	case cm.Data[DataKey] == c.caPEM:
		return nil
	}
	fixed := cm.DeepCopy()
	fixed.Data = map[string]string{DataKey: c.caPEM}
	_, err = c.client.CoreV1().ConfigMaps(namespace).Update(ctx, fixed, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

package replicaset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// kind is one workload kind that keeps a number of pod replicas, seen
// through ReplicaSet types: the controller's logic is written once against
// *appsv1.ReplicaSet and ReplicationControllers are converted on the way
// in and out. Views returned by get and list share memory with the cache
// and must not be mutated.
type kind interface {
	gvk() schema.GroupVersionKind
	informer() cache.SharedIndexInformer
	// get returns the view and the original object (for Events).
	get(namespace, name string) (*appsv1.ReplicaSet, runtime.Object, error)
	list(namespace string) ([]*appsv1.ReplicaSet, error)
	// getLive reads the object from the API server, bypassing the cache.
	getLive(ctx context.Context, namespace, name string) (metav1.Object, error)
	// updateStatus writes status to the object orig (a cached original,
	// copied before writing).
	updateStatus(ctx context.Context, orig runtime.Object, status *appsv1.ReplicaSetStatus) error
}

// replicaSets is the kind apps/v1 ReplicaSet.
type replicaSets struct {
	client kubernetes.Interface
	inf    cache.SharedIndexInformer
	lister appslisters.ReplicaSetLister
}

func newReplicaSets(client kubernetes.Interface, inf appsinformers.ReplicaSetInformer) *replicaSets {
	return &replicaSets{client: client, inf: inf.Informer(), lister: inf.Lister()}
}

func (k *replicaSets) gvk() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}

func (k *replicaSets) informer() cache.SharedIndexInformer { return k.inf }

func (k *replicaSets) get(namespace, name string) (*appsv1.ReplicaSet, runtime.Object, error) {
	rs, err := k.lister.ReplicaSets(namespace).Get(name)
	return rs, rs, err
}

func (k *replicaSets) list(namespace string) ([]*appsv1.ReplicaSet, error) {
	return k.lister.ReplicaSets(namespace).List(labels.Everything())
}

func (k *replicaSets) getLive(ctx context.Context, namespace, name string) (metav1.Object, error) {
	return k.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (k *replicaSets) updateStatus(ctx context.Context, orig runtime.Object, status *appsv1.ReplicaSetStatus) error {
	cached, ok := orig.(*appsv1.ReplicaSet)
	if !ok {
		return fmt.Errorf("not a ReplicaSet: %T", orig)
	}
	rs := cached.DeepCopy()
	rs.Status = *status
	rsClient := k.client.AppsV1().ReplicaSets(rs.Namespace)
	_, err := rsClient.UpdateStatus(ctx, rs, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// The cache is behind; one fresh read usually wins, and the loop
		// retries otherwise.
		fresh, getErr := rsClient.Get(ctx, rs.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("update status of replica set %s/%s: %w", rs.Namespace, rs.Name, getErr)
		}
		if fresh.UID != rs.UID {
			return nil // replaced under the same name: a new sync follows
		}
		fresh.Status = *status
		_, err = rsClient.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("update status of replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return nil
}

// replicationControllers is the kind v1 ReplicationController.
type replicationControllers struct {
	client kubernetes.Interface
	inf    cache.SharedIndexInformer
	lister corelisters.ReplicationControllerLister
}

func newReplicationControllers(client kubernetes.Interface, inf coreinformers.ReplicationControllerInformer) *replicationControllers {
	return &replicationControllers{client: client, inf: inf.Informer(), lister: inf.Lister()}
}

func (k *replicationControllers) gvk() schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("ReplicationController")
}

func (k *replicationControllers) informer() cache.SharedIndexInformer { return k.inf }

func (k *replicationControllers) get(namespace, name string) (*appsv1.ReplicaSet, runtime.Object, error) {
	rc, err := k.lister.ReplicationControllers(namespace).Get(name)
	if err != nil {
		return nil, nil, err
	}
	return rcView(rc), rc, nil
}

func (k *replicationControllers) list(namespace string) ([]*appsv1.ReplicaSet, error) {
	rcs, err := k.lister.ReplicationControllers(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	views := make([]*appsv1.ReplicaSet, len(rcs))
	for i, rc := range rcs {
		views[i] = rcView(rc)
	}
	return views, nil
}

func (k *replicationControllers) getLive(ctx context.Context, namespace, name string) (metav1.Object, error) {
	return k.client.CoreV1().ReplicationControllers(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (k *replicationControllers) updateStatus(ctx context.Context, orig runtime.Object, status *appsv1.ReplicaSetStatus) error {
	cached, ok := orig.(*corev1.ReplicationController)
	if !ok {
		return fmt.Errorf("not a ReplicationController: %T", orig)
	}
	rc := cached.DeepCopy()
	rc.Status = rcStatus(status)
	rcClient := k.client.CoreV1().ReplicationControllers(rc.Namespace)
	_, err := rcClient.UpdateStatus(ctx, rc, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		fresh, getErr := rcClient.Get(ctx, rc.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("update status of replication controller %s/%s: %w", rc.Namespace, rc.Name, getErr)
		}
		if fresh.UID != rc.UID {
			return nil
		}
		fresh.Status = rc.Status
		_, err = rcClient.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("update status of replication controller %s/%s: %w", rc.Namespace, rc.Name, err)
	}
	return nil
}

// rcView presents a ReplicationController as a ReplicaSet. It shares the
// maps and slices of rc, so it is as read-only as rc itself.
func rcView(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector:        &metav1.LabelSelector{MatchLabels: rc.Spec.Selector},
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas:             rc.Status.Replicas,
			FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas:        rc.Status.ReadyReplicas,
			AvailableReplicas:    rc.Status.AvailableReplicas,
			ObservedGeneration:   rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

// rcStatus converts a ReplicaSet status back; ReplicationControllers have
// no terminatingReplicas.
func rcStatus(s *appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{
		Replicas:             s.Replicas,
		FullyLabeledReplicas: s.FullyLabeledReplicas,
		ReadyReplicas:        s.ReadyReplicas,
		AvailableReplicas:    s.AvailableReplicas,
		ObservedGeneration:   s.ObservedGeneration,
	}
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return out
}

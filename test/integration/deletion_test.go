package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/testutil"
)

// makeFamily creates an owner ConfigMap and a dependent ConfigMap owned
// by it, and returns the owner.
func makeFamily(t *testing.T, c kubernetes.Interface, ns, name string) *corev1.ConfigMap {
	t.Helper()
	ctx := context.Background()
	owner, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: name + "-child",
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: ptrTo(true),
		}},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return owner
}

func ptrTo[T any](v T) *T { return &v }

// eventually polls cond for up to 20s.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 20*time.Second, true,
		func(context.Context) (bool, error) { return cond() })
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func gone(c kubernetes.Interface, name string) func() (bool, error) {
	const ns = "default"
	return func() (bool, error) {
		_, err := c.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func TestCascadingDeletion(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	cms := c.CoreV1().ConfigMaps("default")

	t.Run("background", func(t *testing.T) {
		makeFamily(t, c, "default", "bg")
		policy := metav1.DeletePropagationBackground
		if err := cms.Delete(ctx, "bg", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "dependent collected", gone(c, "bg-child"))
	})

	t.Run("orphan", func(t *testing.T) {
		makeFamily(t, c, "default", "or")
		policy := metav1.DeletePropagationOrphan
		if err := cms.Delete(ctx, "or", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "owner deleted", gone(c, "or"))
		child, err := cms.Get(ctx, "or-child", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("orphaned dependent: %v", err)
		}
		if len(child.OwnerReferences) != 0 {
			t.Fatalf("orphaned dependent still owned: %v", child.OwnerReferences)
		}
	})

	t.Run("foreground", func(t *testing.T) {
		makeFamily(t, c, "default", "fg")
		policy := metav1.DeletePropagationForeground
		if err := cms.Delete(ctx, "fg", metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
			t.Fatal(err)
		}
		// The owner waits, marked, until its dependent is gone.
		owner, err := cms.Get(ctx, "fg", metav1.GetOptions{})
		if err == nil && owner.DeletionTimestamp == nil {
			t.Fatalf("owner not marked for deletion: %+v", owner.ObjectMeta)
		}
		eventually(t, "dependent deleted", gone(c, "fg-child"))
		eventually(t, "owner deleted after its dependent", gone(c, "fg"))
	})
}

func TestNamespaceDeletion(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := c.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CoreV1().Secrets("doomed").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err := c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
	if err == nil && ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace phase %q, want Terminating", ns.Status.Phase)
	}
	// New content is refused while the namespace terminates.
	if err == nil {
		_, err := c.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
			t.Fatalf("create in terminating namespace: %v, want Forbidden", err)
		}
	}
	eventually(t, "namespace deleted", func() (bool, error) {
		_, err := c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	list, err := c.CoreV1().ConfigMaps("doomed").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("content left behind: %v %v", list, err)
	}
}

// TestDeleteStatusCodes: a deletion that leaves the object in place (a
// graceful pod deletion, a finalizer) answers 200 with the object, as
// upstream does; only cascading deletion requested with
// orphanDependents=false answers 202.
func TestDeleteStatusCodes(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	c := s.Client
	if _, err := c.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "graceful"},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kept", "orphan-false", "plain"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if name != "plain" {
			cm.Finalizers = []string{"example.com/hold"}
		}
		if _, err := c.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		resource, name string
		opts           metav1.DeleteOptions
		want           int
	}{
		{"pods", "graceful", metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(30))}, 200},
		{"configmaps", "kept", metav1.DeleteOptions{}, 200},
		{"configmaps", "orphan-false", metav1.DeleteOptions{OrphanDependents: ptrTo(false)}, 202}, //nolint:staticcheck // the deprecated field is the case under test
		{"configmaps", "plain", metav1.DeleteOptions{}, 200},
	}
	for _, tc := range cases {
		var code int
		err := c.CoreV1().RESTClient().Delete().Namespace("default").Resource(tc.resource).Name(tc.name).
			Body(&tc.opts).Do(ctx).StatusCode(&code).Error()
		if err != nil || code != tc.want {
			t.Errorf("delete %s/%s: status %d (%v), want %d", tc.resource, tc.name, code, err, tc.want)
		}
	}
}

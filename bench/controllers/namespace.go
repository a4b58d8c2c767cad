package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// doomed is the namespace the third phase fills and deletes.
const doomed = "bench-doomed"

// newObject is object i of the namespace: even ones ConfigMaps, odd ones
// Secrets, so that half are of each kind.
func newObject(i int) (cm *corev1.ConfigMap, secret *corev1.Secret) {
	payload := strings.Repeat("x", 128) // small, like a typical setting
	meta := metav1.ObjectMeta{Name: fmt.Sprintf("obj-%05d", i), Namespace: doomed, Labels: map[string]string{"app": "bench"}}
	if i%2 == 0 {
		return &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"value": payload}}, nil
	}
	return nil, &corev1.Secret{ObjectMeta: meta, Data: map[string][]byte{"value": []byte(payload)}}
}

// fillNamespace creates the namespace and its n objects from clients
// concurrent clients.
func fillNamespace(ctx context.Context, client kubernetes.Interface, n, clients int) (benchkit.Result, error) {
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: doomed}}, metav1.CreateOptions{}); err != nil {
		return benchkit.Result{}, err
	}
	return benchkit.RunOps(ctx, clients, benchkit.Limit{Ops: int64(n)}, func(ctx context.Context, _ int, i int64) error {
		var err error
		if cm, secret := newObject(int(i)); cm != nil {
			_, err = client.CoreV1().ConfigMaps(doomed).Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = client.CoreV1().Secrets(doomed).Create(ctx, secret, metav1.CreateOptions{})
		}
		if err != nil {
			return fmt.Errorf("create object %d: %w", i, err)
		}
		return nil
	})
}

// deleteNamespace deletes the namespace and polls it every 100 ms until
// a GET answers 404.
func deleteNamespace(ctx context.Context, c *benchkit.Cluster, timeout time.Duration, logf func(string, ...any)) error {
	namespaces := c.Client.CoreV1().Namespaces()
	if err := namespaces.Delete(ctx, doomed, metav1.DeleteOptions{}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		if err := c.Failed(); err != nil {
			return err
		}
		ns, err := namespaces.Get(ctx, doomed, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err == nil && time.Since(lastReport) >= 5*time.Second:
			logf("  namespace %s still %s", doomed, ns.Status.Phase)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for namespace %s to go: %w", doomed, ctx.Err())
		case <-tick.C:
		}
	}
}

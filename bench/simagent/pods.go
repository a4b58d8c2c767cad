package main

import (
	"context"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// namespace holds the benchmark's pods.
const namespace = "simbench"

// nodeName is the name the agent gives node i.
func nodeName(i int) string { return fmt.Sprintf("sim-%04d", i) }

// newPod is pod i, bound to node i mod nodes: a small web pod as a
// Deployment would make it, without the owner reference.
func newPod(i, nodes int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("web-%07d", i),
			Labels: map[string]string{"app": "web", "pod-template-hash": "7d9f8b6c5d"},
		},
		Spec: corev1.PodSpec{
			NodeName: nodeName(i % nodes),
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "registry.example.com/shop/web:v1.2.3",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
	}
}

// createPods creates the pods from clients concurrent clients, each on
// its own connection, and returns the time the last create returned.
func createPods(ctx context.Context, base *rest.Config, o *Options) (benchkit.Result, error) {
	clients := make([]*kubernetes.Clientset, o.Clients)
	for i := range clients {
		c := rest.CopyConfig(base)
		c.QPS, c.Burst = -1, 0 // no client-side rate limit
		c.ContentType = "application/vnd.kubernetes.protobuf"
		c.UserAgent = "tug-bench/simagent"
		// A dial function of its own keeps client-go from sharing one
		// connection between the clients.
		c.Dial = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		var err error
		if clients[i], err = kubernetes.NewForConfig(c); err != nil {
			return benchkit.Result{}, err
		}
	}
	_, err := clients[0].CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return benchkit.Result{}, err
	}
	return benchkit.RunOps(ctx, o.Clients, benchkit.Limit{Ops: int64(o.Pods)}, func(ctx context.Context, w int, i int64) error {
		_, err := clients[w].CoreV1().Pods(namespace).Create(ctx, newPod(int(i), o.Nodes), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create pod %d: %w", i, err)
		}
		return nil
	})
}

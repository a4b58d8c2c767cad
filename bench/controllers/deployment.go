package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// Names of the Deployment the first two phases run.
const (
	namespace  = "bench"
	deployName = "web"
)

// newDeployment is a Deployment of 0 replicas whose pods request 10m cpu
// and 10Mi memory, small enough for 30 a node to fit anywhere.
func newDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": deployName}
	req := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("10Mi")}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: deployName, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.k8s.io/pause:3.10.2",
					Env:       []corev1.EnvVar{{Name: "REVISION", Value: "1"}},
					Resources: corev1.ResourceRequirements{Requests: req},
				}}},
			},
		},
	}
}

// available reports whether d, at generation gen or later, has n
// replicas available.
func available(d *appsv1.Deployment, gen int64, n int32) bool {
	return d.Status.ObservedGeneration >= gen && d.Status.AvailableReplicas == n
}

// rolledOut reports whether d's rollout of generation gen to n replicas is
// complete: the controller has seen it, and every replica is updated and
// available with none of an older template left.
func rolledOut(d *appsv1.Deployment, gen int64, n int32) bool {
	s := d.Status
	return s.ObservedGeneration >= gen && d.Spec.Replicas != nil && *d.Spec.Replicas == n &&
		s.Replicas == n && s.UpdatedReplicas == n && s.AvailableReplicas == n
}

// createDeployment creates the Deployment at 0 replicas and waits until
// the controller has observed it, so that scaling up is timed alone.
func createDeployment(ctx context.Context, c *benchkit.Cluster, timeout time.Duration, logf func(string, ...any)) error {
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	d, err := c.Client.AppsV1().Deployments(namespace).Create(ctx, newDeployment(), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	return waitDeployment(ctx, c, timeout, logf, func(got *appsv1.Deployment) bool { return available(got, d.Generation, 0) })
}

// scaleUp sets the Deployment's replicas to n through the scale
// subresource and waits until all are available.
func scaleUp(ctx context.Context, c *benchkit.Cluster, n int32, timeout time.Duration, logf func(string, ...any)) error {
	deployments := c.Client.AppsV1().Deployments(namespace)
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: deployName, Namespace: namespace}, Spec: autoscalingv1.ScaleSpec{Replicas: n}}
	if _, err := deployments.UpdateScale(ctx, deployName, scale, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scale to %d: %w", n, err)
	}
	d, err := deployments.Get(ctx, deployName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return waitDeployment(ctx, c, timeout, logf, func(got *appsv1.Deployment) bool { return available(got, d.Generation, n) })
}

// rollOut changes the pod template's REVISION variable and waits until
// the rollout to n replicas is complete.
func rollOut(ctx context.Context, c *benchkit.Cluster, n int32, timeout time.Duration, logf func(string, ...any)) error {
	deployments := c.Client.AppsV1().Deployments(namespace)
	var gen int64
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deployments.Get(ctx, deployName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		env := d.Spec.Template.Spec.Containers[0].Env
		rev, _ := strconv.Atoi(env[0].Value)
		env[0].Value = strconv.Itoa(rev + 1)
		d, err = deployments.Update(ctx, d, metav1.UpdateOptions{})
		if err == nil {
			gen = d.Generation
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update the template: %w", err)
	}
	if err := waitDeployment(ctx, c, timeout, logf, func(got *appsv1.Deployment) bool { return rolledOut(got, gen, n) }); err != nil {
		return err
	}
	return checkOldReplicaSets(ctx, c, n)
}

// checkOldReplicaSets verifies that the Deployment's replica sets hold n
// pods in all, so none of an old template is left.
func checkOldReplicaSets(ctx context.Context, c *benchkit.Cluster, n int32) error {
	list, err := c.Client.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + deployName})
	if err != nil {
		return err
	}
	var total int32
	for i := range list.Items {
		total += list.Items[i].Status.Replicas
	}
	if total != n {
		return fmt.Errorf("rollout complete but the replica sets hold %d pods, want %d", total, n)
	}
	return nil
}

// waitDeployment polls the Deployment every 500 ms until done holds,
// logging its status every 5 s.
func waitDeployment(ctx context.Context, c *benchkit.Cluster, timeout time.Duration, logf func(string, ...any), done func(*appsv1.Deployment) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	var last *appsv1.Deployment
	for {
		if err := c.Failed(); err != nil {
			return err
		}
		d, err := c.Client.AppsV1().Deployments(namespace).Get(ctx, deployName, metav1.GetOptions{})
		if err == nil {
			if done(d) {
				return nil
			}
			last = d
		}
		if time.Since(lastReport) >= 5*time.Second && last != nil {
			logf("  %s", statusLine(last))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return fmt.Errorf("waiting for the deployment: %w", ctx.Err())
			}
			return fmt.Errorf("waiting for the deployment (%s): %w", statusLine(last), ctx.Err())
		case <-tick.C:
		}
	}
}

// statusLine summarizes a Deployment's status for progress lines.
func statusLine(d *appsv1.Deployment) string {
	s := d.Status
	return fmt.Sprintf("generation %d/%d: replicas %d, updated %d, ready %d, available %d",
		s.ObservedGeneration, d.Generation, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
}

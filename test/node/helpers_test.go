package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tugcluster/tug/internal/testutil/nodetest"
)

// busybox is a pod of one busybox container running sh -c script.
func busybox(name, script string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64(2)),
			Containers: []corev1.Container{{
				Name: "main", Image: nodetest.BusyboxImage, ImagePullPolicy: corev1.PullNever,
				Command: []string{"sh", "-c", script},
			}},
		},
	}
}

// create creates pod and removes it when the test ends.
func create(t testing.TB, client kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	created, err := client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s: %v", pod.Name, err)
	}
	t.Cleanup(func() {
		err := client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete pod %s: %v", pod.Name, err)
		}
	})
	return created
}

// waitPod polls pod until ok says yes, failing the test after timeout with
// the last status seen.
func waitPod(t testing.TB, client kubernetes.Interface, namespace, name string, timeout time.Duration, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *corev1.Pod
	for {
		pod, err := client.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			last = pod
			if ok(pod) {
				return pod
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s/%s: not %s within %v; last status: %s", namespace, name, what, timeout, describe(last))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describe(pod *corev1.Pod) string {
	if pod == nil {
		return "<none>"
	}
	s := fmt.Sprintf("phase=%s node=%s ip=%s", pod.Status.Phase, pod.Spec.NodeName, pod.Status.PodIP)
	for _, c := range pod.Status.Conditions {
		s += fmt.Sprintf(" %s=%s(%s)", c.Type, c.Status, c.Reason)
	}
	for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
		s += fmt.Sprintf(" [%s restarts=%d state=%+v last=%+v]", cs.Name, cs.RestartCount, cs.State, cs.LastTerminationState)
	}
	return s
}

func running(pod *corev1.Pod) bool { return pod.Status.Phase == corev1.PodRunning && isReady(pod) }

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func succeeded(pod *corev1.Pod) bool { return pod.Status.Phase == corev1.PodSucceeded }

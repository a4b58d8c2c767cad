package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// createAttempts is how often a pod create is tried before the phase fails.
const createAttempts = 5

// ensureNamespace creates a namespace and its default ServiceAccount, which
// upstream's ServiceAccount admission requires of every pod and which no
// controller makes here.
func ensureNamespace(ctx context.Context, c kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "default"}}
	if _, err := c.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service account %s/default: %w", name, err)
	}
	return nil
}

// createPod creates a pod, retrying failures (each one is logged); an
// AlreadyExists after a failed attempt means that attempt took effect.
func createPod(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, errs *errorLog, phase string) (*corev1.Pod, error) {
	var err error
	for attempt := range createAttempts {
		var out *corev1.Pod
		out, err = c.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		switch {
		case err == nil:
			return out, nil
		case attempt > 0 && apierrors.IsAlreadyExists(err):
			return c.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		errs.add(phase, err)
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return nil, fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
}

// createPods creates n pods from one client each of clients.
func createPods(ctx context.Context, clients []*kubernetes.Clientset, n int, errs *errorLog) (benchkit.Result, error) {
	return benchkit.RunOps(ctx, len(clients), benchkit.Limit{Ops: int64(n)}, func(ctx context.Context, w int, i int64) error {
		_, err := createPod(ctx, clients[w], newPod(podNamespace(int(i)), podName(int(i))), errs, "create")
		return err
	})
}

// getPods reads the n created pods, scattered, from every client for d.
// Failed gets are logged and not counted.
func getPods(ctx context.Context, clients []*kubernetes.Clientset, n int, d time.Duration, errs *errorLog) (benchkit.Result, error) {
	return runCounted(ctx, clients, benchkit.Limit{Duration: d}, errs, "get", func(ctx context.Context, c *kubernetes.Clientset, i int64) error {
		j := int(i * 7919 % int64(n))
		_, err := c.CoreV1().Pods(podNamespace(j)).Get(ctx, podName(j), metav1.GetOptions{})
		return err
	})
}

// runCounted runs op from every client within limit and counts the ops
// that succeeded; failures are logged under phase.
func runCounted(ctx context.Context, clients []*kubernetes.Clientset, limit benchkit.Limit, errs *errorLog, phase string,
	op func(ctx context.Context, c *kubernetes.Clientset, i int64) error) (benchkit.Result, error) {
	var failed atomic.Int64
	res, err := benchkit.RunOps(ctx, len(clients), limit, func(ctx context.Context, w int, i int64) error {
		if err := op(ctx, clients[w], i); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs.add(phase, err)
			failed.Add(1)
		}
		return nil
	})
	res.Ops -= failed.Load()
	return res, err
}

// patchPodStatuses patches the status of each of the n created pods once,
// as a node agent reports a started pod: a JSON merge patch of
// pods/status setting the phase, addresses, conditions and the
// container's state. Failed patches are logged and not counted.
func patchPodStatuses(ctx context.Context, clients []*kubernetes.Clientset, n int, errs *errorLog) (benchkit.Result, error) {
	return runCounted(ctx, clients, benchkit.Limit{Ops: int64(n)}, errs, "status patch", func(ctx context.Context, c *kubernetes.Clientset, i int64) error {
		_, err := c.CoreV1().Pods(podNamespace(int(i))).Patch(ctx, podName(int(i)), types.MergePatchType, runningStatusPatch(int(i)),
			metav1.PatchOptions{}, "status")
		return err
	})
}

// runningStatusPatch is the status a node agent posts for created pod i
// once its container runs.
func runningStatusPatch(i int) []byte {
	now := metav1.Now()
	ip := fmt.Sprintf("10.%d.%d.%d", 64+i>>16&63, i>>8&255, i&255)
	status := corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "198.18.0.1", HostIPs: []corev1.HostIP{{IP: "198.18.0.1"}},
		PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "web", Ready: true, Started: ptr.To(true), Image: "registry.example.com/shop/storefront:v1.42.7",
			ImageID:     "registry.example.com/shop/storefront@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			ContainerID: fmt.Sprintf("containerd://%064x", i),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
	data, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		panic(err) // a PodStatus always encodes
	}
	return data
}

// protobufAccept is what client-go's typed clients ask for.
const protobufAccept = "application/vnd.kubernetes.protobuf,application/json"

// listPods lists the pods of every namespace at resourceVersion rv and
// returns how long the server took to send the whole response, which is
// read but not decoded in that time; the response is decoded afterwards
// to check it holds want pods.
func listPods(ctx context.Context, c kubernetes.Interface, rv string, want int) (time.Duration, int, error) {
	req := c.CoreV1().RESTClient().Get().Resource("pods").SetHeader("Accept", protobufAccept)
	if rv != "" {
		req = req.Param("resourceVersion", rv)
	}
	start := time.Now()
	body, err := req.Stream(ctx)
	if err != nil {
		return 0, 0, err
	}
	data, err := io.ReadAll(body)
	elapsed := time.Since(start)
	if cerr := body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	obj, err := runtime.Decode(scheme.Codecs.UniversalDeserializer(), data)
	if err != nil {
		return 0, 0, fmt.Errorf("decode pod list: %w", err)
	}
	list, ok := obj.(*corev1.PodList)
	if !ok {
		return 0, 0, fmt.Errorf("list returned %T", obj)
	}
	if len(list.Items) != want {
		return 0, 0, fmt.Errorf("list at resourceVersion %q returned %d pods, want %d", rv, len(list.Items), want)
	}
	return elapsed, len(data), nil
}

// listResult is the outcome of the list phase.
type listResult struct {
	consistent, any time.Duration // medians at resourceVersion unset and "0"
	bytes           int           // size of one response
}

// listMedians lists runs times at each of resourceVersion unset and "0",
// alternating so that background work hits both alike, and returns the
// medians. Lists that fail are logged; it fails only if every list at one
// resourceVersion does.
func listMedians(ctx context.Context, c kubernetes.Interface, want, runs int, errs *errorLog) (listResult, error) {
	var res listResult
	ds := map[string][]time.Duration{}
	var last error
	for range runs {
		for _, rv := range []string{"", "0"} {
			d, n, err := listPods(ctx, c, rv, want)
			if err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				errs.add("list", err)
				last = err
				continue
			}
			ds[rv], res.bytes = append(ds[rv], d), n
		}
	}
	if len(ds[""]) == 0 || len(ds["0"]) == 0 {
		return res, errors.Join(errors.New("every list at one resourceVersion failed"), last)
	}
	res.consistent, res.any = benchkit.Percentile(ds[""], 50), benchkit.Percentile(ds["0"], 50)
	return res, nil
}

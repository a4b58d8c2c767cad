package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

// harness runs the controller's sync by hand against a fake clientset,
// with caches refreshed only when the test says so: a test decides
// exactly what the controller sees, and when.
type harness struct {
	t        *testing.T
	ctx      context.Context
	client   *fake.Clientset
	clock    *testingclock.FakeClock
	c        *Controller
	jobs     cache.Indexer
	pods     cache.Indexer
	recorder *events.FakeRecorder
	seq      int
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), client: fake.NewSimpleClientset(),
		clock: testingclock.NewFakeClock(epoch), recorder: events.NewFakeRecorder(1000)}
	// The fake tracker neither generates names nor keeps objects with
	// finalizers around when deleted; the API server does both.
	h.client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		pod := action.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if pod.Name == "" {
			h.seq++
			pod.Name = fmt.Sprintf("%s%05d", pod.GenerateName, h.seq)
		}
		pod.UID = types.UID("uid-" + pod.Name)
		pod.CreationTimestamp = metav1.NewTime(h.clock.Now())
		return false, nil, nil
	})
	h.client.PrependReactor("delete", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		da := action.(clienttesting.DeleteAction)
		obj, err := h.client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), da.GetNamespace(), da.GetName())
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*corev1.Pod)
		if len(pod.Finalizers) == 0 {
			return false, nil, nil
		}
		if pod.DeletionTimestamp == nil {
			pod.DeletionTimestamp = ptr.To(metav1.NewTime(h.clock.Now()))
		}
		return true, pod, h.client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), pod, pod.Namespace)
	})
	factory := informers.NewSharedInformerFactory(h.client, 0)
	c, err := New(Config{Client: h.client, Jobs: factory.Batch().V1().Jobs(), Pods: factory.Core().V1().Pods(),
		Clock: h.clock, Recorder: h.recorder})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	h.jobs = factory.Batch().V1().Jobs().Informer().GetIndexer()
	h.pods = factory.Core().V1().Pods().Informer().GetIndexer()
	return h
}

// create stores a job as the API server would after defaulting.
func (h *harness) create(job *batchv1.Job) {
	h.t.Helper()
	if _, err := h.client.BatchV1().Jobs(job.Namespace).Create(h.ctx, job, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	h.refresh()
}

// refresh makes the caches show the fake API's objects, calling the pod
// handlers as an informer would, and collects pods that were deleted and
// lost their last finalizer.
func (h *harness) refresh() {
	h.t.Helper()
	podGVR := corev1.SchemeGroupVersion.WithResource("pods")
	list, err := h.client.CoreV1().Pods(metav1.NamespaceAll).List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range list.Items {
		pod := &list.Items[i]
		if pod.DeletionTimestamp != nil && len(pod.Finalizers) == 0 {
			if err := h.client.Tracker().Delete(podGVR, pod.Namespace, pod.Name); err != nil {
				h.t.Fatal(err)
			}
			continue
		}
		key := pod.Namespace + "/" + pod.Name
		seen[key] = true
		old, exists, _ := h.pods.GetByKey(key)
		if err := h.pods.Update(pod); err != nil {
			h.t.Fatal(err)
		}
		if exists {
			h.c.onPodUpdate(old, pod)
		} else {
			h.c.onPodAdd(pod)
		}
	}
	for _, key := range h.pods.ListKeys() {
		if !seen[key] {
			obj, _, _ := h.pods.GetByKey(key)
			if err := h.pods.Delete(obj); err != nil {
				h.t.Fatal(err)
			}
			h.c.onPodDelete(obj)
		}
	}
	jobs, err := h.client.BatchV1().Jobs(metav1.NamespaceAll).List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.jobs.Replace(toObjects(jobs.Items), ""); err != nil {
		h.t.Fatal(err)
	}
}

func toObjects(jobs []batchv1.Job) []any {
	objs := make([]any, len(jobs))
	for i := range jobs {
		objs[i] = &jobs[i]
	}
	return objs
}

// sync runs one sync of the job and returns its requeue delay (0 for
// none); any other error fails the test.
func (h *harness) sync(name string) time.Duration {
	h.t.Helper()
	err := h.c.sync(h.ctx, "default/"+name)
	var rq controller.Requeue
	if errors.As(err, &rq) {
		return rq.After
	}
	if err != nil {
		h.t.Fatalf("sync %s: %v", name, err)
	}
	return 0
}

// settle syncs and refreshes until the job's status stops changing, as
// the running loop would, and returns the last requeue delay.
func (h *harness) settle(name string) time.Duration {
	h.t.Helper()
	var after time.Duration
	for range 20 {
		before := h.fingerprint(name)
		after = h.sync(name)
		h.refresh()
		if h.fingerprint(name) == before {
			return after
		}
	}
	h.t.Fatalf("job %s did not settle", name)
	return 0
}

// fingerprint sums up what a sync may change (the fake API keeps no
// resourceVersions).
func (h *harness) fingerprint(name string) string {
	var b strings.Builder
	status, err := json.Marshal(h.job(name).Status)
	if err != nil {
		h.t.Fatal(err)
	}
	b.Write(status)
	for _, p := range h.allPods() {
		fmt.Fprintf(&b, "%s %s %v %v\n", p.Name, p.Status.Phase, p.Finalizers, p.DeletionTimestamp)
	}
	return b.String()
}

func (h *harness) job(name string) *batchv1.Job {
	h.t.Helper()
	job, err := h.client.BatchV1().Jobs("default").Get(h.ctx, name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return job
}

// allPods lists the API's pods, sorted by name.
func (h *harness) allPods() []*corev1.Pod {
	h.t.Helper()
	list, err := h.client.CoreV1().Pods("default").List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return pods
}

// activePods lists pods pending or running and not deleted.
func (h *harness) activePods() []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range h.allPods() {
		if isActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// finish moves a pod to Succeeded (exit code 0) or Failed (exit code
// code), as a kubelet would.
func (h *harness) finish(pod *corev1.Pod, code int32) {
	h.t.Helper()
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodSucceeded
	if code != 0 {
		pod.Status.Phase = corev1.PodFailed
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(h.clock.Now())},
	}}}
	if _, err := h.client.CoreV1().Pods(pod.Namespace).UpdateStatus(h.ctx, pod, metav1.UpdateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// events drains the recorded events.
func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// newJob returns a defaulted job named name with a fresh UID and its
// generated selector.
func newJob(name string, edit func(*batchv1.Job)) *batchv1.Job {
	uid := types.UID("job-uid-" + name)
	labels := map[string]string{batchv1.ControllerUidLabel: string(uid), batchv1.JobNameLabel: name}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: uid},
		Spec: batchv1.JobSpec{
			Parallelism:    ptr.To[int32](1),
			Completions:    ptr.To[int32](1),
			BackoffLimit:   ptr.To[int32](6),
			CompletionMode: ptr.To(batchv1.NonIndexedCompletion),
			Suspend:        ptr.To(false),
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(uid)}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
				},
			},
		},
	}
	if edit != nil {
		edit(job)
	}
	return job
}

// conditionSummary renders conditions as "Type=Status/Reason" in order.
func conditionSummary(job *batchv1.Job) []string {
	var out []string
	for _, c := range job.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return out
}

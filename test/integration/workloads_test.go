package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tugcluster/tug/internal/testutil"
)

const workloadNS = "default"

// waitWorkload polls cond until it holds; the generous timeout only bounds a
// broken run, it is not an assertion about speed.
func waitWorkload(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 90*time.Second, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func webLabels() map[string]string { return map[string]string{"app": "web"} }

// webTemplate is the pod template of the workloads here; tests change the
// image through kubectl.
func webTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: webLabels()},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1"}}},
	}
}

// listWebPods returns the pods labeled app=web.
func listWebPods(ctx context.Context, c kubernetes.Interface) ([]corev1.Pod, error) {
	list, err := c.CoreV1().Pods(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

func webPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// markWebPodReady does what a kubelet would once the pod's containers run:
// phase Running, Ready and ContainersReady true.
func markWebPodReady(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) error {
	return setWebPodRunning(ctx, c, pod, corev1.ConditionTrue)
}

// setWebPodRunning sets phase Running with the given readiness. It rereads
// the pod when another writer (the scheduler) got there first.
func setWebPodRunning(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, ready corev1.ConditionStatus) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := c.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.ContainersReady, Status: ready, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: ready, LastTransitionTime: now},
		}
		_, err = c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
}

// startWebReadier marks every app=web pod Ready soon after it appears, in
// place of a node agent, until the test ends.
func startWebReadier(t *testing.T, c kubernetes.Interface) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			pods, err := listWebPods(ctx, c)
			if err != nil {
				return false, nil // the server may be busy; try again
			}
			for i := range pods {
				if pods[i].DeletionTimestamp == nil && !webPodReady(&pods[i]) {
					_ = markWebPodReady(ctx, c, &pods[i]) // a conflict is retried on the next round
				}
			}
			return false, nil
		})
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// webAvailability watches app=web pods and records the fewest available
// (Ready, not terminating) pods seen after each change.
type webAvailability struct {
	podWatch
	fewest int
}

// podWatch is what the tests' pod watches share: the goroutine that
// watches, its cancel, and the first error it met, under mu.
type podWatch struct {
	mu     sync.Mutex
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *podWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
}

func (w *podWatch) stop() {
	w.cancel()
	<-w.done
}

func watchWebAvailability(t *testing.T, c kubernetes.Interface) *webAvailability {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	list, err := c.CoreV1().Pods(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w, err := c.CoreV1().Pods(workloadNS).Watch(ctx, metav1.ListOptions{
		LabelSelector: "app=web", ResourceVersion: list.ResourceVersion, TimeoutSeconds: ptrTo[int64](600),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	avail := map[string]bool{}
	for i := range list.Items {
		avail[list.Items[i].Name] = webPodReady(&list.Items[i]) && list.Items[i].DeletionTimestamp == nil
	}
	a := &webAvailability{fewest: countAvailable(avail), podWatch: podWatch{cancel: cancel, done: make(chan struct{})}}
	go func() {
		defer close(a.done)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					a.fail(fmt.Errorf("pod watch closed early"))
					return
				}
				pod, isPod := ev.Object.(*corev1.Pod)
				if !isPod {
					a.fail(fmt.Errorf("pod watch: unexpected %s event %T", ev.Type, ev.Object))
					return
				}
				if ev.Type == watch.Deleted {
					delete(avail, pod.Name)
				} else {
					avail[pod.Name] = webPodReady(pod) && pod.DeletionTimestamp == nil
				}
				a.mu.Lock()
				a.fewest = min(a.fewest, countAvailable(avail))
				a.mu.Unlock()
			}
		}
	}()
	t.Cleanup(a.stop)
	return a
}

// result stops the watch and returns the fewest available pods seen.
func (a *webAvailability) result() (int, error) {
	a.stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fewest, a.err
}

func countAvailable(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// webPodsOwnedBy returns the app=web pods whose controller has uid.
func webPodsOwnedBy(ctx context.Context, c kubernetes.Interface, uid string) ([]corev1.Pod, error) {
	pods, err := listWebPods(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range pods {
		if ref := metav1.GetControllerOf(&p); ref != nil && string(ref.UID) == uid {
			out = append(out, p)
		}
	}
	return out, nil
}

func TestReplicaSetPods(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()

	// An orphan that matches is adopted instead of creating a third pod.
	orphan, err := c.CoreV1().Pods(workloadNS).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Labels: webLabels()},
		Spec:       webTemplate().Spec,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.AppsV1().ReplicaSets(workloadNS).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptrTo[int32](3), Selector: &metav1.LabelSelector{MatchLabels: webLabels()},
			Template: webTemplate(),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	uid := string(rs.UID)
	waitWorkload(t, "3 pods owned by the replica set, the orphan among them", func(ctx context.Context) (bool, error) {
		pods, err := webPodsOwnedBy(ctx, c, uid)
		if err != nil || len(pods) != 3 {
			return false, err
		}
		for _, p := range pods {
			ref := metav1.GetControllerOf(&p)
			if ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" || ref.Name != "web" ||
				ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
				return false, fmt.Errorf("pod %s has owner reference %+v", p.Name, ref)
			}
			if p.Name != orphan.Name && !strings.HasPrefix(p.Name, "web-") {
				return false, fmt.Errorf("pod %s is not named after the replica set", p.Name)
			}
		}
		for _, p := range pods {
			if p.Name == orphan.Name {
				return true, nil
			}
		}
		return false, nil
	})

	// A pod relabeled out of the selector is released and replaced.
	pods, err := webPodsOwnedBy(ctx, c, uid)
	if err != nil {
		t.Fatal(err)
	}
	relabeled := pods[0].Name
	patch := []byte(`{"metadata":{"labels":{"app":"debug"}}}`)
	if _, err := c.CoreV1().Pods(workloadNS).Patch(ctx, relabeled, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitWorkload(t, "the relabeled pod released and replaced", func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(workloadNS).Get(ctx, relabeled, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if len(p.OwnerReferences) != 0 {
			return false, nil
		}
		owned, err := webPodsOwnedBy(ctx, c, uid)
		return len(owned) == 3, err
	})

	// Scaling down deletes pods that are not ready before ready ones; all
	// three run, so only readiness tells them apart.
	pods, err = webPodsOwnedBy(ctx, c, uid)
	if err != nil {
		t.Fatal(err)
	}
	if err := setWebPodRunning(ctx, c, &pods[2], corev1.ConditionFalse); err != nil {
		t.Fatal(err)
	}
	ready := map[string]bool{}
	for i := range pods[:2] {
		if err := markWebPodReady(ctx, c, &pods[i]); err != nil {
			t.Fatal(err)
		}
		ready[pods[i].Name] = true
	}
	waitWorkload(t, "2 ready replicas in status", func(ctx context.Context) (bool, error) {
		got, err := c.AppsV1().ReplicaSets(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.ReadyReplicas == 2 && got.Status.AvailableReplicas == 2, err
	})
	if _, err := c.AppsV1().ReplicaSets(workloadNS).Patch(ctx, "web", "application/merge-patch+json",
		[]byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitWorkload(t, "scale down to the 2 ready pods", func(ctx context.Context) (bool, error) {
		owned, err := webPodsOwnedBy(ctx, c, uid)
		if err != nil || len(owned) != 2 {
			return false, err
		}
		for _, p := range owned {
			if !ready[p.Name] {
				return false, fmt.Errorf("kept unready pod %s, deleted a ready one", p.Name)
			}
		}
		return true, nil
	})
	waitWorkload(t, "status after scale down", func(ctx context.Context) (bool, error) {
		got, err := c.AppsV1().ReplicaSets(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := got.Status
		return st.Replicas == 2 && st.FullyLabeledReplicas == 2 && st.ReadyReplicas == 2 &&
			st.AvailableReplicas == 2 && st.ObservedGeneration == got.Generation, nil
	})
	waitWorkload(t, "SuccessfulCreate event", func(ctx context.Context) (bool, error) {
		evs, err := c.EventsV1().Events(workloadNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			name, created := strings.CutPrefix(ev.Note, "Created pod: ")
			if ev.Reason == "SuccessfulCreate" && ev.Regarding.Name == "web" && ev.ReportingController == "replicaset-controller" &&
				created && strings.HasPrefix(name, "web-") {
				// The note names a pod the controller made (its generated
				// name, read from the create's response).
				if pod, err := c.CoreV1().Pods(workloadNS).Get(ctx, name, metav1.GetOptions{}); err == nil && metav1.IsControlledBy(pod, rs) {
					return true, nil
				}
			}
		}
		return false, nil
	})
}

func TestReplicationControllerPods(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	rc, err := c.CoreV1().ReplicationControllers(workloadNS).Create(ctx, &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptrTo[int32](2), Selector: webLabels(), Template: ptrTo(webTemplate()),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitWorkload(t, "2 pods owned by the replication controller", func(ctx context.Context) (bool, error) {
		pods, err := webPodsOwnedBy(ctx, c, string(rc.UID))
		if err != nil || len(pods) != 2 {
			return false, err
		}
		for _, p := range pods {
			if ref := metav1.GetControllerOf(&p); ref.Kind != "ReplicationController" || ref.APIVersion != "v1" {
				return false, fmt.Errorf("pod %s has owner reference %+v", p.Name, ref)
			}
		}
		return true, nil
	})
	pods, err := webPodsOwnedBy(ctx, c, string(rc.UID))
	if err != nil {
		t.Fatal(err)
	}
	if err := markWebPodReady(ctx, c, &pods[0]); err != nil {
		t.Fatal(err)
	}
	waitWorkload(t, "replication controller status", func(ctx context.Context) (bool, error) {
		got, err := c.CoreV1().ReplicationControllers(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := got.Status
		return st.Replicas == 2 && st.ReadyReplicas == 1 && st.AvailableReplicas == 1 && st.ObservedGeneration == got.Generation, nil
	})
}

// newWebDeployment returns a Deployment of replicas nginx:1 pods.
func newWebDeployment(replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo(replicas), Selector: &metav1.LabelSelector{MatchLabels: webLabels()},
			Template: webTemplate(),
		},
	}
}

// kubectl133 runs kubectl 1.33 against s, failing the test on error.
func kubectl133(t *testing.T, s *testutil.Server) func(args ...string) string {
	kubectl := testutil.Kubectl(t, "1.33")
	return func(args ...string) string {
		t.Helper()
		out, err := s.RunKubectl(t, kubectl, "", args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
}

func webImage(ctx context.Context, c kubernetes.Interface) (string, error) {
	d, err := c.AppsV1().Deployments(workloadNS).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return d.Spec.Template.Spec.Containers[0].Image, nil
}

func TestDeploymentRollingUpdate(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	kubectl := kubectl133(t, s)
	startWebReadier(t, c)

	d := newWebDeployment(4)
	d.Spec.Strategy = appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: ptrTo(intstr.FromInt32(1)), MaxUnavailable: ptrTo(intstr.FromString("25%")),
		},
	}
	d.Spec.RevisionHistoryLimit = ptrTo[int32](1)
	if _, err := c.AppsV1().Deployments(workloadNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out := kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	rsList := func(ctx context.Context) ([]appsv1.ReplicaSet, error) {
		l, err := c.AppsV1().ReplicaSets(workloadNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}
	first, err := rsList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 {
		t.Fatalf("want 1 replica set, got %d", len(first))
	}
	hash := first[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || first[0].Name != "web-"+hash || first[0].Annotations["deployment.kubernetes.io/revision"] != "1" ||
		first[0].Annotations["deployment.kubernetes.io/desired-replicas"] != "4" ||
		first[0].Annotations["deployment.kubernetes.io/max-replicas"] != "5" {
		t.Errorf("first replica set: name %s, labels %v, annotations %v", first[0].Name, first[0].Labels, first[0].Annotations)
	}

	// 25% of 4 rounds down to 1 unavailable: 3 pods stay available.
	avail := watchWebAvailability(t, c)
	kubectl("set", "image", "deployment/web", "web=nginx:2")
	out = kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	fewest, err := avail.result()
	if err != nil {
		t.Fatal(err)
	}
	if fewest < 3 {
		t.Errorf("only %d pods available at one point, want at least 3", fewest)
	}
	out = kubectl("rollout", "history", "deployment/web")
	for _, want := range []string{"REVISION", "1 ", "2 "} {
		if !strings.Contains(out, want) {
			t.Errorf("rollout history lacks %q:\n%s", want, out)
		}
	}

	kubectl("rollout", "undo", "deployment/web", "--to-revision=1")
	waitWorkload(t, "template restored by undo", func(ctx context.Context) (bool, error) {
		img, err := webImage(ctx, c)
		return img == "nginx:1", err
	})
	kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	waitWorkload(t, "revision 3 on the first replica set, history limited to 1 old", func(ctx context.Context) (bool, error) {
		rss, err := rsList(ctx)
		if err != nil {
			return false, err
		}
		var back bool
		for _, rs := range rss {
			if rs.Name == first[0].Name {
				back = rs.Annotations["deployment.kubernetes.io/revision"] == "3" && *rs.Spec.Replicas == 4
			}
		}
		got, err := c.AppsV1().Deployments(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return back && len(rss) == 2 && got.Annotations["deployment.kubernetes.io/revision"] == "3", nil
	})
	pods, err := listWebPods(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image != "nginx:1" {
			t.Errorf("pod %s runs %s after undo", p.Name, p.Spec.Containers[0].Image)
		}
	}
	// A restart changes only a template annotation: a new revision all the
	// same.
	kubectl("rollout", "restart", "deployment/web")
	kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	waitWorkload(t, "restart rolled out as revision 4", func(ctx context.Context) (bool, error) {
		rss, err := rsList(ctx)
		if err != nil {
			return false, err
		}
		for _, rs := range rss {
			if rs.Annotations["deployment.kubernetes.io/revision"] == "4" {
				return rs.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != "" && *rs.Spec.Replicas == 4, nil
			}
		}
		return false, nil
	})
	waitWorkload(t, "ScalingReplicaSet event", func(ctx context.Context) (bool, error) {
		evs, err := c.EventsV1().Events(workloadNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Reason == "ScalingReplicaSet" && ev.ReportingController == "deployment-controller" &&
				ev.Note == fmt.Sprintf("Scaled up replica set %s from 0 to 4", first[0].Name) {
				return true, nil
			}
		}
		return false, nil
	})
}

func TestDeploymentPauseResume(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	kubectl := kubectl133(t, s)
	startWebReadier(t, c)
	if _, err := c.AppsV1().Deployments(workloadNS).Create(ctx, newWebDeployment(2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectl("rollout", "status", "deployment/web", "--timeout=90s")

	kubectl("rollout", "pause", "deployment/web")
	kubectl("set", "image", "deployment/web", "web=nginx:2")
	kubectl("scale", "deployment/web", "--replicas=3")
	waitWorkload(t, "paused deployment observed and scaled", func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if err != nil || d.Status.ObservedGeneration < d.Generation {
			return false, err
		}
		var reason string
		for _, cond := range d.Status.Conditions {
			if cond.Type == appsv1.DeploymentProgressing {
				reason = cond.Reason
			}
		}
		return reason == "DeploymentPaused" && d.Status.Replicas == 3 && d.Status.AvailableReplicas == 3, nil
	})
	rss, err := c.AppsV1().ReplicaSets(workloadNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 1 || rss.Items[0].Spec.Template.Spec.Containers[0].Image != "nginx:1" {
		t.Fatalf("paused deployment rolled out: %d replica sets", len(rss.Items))
	}

	kubectl("rollout", "resume", "deployment/web")
	out := kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	pods, err := listWebPods(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			live++
			if p.Spec.Containers[0].Image != "nginx:2" {
				t.Errorf("pod %s runs %s after resume", p.Name, p.Spec.Containers[0].Image)
			}
		}
	}
	if live != 3 {
		t.Errorf("%d pods after resume, want 3", live)
	}
}

func TestDeploymentRecreate(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	kubectl := kubectl133(t, s)
	startWebReadier(t, c)
	d := newWebDeployment(3)
	d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	// A finalizer keeps deleted pods around (terminating) until the test
	// lets them go, as a slow kubelet would.
	d.Spec.Template.Finalizers = []string{holdFinalizer}
	if _, err := c.AppsV1().Deployments(workloadNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	oldPods, err := listWebPods(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	order := watchRecreateOrder(t, c, oldPods)

	kubectl("set", "image", "deployment/web", "web=nginx:2")
	waitWorkload(t, "old pods terminating and the new template observed", func(ctx context.Context) (bool, error) {
		got, err := c.AppsV1().Deployments(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if err != nil || got.Status.ObservedGeneration < got.Generation {
			return false, err
		}
		pods, err := listWebPods(ctx, c)
		if err != nil {
			return false, err
		}
		for _, p := range pods {
			if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == "nginx:1" {
				return false, nil
			}
		}
		return true, nil
	})
	for _, p := range oldPods {
		release := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := c.CoreV1().Pods(workloadNS).Patch(ctx, p.Name, "application/merge-patch+json", release, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubectl("rollout", "status", "deployment/web", "--timeout=90s")
	newPods, err := order.result()
	if err != nil {
		t.Fatal(err)
	}
	if newPods != 3 {
		t.Errorf("saw %d new pods, want 3", newPods)
	}
}

const holdFinalizer = "example.com/hold"

// recreateOrder watches app=web pods and fails when a pod of the new
// template appears before every old pod is gone.
type recreateOrder struct {
	podWatch
	old     map[string]bool
	newPods int
}

func watchRecreateOrder(t *testing.T, c kubernetes.Interface, oldPods []corev1.Pod) *recreateOrder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	list, err := c.CoreV1().Pods(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w, err := c.CoreV1().Pods(workloadNS).Watch(ctx, metav1.ListOptions{
		LabelSelector: "app=web", ResourceVersion: list.ResourceVersion, TimeoutSeconds: ptrTo[int64](600),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &recreateOrder{old: map[string]bool{}, podWatch: podWatch{cancel: cancel, done: make(chan struct{})}}
	for _, p := range oldPods {
		r.old[p.Name] = true
	}
	go func() {
		defer close(r.done)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					r.fail(fmt.Errorf("pod watch closed early"))
					return
				}
				if err := r.observe(ev); err != nil {
					r.fail(err)
					return
				}
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *recreateOrder) observe(ev watch.Event) error {
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return fmt.Errorf("pod watch: unexpected %s event %T", ev.Type, ev.Object)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ev.Type == watch.Deleted:
		delete(r.old, pod.Name)
	case ev.Type == watch.Added && pod.Spec.Containers[0].Image == "nginx:2":
		if len(r.old) > 0 {
			return fmt.Errorf("new pod %s created while %d old pods remain", pod.Name, len(r.old))
		}
		r.newPods++
	}
	return nil
}

// result stops the watch and returns how many new pods appeared.
func (r *recreateOrder) result() (int, error) {
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.newPods, r.err
}

func TestDeploymentProgressDeadline(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	kubectl := testutil.Kubectl(t, "1.33")
	d := newWebDeployment(1)
	d.Spec.ProgressDeadlineSeconds = ptrTo[int32](1)
	if _, err := c.AppsV1().Deployments(workloadNS).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Nothing marks the pod ready, so the rollout cannot progress.
	waitWorkload(t, "Progressing False ProgressDeadlineExceeded", func(ctx context.Context) (bool, error) {
		got, err := c.AppsV1().Deployments(workloadNS).Get(ctx, "web", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, err
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == appsv1.DeploymentProgressing {
				return cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded", nil
			}
		}
		return false, nil
	})
	out, err := s.RunKubectl(t, kubectl, "", "rollout", "status", "deployment/web", "--timeout=30s")
	if err == nil || !strings.Contains(out, "exceeded its progress deadline") {
		t.Errorf("rollout status of a stuck deployment: err %v\n%s", err, out)
	}
}

package integration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/agent"
	"github.com/tugcluster/tug/internal/testutil"
)

// startSimAgent runs a simulated agent with n nodes named prefix0000…
// until the test ends; its nodes make pods Running and Ready.
func startSimAgent(t *testing.T, s *testutil.Server, n int, prefix string, taints ...string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Options{
			Simulated: true, Kubeconfig: s.Kubeconfig, Nodes: n, NodeNamePrefix: prefix, NodeTaints: taints,
			LeaseDuration: 4 * time.Second, PodCompletionTime: time.Second,
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("agent %s: %v", prefix, err)
		}
	})
}

// podEvents records, from a watch, the order pods were added and deleted
// (deletion requested: the controller counts a terminating pod as gone
// before its node removes it) and, for each added pod, which pods were
// Ready at that moment.
type podEvents struct {
	mu         sync.Mutex
	added      []string
	deleted    []string
	readyAtAdd map[string]map[string]bool
	ready      map[string]bool
	deleting   map[string]bool // recorded in deleted, not re-created since
}

// markDeleted records name's deletion once per pod of that name; mu is
// held.
func (ev *podEvents) markDeleted(name string) {
	if !ev.deleting[name] {
		ev.deleted = append(ev.deleted, name)
		ev.deleting[name] = true
	}
}

func watchPods(t *testing.T, c kubernetes.Interface, selector string) *podEvents {
	t.Helper()
	w, err := c.CoreV1().Pods(workloadNS).Watch(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	ev := &podEvents{readyAtAdd: map[string]map[string]bool{}, ready: map[string]bool{}, deleting: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range w.ResultChan() {
			pod, ok := e.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			ev.mu.Lock()
			switch e.Type {
			case watch.Added:
				ev.added = append(ev.added, pod.Name)
				delete(ev.deleting, pod.Name)
				snapshot := map[string]bool{}
				for name, r := range ev.ready {
					snapshot[name] = r
				}
				ev.readyAtAdd[pod.Name] = snapshot
				ev.ready[pod.Name] = webPodReady(pod)
			case watch.Modified:
				ev.ready[pod.Name] = webPodReady(pod) && pod.DeletionTimestamp == nil
				if pod.DeletionTimestamp != nil {
					ev.markDeleted(pod.Name)
				}
			case watch.Deleted:
				ev.markDeleted(pod.Name)
				delete(ev.ready, pod.Name)
			}
			ev.mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return ev
}

func stsPods(ctx context.Context, c kubernetes.Interface) (map[string]corev1.Pod, error) {
	list, err := c.CoreV1().Pods(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=sts"})
	if err != nil {
		return nil, err
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p
		}
	}
	return out, nil
}

func TestStatefulSet(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	startSimAgent(t, s, 3, "sts-")
	events := watchPods(t, c, "app=sts")

	labels := map[string]string{"app": "sts"}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: workloadNS},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](3),
			ServiceName: "web",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1"}}},
			},
		},
	}
	if _, err := c.AppsV1().StatefulSets(workloadNS).Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Claims live on a set of their own: the API server currently refuses
	// any update of a set with volumeClaimTemplates, and web is scaled and
	// updated below.
	db := set.DeepCopy()
	db.Name = "db"
	db.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
	db.Spec.Template.Labels = map[string]string{"app": "db"}
	db.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
	}
	db.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}}
	if _, err := c.AppsV1().StatefulSets(workloadNS).Create(ctx, db, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSTS := func(what string, cond func(*appsv1.StatefulSet) bool) *appsv1.StatefulSet {
		t.Helper()
		var got *appsv1.StatefulSet
		waitWorkload(t, what, func(ctx context.Context) (bool, error) {
			var err error
			got, err = c.AppsV1().StatefulSets(workloadNS).Get(ctx, "web", metav1.GetOptions{})
			return err == nil && got.Status.ObservedGeneration == got.Generation && cond(got), err
		})
		return got
	}
	got := waitSTS("3 ready replicas", func(s *appsv1.StatefulSet) bool { return s.Status.ReadyReplicas == 3 })

	t.Run("ordered creation", func(t *testing.T) {
		events.mu.Lock()
		defer events.mu.Unlock()
		if diff := slices.Compare(events.added, []string{"web-0", "web-1", "web-2"}); diff != 0 {
			t.Fatalf("pods added in order %v, want web-0, web-1, web-2", events.added)
		}
		for i := 1; i < 3; i++ {
			prev := fmt.Sprintf("web-%d", i-1)
			if !events.readyAtAdd[fmt.Sprintf("web-%d", i)][prev] {
				t.Errorf("web-%d was created before %s was Ready", i, prev)
			}
		}
	})

	t.Run("pods and claims", func(t *testing.T) {
		pods, err := stsPods(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			name := fmt.Sprintf("web-%d", i)
			pod := pods[name]
			if pod.Spec.Hostname != name || pod.Spec.Subdomain != "web" || pod.Labels[appsv1.StatefulSetPodNameLabel] != name ||
				pod.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) || pod.Labels[appsv1.ControllerRevisionHashLabelKey] != got.Status.UpdateRevision {
				t.Errorf("pod %s: hostname %q subdomain %q labels %v, want stable identity and revision %s",
					name, pod.Spec.Hostname, pod.Spec.Subdomain, pod.Labels, got.Status.UpdateRevision)
			}
		}
		waitWorkload(t, "db pods with claims", func(ctx context.Context) (bool, error) {
			for i := range 3 {
				name := fmt.Sprintf("db-%d", i)
				pod, err := c.CoreV1().Pods(workloadNS).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, nil //nolint:nilerr // not created yet
				}
				claim := "data-" + name
				pvc, err := c.CoreV1().PersistentVolumeClaims(workloadNS).Get(ctx, claim, metav1.GetOptions{})
				if err != nil {
					return false, nil //nolint:nilerr // not created yet
				}
				if ref := metav1.GetControllerOf(pvc); ref == nil || ref.Kind != "StatefulSet" || ref.Name != "db" {
					t.Fatalf("claim %s owners %+v, want db (whenDeleted Delete)", claim, pvc.OwnerReferences)
				}
				found := false
				for _, v := range pod.Spec.Volumes {
					found = found || (v.Name == "data" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim)
				}
				if !found {
					t.Fatalf("pod %s has no volume data for claim %s: %+v", name, claim, pod.Spec.Volumes)
				}
			}
			return true, nil
		})
		revs, err := c.AppsV1().ControllerRevisions(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=sts"})
		if err != nil {
			t.Fatal(err)
		}
		if len(revs.Items) != 1 || revs.Items[0].Name != got.Status.UpdateRevision || revs.Items[0].Revision != 1 {
			t.Errorf("revisions = %d, want just %s as revision 1", len(revs.Items), got.Status.UpdateRevision)
		}
	})

	t.Run("rollout status", func(t *testing.T) {
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "rollout", "status", "statefulset/web", "--timeout=90s")
		if err != nil {
			t.Fatalf("kubectl rollout status: %v\n%s", err, out)
		}
	})

	t.Run("scale down removes the highest ordinal", func(t *testing.T) {
		patch := []byte(`{"spec":{"replicas":2}}`)
		if _, err := c.AppsV1().StatefulSets(workloadNS).Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitSTS("2 replicas", func(s *appsv1.StatefulSet) bool { return s.Status.Replicas == 2 && s.Status.ReadyReplicas == 2 })
		pods, err := stsPods(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pods["web-2"]; ok || len(pods) != 2 {
			t.Errorf("pods after scale down = %v, want web-0 and web-1", slices.Collect(mapKeys(pods)))
		}
		events.mu.Lock()
		defer events.mu.Unlock()
		if len(events.deleted) == 0 || events.deleted[0] != "web-2" {
			t.Errorf("deleted %v, want web-2 first", events.deleted)
		}
	})

	t.Run("partitioned rolling update", func(t *testing.T) {
		patch := []byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}`)
		if _, err := c.AppsV1().StatefulSets(workloadNS).Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		updated := waitSTS("web-1 updated", func(s *appsv1.StatefulSet) bool {
			return s.Status.UpdatedReplicas == 1 && s.Status.ReadyReplicas == 2 && s.Status.UpdateRevision != s.Status.CurrentRevision
		})
		pods, err := stsPods(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if rev := pods["web-1"].Labels[appsv1.ControllerRevisionHashLabelKey]; rev != updated.Status.UpdateRevision || pods["web-1"].Spec.Containers[0].Image != "nginx:2" {
			t.Errorf("web-1 at revision %s image %s, want %s nginx:2", rev, pods["web-1"].Spec.Containers[0].Image, updated.Status.UpdateRevision)
		}
		if rev := pods["web-0"].Labels[appsv1.ControllerRevisionHashLabelKey]; rev != updated.Status.CurrentRevision || pods["web-0"].Spec.Containers[0].Image != "nginx:1" {
			t.Errorf("web-0 at revision %s image %s, want %s nginx:1 (below the partition)", rev, pods["web-0"].Spec.Containers[0].Image, updated.Status.CurrentRevision)
		}
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "rollout", "status", "statefulset/web", "--timeout=90s")
		if err != nil {
			t.Fatalf("kubectl rollout status: %v\n%s", err, out)
		}
	})
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestDaemonSet(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	startSimAgent(t, s, 2, "ds-")
	startSimAgent(t, s, 1, "tainted-", "dedicated=infra:NoSchedule")
	waitWorkload(t, "3 nodes", func(ctx context.Context) (bool, error) {
		nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		return err == nil && len(nodes.Items) == 3, err
	})

	labels := map[string]string{"app": "daemon"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: workloadNS},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "d", Image: "agent:1"}}},
			},
		},
	}
	if _, err := c.AppsV1().DaemonSets(workloadNS).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDS := func(what string, cond func(*appsv1.DaemonSet) bool) *appsv1.DaemonSet {
		t.Helper()
		var got *appsv1.DaemonSet
		waitWorkload(t, what, func(ctx context.Context) (bool, error) {
			var err error
			got, err = c.AppsV1().DaemonSets(workloadNS).Get(ctx, "x", metav1.GetOptions{})
			return err == nil && got.Status.ObservedGeneration == got.Generation && cond(got), err
		})
		return got
	}
	podNodes := func() map[string]corev1.Pod {
		t.Helper()
		list, err := c.CoreV1().Pods(workloadNS).List(ctx, metav1.ListOptions{LabelSelector: "app=daemon"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]corev1.Pod{}
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				out[p.Spec.NodeName] = p
			}
		}
		return out
	}
	rolloutStatus := func(t *testing.T) {
		out, err := s.RunKubectl(t, testutil.Kubectl(t, "1.33"), "", "rollout", "status", "ds/x", "--timeout=90s")
		if err != nil {
			t.Fatalf("kubectl rollout status: %v\n%s", err, out)
		}
	}

	waitDS("2 available", func(d *appsv1.DaemonSet) bool {
		return d.Status.DesiredNumberScheduled == 2 && d.Status.NumberAvailable == 2
	})
	t.Run("untainted nodes only", func(t *testing.T) {
		pods := podNodes()
		got := slices.Sorted(mapKeys(pods))
		if slices.Compare(got, []string{"ds-0000", "ds-0001"}) != 0 {
			t.Fatalf("daemon pods on %v, want ds-0000 and ds-0001", got)
		}
		for node, p := range pods {
			if nodeOfAffinity(&p) != node {
				t.Errorf("pod on %s is pinned to %q", node, nodeOfAffinity(&p))
			}
			if !hasToleration(p.Spec.Tolerations, corev1.TaintNodeUnschedulable) || !hasToleration(p.Spec.Tolerations, corev1.TaintNodeNotReady) {
				t.Errorf("pod on %s lacks the daemon tolerations: %+v", node, p.Spec.Tolerations)
			}
		}
		rolloutStatus(t)
	})

	parent := t
	t.Run("follows a new node", func(t *testing.T) {
		startSimAgent(parent, s, 1, "late-") // runs until the whole test ends
		waitDS("3 available", func(d *appsv1.DaemonSet) bool {
			return d.Status.DesiredNumberScheduled == 3 && d.Status.NumberAvailable == 3
		})
		if _, ok := podNodes()["late-0000"]; !ok {
			t.Errorf("no daemon pod on late-0000")
		}
	})

	t.Run("template change rolls pods", func(t *testing.T) {
		before := podNodes()
		patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"d","image":"agent:2"}]}}}}`)
		if _, err := c.AppsV1().DaemonSets(workloadNS).Patch(ctx, "x", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitDS("3 updated and available", func(d *appsv1.DaemonSet) bool {
			return d.Status.UpdatedNumberScheduled == 3 && d.Status.NumberAvailable == 3 && d.Status.DesiredNumberScheduled == 3
		})
		rolloutStatus(t)
		after := podNodes()
		if len(after) != 3 {
			t.Fatalf("pods on %v, want 3 nodes", slices.Collect(mapKeys(after)))
		}
		for node, p := range after {
			if p.Spec.Containers[0].Image != "agent:2" || p.UID == before[node].UID {
				t.Errorf("pod on %s: image %s, uid unchanged %v; want a new agent:2 pod", node, p.Spec.Containers[0].Image, p.UID == before[node].UID)
			}
		}
	})
}

func nodeOfAffinity(p *corev1.Pod) string {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

func hasToleration(ts []corev1.Toleration, key string) bool {
	return slices.ContainsFunc(ts, func(t corev1.Toleration) bool { return t.Key == key })
}

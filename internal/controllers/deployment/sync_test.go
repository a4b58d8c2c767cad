package deployment

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

func TestSyncCreatesNewReplicaSetOnce(t *testing.T) {
	d := rollingDeployment(3, intstr.FromString("25%"), intstr.FromString("25%"))
	d.ObjectMeta = metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "d-uid", Generation: 1,
		Annotations: map[string]string{"kubernetes.io/change-cause": "first"}}
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template = template("nginx:1")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](600)
	client := fake.NewClientset(d)
	factory := informers.NewSharedInformerFactory(client, 0)
	recorder := events.NewFakeRecorder(10)
	c, err := New(Config{
		Client: client, Deployments: factory.Apps().V1().Deployments(), ReplicaSets: factory.Apps().V1().ReplicaSets(),
		Pods: factory.Core().V1().Pods(), Clock: clocktesting.NewFakePassiveClock(t0), Recorder: recorder,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); factory.Shutdown() }()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		t.Fatal("caches did not sync")
	}
	sync := func() {
		t.Helper()
		var requeue controller.Requeue
		if err := c.sync(ctx, "ns/web"); err != nil && !errors.As(err, &requeue) {
			t.Fatalf("sync: %v", err)
		}
	}
	sync()
	hash := templateHash(&d.Spec.Template, nil)
	rs, err := client.AppsV1().ReplicaSets("ns").Get(ctx, "web-"+hash, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("new replica set: %v", err)
	}
	if got := *rs.Spec.Replicas; got != 3 {
		t.Errorf("replicas = %d, want 3", got)
	}
	if rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("template labels %v, selector %v lack the hash", rs.Spec.Template.Labels, rs.Spec.Selector)
	}
	for k, v := range map[string]string{
		revisionAnnotation: "1", desiredReplicasAnnotation: "3", maxReplicasAnnotation: "4", "kubernetes.io/change-cause": "first",
	} {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != "d-uid" || ref.Kind != "Deployment" {
		t.Errorf("controller = %+v", ref)
	}
	if ev := <-recorder.Events; ev != "Normal ScalingReplicaSet Scaled up replica set web-"+hash+" from 0 to 3" {
		t.Errorf("event %q", ev)
	}
	got, err := client.AppsV1().Deployments("ns").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations[revisionAnnotation] != "1" {
		t.Errorf("deployment revision = %q", got.Annotations[revisionAnnotation])
	}
	if cond := getCondition(&got.Status, appsv1.DeploymentProgressing); cond == nil || cond.Reason != reasonNewRSCreated {
		t.Errorf("Progressing = %+v, want reason %s", cond, reasonNewRSCreated)
	}

	// Once the informer shows it, syncing again creates nothing new.
	if err := wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		_, err := c.rsLister.ReplicaSets("ns").Get(rs.Name)
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	sync()
	list, err := client.AppsV1().ReplicaSets("ns").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Errorf("%d replica sets after a second sync, want 1", len(list.Items))
	}
}

package resourcequota

import (
	"context"
	"testing"
	"time"

	"github.com/tugcluster/tug/internal/quota/quotatest"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/metadata/metadatainformer"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
)

// TestSync: the controller writes status.hard and a status.used computed
// from its caches, within the quota's scopes, and writes nothing when both are
// current.
func TestSync(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pod := func(name string, cpu string, phase corev1.PodPhase) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Status: corev1.PodStatus{Phase: phase},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		if cpu != "" {
			p.Spec.Containers[0].Resources.Requests = quotatest.List("cpu", cpu)
		}
		return p
	}
	objs := []runtime.Object{
		pod("a", "100m", corev1.PodRunning), pod("b", "200m", corev1.PodPending), pod("done", "1", corev1.PodSucceeded),
		pod("be", "", corev1.PodRunning),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "other"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "ns"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}},
	}
	configMaps := []runtime.Object{
		&metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "ns"}},
		&metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "y", Namespace: "ns"}},
	}
	tests := []struct {
		name      string
		quota     *corev1.ResourceQuota
		wantUsed  corev1.ResourceList
		wantWrite bool
	}{
		{name: "unscoped", quota: &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("pods", "10", "requests.cpu", "2",
			"count/pods", "10", "services.nodeports", "2", "configmaps", "5", "count/widgets.example.com", "1", "made-up", "1", "resourcequotas", "1")}},
			wantUsed: quotatest.List("pods", "3", "requests.cpu", "300m", "count/pods", "4", "services.nodeports", "1", "configmaps", "2",
				"count/widgets.example.com", "0", "resourcequotas", "1"), wantWrite: true},
		{name: "best effort", quota: &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("pods", "10"),
			Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}},
			wantUsed: quotatest.List("pods", "1"), wantWrite: true},
		{name: "not best effort", quota: &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("pods", "10", "cpu", "1"),
			Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort}}},
			wantUsed: quotatest.List("pods", "2", "cpu", "300m"), wantWrite: true},
		{name: "current", quota: &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("pods", "10")},
			Status: corev1.ResourceQuotaStatus{Hard: quotatest.List("pods", "10"), Used: quotatest.List("pods", "3")}},
			wantUsed: quotatest.List("pods", "3")},
		{name: "custom resource keeps what admission charged", quota: &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: quotatest.List("count/widgets.example.com", "5")},
			Status: corev1.ResourceQuotaStatus{Used: quotatest.List("count/widgets.example.com", "2")}},
			wantUsed: quotatest.List("count/widgets.example.com", "2"), wantWrite: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.quota
			q.Name, q.Namespace, q.ResourceVersion = "q", "ns", "5"
			client := fake.NewSimpleClientset(q)
			factory := informers.NewSharedInformerFactory(client, 0)
			scheme := runtime.NewScheme()
			if err := metav1.AddMetaToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			meta := metadatainformer.NewSharedInformerFactory(metadatafake.NewSimpleMetadataClient(scheme), 0)
			c, err := New(Config{
				Client: client, Quotas: factory.Core().V1().ResourceQuotas(), Pods: factory.Core().V1().Pods(),
				Services: factory.Core().V1().Services(), Claims: factory.Core().V1().PersistentVolumeClaims(),
				Metadata: meta, Counted: []schema.GroupVersionResource{corev1.SchemeGroupVersion.WithResource("configmaps")},
				Clock: testingclock.NewFakePassiveClock(now),
			})
			if err != nil {
				t.Fatal(err)
			}
			add := func(indexer interface{ Add(any) error }, objs ...runtime.Object) {
				for _, o := range objs {
					if err := indexer.Add(o); err != nil {
						t.Fatal(err)
					}
				}
			}
			add(factory.Core().V1().ResourceQuotas().Informer().GetIndexer(), q)
			for _, o := range objs {
				switch o.(type) {
				case *corev1.Pod:
					add(factory.Core().V1().Pods().Informer().GetIndexer(), o)
				case *corev1.Service:
					add(factory.Core().V1().Services().Informer().GetIndexer(), o)
				}
			}
			add(meta.ForResource(corev1.SchemeGroupVersion.WithResource("configmaps")).Informer().GetIndexer(), configMaps...)

			if err := c.sync(context.Background(), "ns/q"); err != nil {
				t.Fatal(err)
			}
			var written *corev1.ResourceQuota
			for _, a := range client.Actions() {
				if u, ok := a.(clienttesting.UpdateActionImpl); ok && u.Subresource == "status" {
					written = u.Object.(*corev1.ResourceQuota)
				}
			}
			if (written != nil) != tt.wantWrite {
				t.Fatalf("status written = %v, want %v", written != nil, tt.wantWrite)
			}
			if written == nil {
				return
			}
			if diff := cmp.Diff(quotatest.Show(tt.wantUsed), quotatest.Show(written.Status.Used)); diff != "" {
				t.Errorf("used (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(quotatest.Show(q.Spec.Hard), quotatest.Show(written.Status.Hard)); diff != "" {
				t.Errorf("status.hard (-spec +status):\n%s", diff)
			}
		})
	}
}

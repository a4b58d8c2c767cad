package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/testutil"
)

// quotaEnv is one namespace of a real server for a quota test.
type quotaEnv struct {
	t   *testing.T
	s   *testutil.Server
	ns  string
	ctx context.Context
}

func newQuotaEnv(t *testing.T, s *testutil.Server, ns string) *quotaEnv {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return &quotaEnv{t: t, s: s, ns: ns, ctx: ctx}
}

// waitRootCA waits for the kube-root-ca.crt ConfigMap every namespace
// gets, so that config map counts do not change under the test.
func (e *quotaEnv) waitRootCA() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, err := e.s.Client.CoreV1().ConfigMaps(e.ns).Get(e.ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsNotFound(err) {
			e.t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("no kube-root-ca.crt config map")
}

func (e *quotaEnv) createQuota(name string, hard map[string]string, scopes ...corev1.ResourceQuotaScope) {
	e.t.Helper()
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{}, Scopes: scopes}}
	for k, v := range hard {
		q.Spec.Hard[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	if _, err := e.s.Client.CoreV1().ResourceQuotas(e.ns).Create(e.ctx, q, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// waitUsed waits until the quota's status.used holds want (other entries
// are not compared) and status.hard equals spec.hard.
func (e *quotaEnv) waitUsed(name string, want map[string]string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last *corev1.ResourceQuota
	for time.Now().Before(deadline) {
		q, err := e.s.Client.CoreV1().ResourceQuotas(e.ns).Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		last = q
		ok := len(q.Status.Hard) == len(q.Spec.Hard)
		for k, v := range want {
			got, found := q.Status.Used[corev1.ResourceName(k)]
			ok = ok && found && got.Cmp(resource.MustParse(v)) == 0
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("quota %s: status %+v, want used to hold %v", name, last.Status, want)
}

func quotaPod(name string, requests, limits map[string]string) *corev1.Pod {
	c := corev1.Container{Name: "app", Image: "registry.k8s.io/pause:3.10.2"}
	for k, v := range requests {
		if c.Resources.Requests == nil {
			c.Resources.Requests = corev1.ResourceList{}
		}
		c.Resources.Requests[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	for k, v := range limits {
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		c.Resources.Limits[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
}

func (e *quotaEnv) createPod(pod *corev1.Pod) error {
	_, err := e.s.Client.CoreV1().Pods(e.ns).Create(e.ctx, pod, metav1.CreateOptions{})
	return err
}

func (e *quotaEnv) deletePod(name string) {
	e.t.Helper()
	if err := e.s.Client.CoreV1().Pods(e.ns).Delete(e.ctx, name, *metav1.NewDeleteOptions(0)); err != nil {
		e.t.Fatal(err)
	}
}

// wantForbidden checks err is a 403 whose message is exactly want.
func wantForbidden(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("err = %v, want Forbidden", err)
	}
	if err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err.Error(), want)
	}
}

// TestResourceQuotaPods: status.used follows pod creates and deletes, a
// create over the pods quota is refused with upstream's message, and
// pods that omit a constrained limit are refused.
func TestResourceQuotaPods(t *testing.T) {
	s := testutil.StartServer(t)
	e := newQuotaEnv(t, s, "quota-pods")
	e.createQuota("compute", map[string]string{"pods": "2", "requests.cpu": "1", "limits.cpu": "2", "requests.memory": "1Gi"})
	e.waitUsed("compute", map[string]string{"pods": "0", "requests.cpu": "0", "limits.cpu": "0", "requests.memory": "0"})

	// A dry run is checked but charges nothing (admission charges before
	// the create returns, so the quota is read right after it).
	dry := quotaPod("dry", map[string]string{"cpu": "100m", "memory": "64Mi"}, map[string]string{"cpu": "100m"})
	if _, err := s.Client.CoreV1().Pods(e.ns).Create(e.ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if q, err := s.Client.CoreV1().ResourceQuotas(e.ns).Get(e.ctx, "compute", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	} else if used := q.Status.Used[corev1.ResourcePods]; used.Value() != 0 {
		t.Errorf("after a dry-run create the quota has pods=%s used, want 0", used.String())
	}

	err := e.createPod(quotaPod("no-limits", map[string]string{"cpu": "100m", "memory": "64Mi"}, nil))
	wantForbidden(t, err, `pods "no-limits" is forbidden: failed quota: compute: must specify limits.cpu for: app`)

	for i := range 2 {
		if err := e.createPod(quotaPod(fmt.Sprintf("p%d", i), map[string]string{"cpu": "200m", "memory": "64Mi"}, map[string]string{"cpu": "500m"})); err != nil {
			t.Fatal(err)
		}
	}
	// Admission charged both creates before they were stored.
	e.waitUsed("compute", map[string]string{"pods": "2", "requests.cpu": "400m", "limits.cpu": "1", "requests.memory": "128Mi"})
	err = e.createPod(quotaPod("p2", map[string]string{"cpu": "100m", "memory": "64Mi"}, map[string]string{"cpu": "100m"}))
	wantForbidden(t, err, `pods "p2" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`)

	e.deletePod("p0")
	e.waitUsed("compute", map[string]string{"pods": "1", "requests.cpu": "200m", "limits.cpu": "500m", "requests.memory": "64Mi"})
	err = e.createPod(quotaPod("big", map[string]string{"cpu": "900m", "memory": "64Mi"}, map[string]string{"cpu": "1"}))
	wantForbidden(t, err, `pods "big" is forbidden: exceeded quota: compute, requested: requests.cpu=900m, used: requests.cpu=200m, limited: requests.cpu=1`)
	if err := e.createPod(quotaPod("p2", map[string]string{"cpu": "800m", "memory": "64Mi"}, map[string]string{"cpu": "1"})); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("compute", map[string]string{"pods": "2", "requests.cpu": "1", "limits.cpu": "1500m"})

	// A pod that has finished no longer counts.
	p1, err := s.Client.CoreV1().Pods(e.ns).Get(e.ctx, "p1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1.Status.Phase = corev1.PodSucceeded
	if _, err := s.Client.CoreV1().Pods(e.ns).UpdateStatus(e.ctx, p1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("compute", map[string]string{"pods": "1", "requests.cpu": "800m", "limits.cpu": "1"})

	// An in-place resize is charged too: growing p2 past requests.cpu=1
	// is refused.
	patch := []byte(`{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"1200m"},"limits":{"cpu":"1500m"}}}]}}`)
	_, err = s.Client.CoreV1().Pods(e.ns).Patch(e.ctx, "p2", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "resize")
	wantForbidden(t, err, `pods "p2" is forbidden: exceeded quota: compute, requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1`)
}

// TestResourceQuotaConcurrentCreates: creates racing for the last units
// of a quota cannot all pass, because admission charges the quota with a
// compare-and-swap before storing the object.
func TestResourceQuotaConcurrentCreates(t *testing.T) {
	s := testutil.StartServer(t)
	e := newQuotaEnv(t, s, "quota-race")
	e.waitRootCA()
	e.createQuota("cm", map[string]string{"configmaps": "4"})
	e.waitUsed("cm", map[string]string{"configmaps": "1"})
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Client.CoreV1().ConfigMaps(e.ns).Create(e.ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}}, metav1.CreateOptions{})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "exceeded quota: cm, requested: configmaps=1, used: configmaps=4, limited: configmaps=4"):
			t.Errorf("create: %v, want success or exceeded quota", err)
		}
	}
	if created != 3 {
		t.Fatalf("%d config maps created, want exactly 3", created)
	}
	list, err := s.Client.CoreV1().ConfigMaps(e.ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 4 {
		t.Fatalf("namespace holds %d config maps, want 4 (3 and the root CA)", len(list.Items))
	}
}

// TestResourceQuotaObjectCounts: legacy and count/<resource> object counts
// follow creates and deletes, and services charge node ports and load
// balancers.
func TestResourceQuotaObjectCounts(t *testing.T) {
	s := testutil.StartServer(t)
	e := newQuotaEnv(t, s, "quota-counts")
	e.waitRootCA()
	e.createQuota("objects", map[string]string{"count/configmaps": "2", "resourcequotas": "2",
		"count/replicasets.apps": "5", "services": "5", "services.nodeports": "1", "services.loadbalancers": "1"})
	e.waitUsed("objects", map[string]string{"count/configmaps": "1", "resourcequotas": "1", "count/replicasets.apps": "0",
		"services": "0", "services.nodeports": "0"})
	cms := s.Client.CoreV1().ConfigMaps(e.ns)
	if _, err := cms.Create(e.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("objects", map[string]string{"count/configmaps": "2"})
	_, err := cms.Create(e.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{})
	wantForbidden(t, err, `configmaps "b" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2`)
	if err := cms.Delete(e.ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("objects", map[string]string{"count/configmaps": "1"})
	if _, err := cms.Create(e.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	svcs := s.Client.CoreV1().Services(e.ns)
	svc := func(name string, typ corev1.ServiceType) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{{Port: 80}}}}
	}
	if _, err := svcs.Create(e.ctx, svc("np", corev1.ServiceTypeNodePort), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lb := svc("lb", corev1.ServiceTypeLoadBalancer)
	_, err = svcs.Create(e.ctx, lb, metav1.CreateOptions{})
	wantForbidden(t, err, `services "lb" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1`)
	lb.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
	if _, err := svcs.Create(e.ctx, lb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("objects", map[string]string{"services": "2", "services.nodeports": "1", "services.loadbalancers": "1"})
	if err := svcs.Delete(e.ctx, "np", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("objects", map[string]string{"services": "1", "services.nodeports": "0", "services.loadbalancers": "1"})

	// A second quota counts against the first's resourcequotas.
	e.createQuota("second", map[string]string{"pods": "1"})
	e.waitUsed("objects", map[string]string{"resourcequotas": "2"})
	err = s.Client.CoreV1().ResourceQuotas(e.ns).Delete(e.ctx, "second", metav1.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitUsed("objects", map[string]string{"resourcequotas": "1"})
}

// TestResourceQuotaScopes: BestEffort and NotBestEffort quotas each count
// only their kind of pod; Terminating and NotTerminating split pods by
// activeDeadlineSeconds.
func TestResourceQuotaScopes(t *testing.T) {
	s := testutil.StartServer(t)
	e := newQuotaEnv(t, s, "quota-scopes")
	e.createQuota("besteffort", map[string]string{"pods": "1"}, corev1.ResourceQuotaScopeBestEffort)
	e.createQuota("not-besteffort", map[string]string{"pods": "5", "requests.cpu": "1"}, corev1.ResourceQuotaScopeNotBestEffort)
	e.createQuota("terminating", map[string]string{"pods": "5"}, corev1.ResourceQuotaScopeTerminating)
	e.createQuota("not-terminating", map[string]string{"pods": "5"}, corev1.ResourceQuotaScopeNotTerminating)
	for _, q := range []string{"besteffort", "not-besteffort", "terminating", "not-terminating"} {
		e.waitUsed(q, map[string]string{"pods": "0"})
	}

	if err := e.createPod(quotaPod("be", nil, nil)); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("besteffort", map[string]string{"pods": "1"})
	err := e.createPod(quotaPod("be2", nil, nil))
	wantForbidden(t, err, `pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1`)
	// The NotBestEffort quota constrains requests.cpu, but a best-effort
	// pod is outside its scope: no "must specify".
	deadline := quotaPod("burst", map[string]string{"cpu": "250m"}, nil)
	deadline.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	if err := e.createPod(deadline); err != nil {
		t.Fatal(err)
	}
	e.waitUsed("not-besteffort", map[string]string{"pods": "1", "requests.cpu": "250m"})
	e.waitUsed("besteffort", map[string]string{"pods": "1"})
	e.waitUsed("terminating", map[string]string{"pods": "1"})
	e.waitUsed("not-terminating", map[string]string{"pods": "1"})

	e.deletePod("be")
	e.waitUsed("besteffort", map[string]string{"pods": "0"})
	e.waitUsed("not-terminating", map[string]string{"pods": "0"})
	e.deletePod("burst")
	e.waitUsed("not-besteffort", map[string]string{"pods": "0", "requests.cpu": "0"})
	e.waitUsed("terminating", map[string]string{"pods": "0"})
}

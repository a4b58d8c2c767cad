package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/testutil"
)

func TestBuiltinObjects(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if _, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", ns, err)
		}
	}
	svc, err := s.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "10.43.0.1" {
		t.Fatalf("kubernetes service: %v %v", svc, err)
	}
	cidr, err := s.Client.NetworkingV1().ServiceCIDRs().Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || len(cidr.Spec.CIDRs) != 1 || cidr.Spec.CIDRs[0] != "10.43.0.0/16" {
		t.Fatalf("default ServiceCIDR: %v %v", cidr, err)
	}
}

func TestClientGoCRUD(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	cms := s.Client.CoreV1().ConfigMaps("default")

	created, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "one", Labels: map[string]string{"app": "a"}},
		Data:       map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Fatalf("system metadata not set: %+v", created.ObjectMeta)
	}
	if _, err := cms.Create(ctx, created, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	if _, err := cms.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get missing: %v, want NotFound", err)
	}

	// A stale resourceVersion is a conflict.
	updated := created.DeepCopy()
	updated.Data["k"] = "v2"
	if _, err := cms.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Update(ctx, updated, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want Conflict", err)
	}

	// An invalid name is 422 with the field named.
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Not_Valid"}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") {
		t.Fatalf("invalid create: %v, want Invalid naming metadata.name", err)
	}

	// Patches of each kind.
	for _, p := range []struct {
		pt   types.PatchType
		body string
		want string
	}{
		{types.MergePatchType, `{"data":{"k":"merge"}}`, "merge"},
		{types.StrategicMergePatchType, `{"data":{"k":"smp"}}`, "smp"},
		{types.JSONPatchType, `[{"op":"replace","path":"/data/k","value":"json"}]`, "json"},
	} {
		got, err := cms.Patch(ctx, "one", p.pt, []byte(p.body), metav1.PatchOptions{})
		if err != nil || got.Data["k"] != p.want {
			t.Fatalf("%s patch: %v %v", p.pt, got.Data, err)
		}
	}

	// Selectors and pagination.
	for _, name := range []string{"two", "three"} {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=a"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "one" {
		t.Fatalf("label selector: %v %v", list, err)
	}
	list, err = cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=two"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("field selector: %v %v", list, err)
	}
	if _, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "spec.nope=x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("unsupported field selector: %v, want BadRequest", err)
	}
	page, err := cms.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Continue == "" {
		t.Fatalf("first page: %d items, continue %q, %v", len(page.Items), page.Continue, err)
	}
	rest, err := cms.List(ctx, metav1.ListOptions{Limit: 2, Continue: page.Continue})
	if err != nil || len(rest.Items) < 1 {
		t.Fatalf("second page: %v", err)
	}

	// Watch sees a change made after it starts.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := cms.Delete(ctx, "two", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		cm, ok := ev.Object.(*corev1.ConfigMap)
		if ev.Type != watch.Deleted || !ok || cm.Name != "two" {
			t.Fatalf("watch event %s %#v", ev.Type, ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
}

func TestMetrics(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	if _, err := s.Client.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	body, err := s.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"}`,
		"apiserver_request_duration_seconds_bucket",
		"tug_storage_operation_duration_seconds_bucket",
		"tug_storage_revision",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestNamespaceDefaults checks that a new namespace gets its default
// service account and the root CA ConfigMap.
func TestNamespaceDefaults(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "default service account", func() (bool, error) {
		_, err := s.Client.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	eventually(t, "kube-root-ca.crt", func() (bool, error) {
		cm, err := s.Client.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Data["ca.crt"], "BEGIN CERTIFICATE"), nil
	})
}

func TestScaleAndBinding(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	if _, err := s.Client.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deployment controller writes the status meanwhile, which moves
	// the resourceVersion the scale carries: retry conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := s.Client.AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil || scale.Spec.Replicas != 1 || scale.Status.Selector != "app=web" {
			t.Fatalf("scale: %+v %v", scale, err)
		}
		scale.Spec.Replicas = 5
		_, err = s.Client.AppsV1().Deployments("default").UpdateScale(ctx, "web", scale, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || *got.Spec.Replicas != 5 {
		t.Fatalf("replicas after scale: %v %v", got.Spec.Replicas, err)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := s.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
	if err := s.Client.CoreV1().Pods("default").Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bound, err := s.Client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
	if err != nil || bound.Spec.NodeName != "node-1" {
		t.Fatalf("bound pod: %v %v", bound.Spec.NodeName, err)
	}
	if err := s.Client.CoreV1().Pods("default").Bind(ctx, binding, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("second bind: %v, want Conflict", err)
	}
}

// TestEventsShareStorage checks that core/v1 and events.k8s.io/v1 show the
// same Event objects.
func TestEventsShareStorage(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p", Namespace: "default"},
		Reason:         "Tested", Message: "hello", Type: corev1.EventTypeNormal,
	}
	if _, err := s.Client.CoreV1().Events("default").Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client.EventsV1().Events("default").Get(ctx, "e1", metav1.GetOptions{})
	if err != nil || got.Note != "hello" || got.Regarding.Name != "p" {
		t.Fatalf("events.k8s.io view: %+v %v", got, err)
	}
	got.Note = "changed"
	if _, err := s.Client.EventsV1().Events("default").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	core, err := s.Client.CoreV1().Events("default").Get(ctx, "e1", metav1.GetOptions{})
	if err != nil || core.Message != "changed" {
		t.Fatalf("core view after update: %+v %v", core, err)
	}
	list, err := s.Client.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("events.k8s.io list: %v %v", list, err)
	}
	if err := s.Client.EventsV1().Events("default").Delete(ctx, "e1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CoreV1().Events("default").Get(ctx, "e1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("core event after delete: %v", err)
	}
}

func TestKubernetesServiceEndpoints(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	svc, err := s.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || svc.Spec.Ports[0].TargetPort.IntValue() != port {
		t.Fatalf("kubernetes service target port: %v %v, want %d", svc.Spec.Ports, err, port)
	}
	ep, err := s.Client.CoreV1().Endpoints("default").Get(ctx, "kubernetes", metav1.GetOptions{}) //nolint:staticcheck // SA1019
	if err != nil || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "127.0.0.1" || ep.Subsets[0].Ports[0].Port != int32(port) {
		t.Fatalf("kubernetes endpoints: %+v %v", ep, err)
	}
	slices, err := s.Client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=kubernetes"})
	if err != nil || len(slices.Items) != 1 || *slices.Items[0].Ports[0].Port != int32(port) {
		t.Fatalf("kubernetes endpoint slices: %+v %v", slices, err)
	}
	// An empty list is [], never null.
	raw, err := s.Client.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/pods").Param("limit", "500").DoRaw(ctx)
	if err != nil || !strings.Contains(string(raw), `"items":[]`) {
		t.Fatalf("empty paginated list: %s %v", raw, err)
	}
	v, err := s.Client.Discovery().ServerVersion()
	if err != nil || v.Major != "1" || v.Minor == "" {
		t.Fatalf("server version: %+v %v", v, err)
	}
}

func TestAccessReviews(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "alice", Groups: []string{"system:masters"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"},
	}}
	got, err := s.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil || !got.Status.Allowed {
		t.Fatalf("master SAR: %+v %v", got, err)
	}
	sar.Spec.Groups = []string{"devs"}
	if got, err = s.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{}); err != nil || got.Status.Allowed {
		t.Fatalf("non-master SAR: %+v %v", got, err)
	}
	rules, err := s.Client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
		&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
	if err != nil || len(rules.Status.ResourceRules) == 0 {
		t.Fatalf("rules review: %+v %v", rules, err)
	}

	// Reviews are answered like stored resources: in the negotiated
	// encoding, with Status errors, but never as a Table (upstream has no
	// table converter for them either).
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	post := func(accept, contentType, body string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("Content-Type", contentType)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, data
	}
	ssar := `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}`
	statusOf := func(data []byte) metav1.Status {
		t.Helper()
		var st metav1.Status
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatalf("not a Status: %s", data)
		}
		return st
	}
	table := "application/json;as=Table;v=v1;g=meta.k8s.io"
	if code, _, data := post(table, "application/json", ssar); code != http.StatusNotAcceptable || statusOf(data).Reason != metav1.StatusReasonNotAcceptable {
		t.Errorf("Table only: %d %s, want 406 NotAcceptable", code, data)
	}
	if code, _, data := post(table+", application/json", "application/json", ssar); code != http.StatusCreated || !strings.Contains(string(data), `"allowed":true`) {
		t.Errorf("Table or JSON: %d %s, want the review as JSON", code, data)
	}
	if code, h, data := post("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", "application/json", ssar); code != http.StatusCreated ||
		!strings.Contains(string(data), `"kind":"PartialObjectMetadata"`) || !strings.Contains(h.Get("Content-Type"), "as=PartialObjectMetadata") {
		t.Errorf("PartialObjectMetadata: %d %s %v", code, data, h)
	}
	if code, _, data := post("application/yaml", "application/json", ssar); code != http.StatusCreated || !strings.Contains(string(data), "allowed: true") {
		t.Errorf("YAML: %d %s", code, data)
	}
	for _, bad := range []string{"", "{bad", `{"apiVersion":"v1","kind":"Pod"}`} {
		if code, _, data := post("application/json", "application/json", bad); code != http.StatusBadRequest || statusOf(data).Reason != metav1.StatusReasonBadRequest {
			t.Errorf("body %q: %d %s, want a 400 BadRequest Status", bad, code, data)
		}
	}
	if code, _, data := post("application/json", "text/plain", ssar); code != http.StatusUnsupportedMediaType || statusOf(data).Reason != metav1.StatusReasonUnsupportedMediaType {
		t.Errorf("text/plain body: %d %s, want 415", code, data)
	}
}

// TestStatusSubresource checks that a status write keeps the spec and
// takes status and metadata changes.
func TestStatusSubresource(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	svc, err := s.Client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "lb"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patch := `{"metadata":{"annotations":{"patched":"yes"}},"spec":{"ports":[{"port":81}]},"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.1"}]}}}`
	got, err := s.Client.CoreV1().Services("default").Patch(ctx, "lb", types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations["patched"] != "yes" || len(got.Status.LoadBalancer.Ingress) != 1 || got.Spec.Ports[0].Port != svc.Spec.Ports[0].Port {
		t.Fatalf("after status patch: annotations %v, status %v, ports %v", got.Annotations, got.Status, got.Spec.Ports)
	}
}

// TestHPAVersionsShareStorage checks that autoscaling/v1 and v2 show the
// same HorizontalPodAutoscalers.
func TestHPAVersionsShareStorage(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	pct := int32(60)
	_, err := s.Client.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &pct},
			}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s.Client.AutoscalingV1().HorizontalPodAutoscalers("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 60 {
		t.Fatalf("autoscaling/v1 view: %+v %v", v1, err)
	}
}

func TestRuntimeClassAdmission(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	name := "missing"
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		RuntimeClassName: &name, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
	}}
	if _, err := s.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("pod with a missing RuntimeClass: %v, want Forbidden", err)
	}
	if _, err := s.Client.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Handler: "runc"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("pod with an existing RuntimeClass: %v", err)
	}
}

// TestImpersonation checks that an admin can act as another user, who is
// then authorized as that user: until RBAC, only system:masters may act.
func TestImpersonation(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	cfg := rest.CopyConfig(s.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:default:e2e", Groups: []string{"system:serviceaccounts"}}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("impersonated list: %v, want Forbidden", err)
	}
	review, err := as.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || review.Status.UserInfo.Username != "system:serviceaccount:default:e2e" {
		t.Fatalf("self subject review as the impersonated user: %+v %v", review, err)
	}
	cfg.Impersonate.Groups = []string{"system:masters"}
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("impersonated master: %v", err)
	}
}

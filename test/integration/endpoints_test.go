package integration

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tugcluster/tug/internal/testutil"
)

// epPod creates a pod labeled app=web with the given named container
// port, then gives it an IP and a Ready condition as a kubelet would.
func epPod(t *testing.T, c kubernetes.Interface, name, ip, portName string, ready bool) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Ports: []corev1.ContainerPort{{Name: portName, ContainerPort: 8080}}}}},
	}
	pod, err := c.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	// The server's scheduler may bind the pod meanwhile: retry on conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := c.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		current.Status.Phase = corev1.PodRunning
		current.Status.PodIP = ip
		current.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		current.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
		pod, err = c.CoreV1().Pods("default").UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("update status of pod %s: %v", name, err)
	}
	return pod
}

// TestEndpointsAndSlices checks that a Service with a selector gets
// Endpoints and EndpointSlices that follow its pods.
func TestEndpointsAndSlices(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "metrics", Port: 9000, TargetPort: intstr.FromInt32(9100)},
		}},
	}
	if _, err := c.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	a := epPod(t, c, "web-a", "10.244.0.10", "http", true)
	b := epPod(t, c, "web-b", "10.244.0.11", "http", false)
	other := epPod(t, c, "web-c", "10.244.0.12", "grpc", true) // lacks the named port

	ref := func(p *corev1.Pod) *corev1.ObjectReference {
		return &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: p.Name, UID: p.UID}
	}
	tcp := corev1.ProtocolTCP
	want := []corev1.EndpointSubset{ //nolint:staticcheck // SA1019: testing the served Endpoints API
		{
			Addresses:         []corev1.EndpointAddress{{IP: "10.244.0.10", TargetRef: ref(a)}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.244.0.11", TargetRef: ref(b)}},
			Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: tcp}, {Name: "metrics", Port: 9100, Protocol: tcp}},
		},
		{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.0.12", TargetRef: ref(other)}},
			Ports:     []corev1.EndpointPort{{Name: "metrics", Port: 9100, Protocol: tcp}},
		},
	}
	var diff string
	eventually(t, "endpoints of web", func() (bool, error) {
		ep, err := c.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{}) //nolint:staticcheck // SA1019: testing the served API
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		diff = cmp.Diff(want, ep.Subsets)
		return diff == "" && ep.Annotations["endpoints.kubernetes.io/last-change-trigger-time"] != "", nil
	})

	readiness := func() (map[string]bool, error) {
		slices, err := c.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		for _, sl := range slices.Items {
			if sl.Labels["endpointslice.kubernetes.io/managed-by"] != "endpointslice-controller.k8s.io" ||
				sl.AddressType != discoveryv1.AddressTypeIPv4 || !strings.HasPrefix(sl.Name, "web-") || !metav1.IsControlledBy(&sl, svcOf(ctx, c)) {
				continue
			}
			for _, e := range sl.Endpoints {
				out[e.TargetRef.Name] = *e.Conditions.Ready
			}
		}
		return out, nil
	}
	eventually(t, "endpointslices of web", func() (bool, error) {
		got, err := readiness()
		diff = cmp.Diff(map[string]bool{"web-a": true, "web-b": false, "web-c": true}, got)
		return diff == "", err
	})

	kubectl := testutil.Kubectl(t, "1.33")
	out, err := s.RunKubectl(t, kubectl, "", "get", "endpoints", "web")
	if err != nil || !strings.Contains(out, "10.244.0.10:8080") {
		t.Errorf("kubectl get endpoints web: %v\n%s", err, out)
	}
	out, err = s.RunKubectl(t, kubectl, "", "get", "endpointslices", "-l", "kubernetes.io/service-name=web")
	if err != nil || !strings.Contains(out, "10.244.0.10") || !strings.Contains(out, "IPv4") {
		t.Errorf("kubectl get endpointslices: %v\n%s", err, out)
	}

	if err := c.CoreV1().Pods("default").Delete(ctx, "web-a", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	eventually(t, "web-a removed from endpoints", func() (bool, error) {
		ep, err := c.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{}) //nolint:staticcheck // SA1019: testing the served API
		if err != nil {
			return false, err
		}
		return len(ep.Subsets) > 0 && len(ep.Subsets[0].Addresses) == 0 && len(ep.Subsets[0].NotReadyAddresses) == 1, nil
	})
	eventually(t, "web-a removed from endpointslices", func() (bool, error) {
		got, err := readiness()
		diff = cmp.Diff(map[string]bool{"web-b": false, "web-c": true}, got)
		return diff == "", err
	})

	if err := c.CoreV1().Services("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete service: %v", err)
	}
	eventually(t, "endpoints deleted with the service", func() (bool, error) {
		_, err := c.CoreV1().Endpoints("default").Get(ctx, "web", metav1.GetOptions{}) //nolint:staticcheck // SA1019: testing the served API
		return apierrors.IsNotFound(err), nil
	})
	// The kubernetes Service has no selector: its Endpoints stay the
	// bootstrapper's.
	if _, err := c.CoreV1().Endpoints("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil { //nolint:staticcheck // SA1019: testing the served API
		t.Errorf("kubernetes endpoints: %v", err)
	}
}

func svcOf(ctx context.Context, c kubernetes.Interface) *corev1.Service {
	svc, err := c.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		return &corev1.Service{}
	}
	return svc
}

// TestEndpointsWithoutService: an Endpoints object no Service owns is left
// alone when it changes (upstream's conformance "Endpoints lifecycle"
// patches one), and goes with its Service once there was one.
func TestEndpointsWithoutService(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	eps := c.CoreV1().Endpoints("default")                                   //nolint:staticcheck // SA1019: testing the served Endpoints API
	loner := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "loner"}} //nolint:staticcheck // SA1019: as above
	if _, err := eps.Create(ctx, loner, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := eps.Patch(ctx, "loner", types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"true"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// A Service created afterwards gets its Endpoints: by then the
	// controller has seen the patch.
	if _, err := c.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "later"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "later"}, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "endpoints of later", func() (bool, error) {
		_, err := eps.Get(ctx, "later", metav1.GetOptions{})
		return err == nil, nil
	})
	if got, err := eps.Get(ctx, "loner", metav1.GetOptions{}); err != nil || got.Labels["patched"] != "true" {
		t.Errorf("the Endpoints without a Service: %v, %v; want it kept as patched", got, err)
	}
	if err := c.CoreV1().Services("default").Delete(ctx, "later", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "endpoints of later gone with it", func() (bool, error) {
		_, err := eps.Get(ctx, "later", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// TestEndpointSliceMirroring: the Endpoints a user writes for a Service
// without a selector are mirrored into EndpointSlices that follow them
// through updates and deletion; a Service with a selector is not mirrored.
func TestEndpointSliceMirroring(t *testing.T) {
	s := testutil.StartServer(t)
	c := s.Client
	ctx := context.Background()
	for _, svc := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "external-db"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "sql", Port: 5432}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "selected"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if _, err := c.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eps := c.CoreV1().Endpoints("default")                  //nolint:staticcheck // SA1019: testing the served Endpoints API
	subset := func(ips ...string) []corev1.EndpointSubset { //nolint:staticcheck // SA1019: as above
		var addrs []corev1.EndpointAddress //nolint:staticcheck // SA1019: as above
		for _, ip := range ips {
			addrs = append(addrs, corev1.EndpointAddress{IP: ip}) //nolint:staticcheck // SA1019: as above
		}
		return []corev1.EndpointSubset{{Addresses: addrs, Ports: []corev1.EndpointPort{{Name: "sql", Port: 5432, Protocol: corev1.ProtocolTCP}}}} //nolint:staticcheck // SA1019: as above
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "external-db", Labels: map[string]string{"team": "data"}}, Subsets: subset("192.0.2.10")} //nolint:staticcheck // SA1019: as above
	if _, err := eps.Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mirrored := func(want ...string) func() (bool, error) {
		return func() (bool, error) {
			list, err := c.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
				LabelSelector: "kubernetes.io/service-name=external-db,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io"})
			if err != nil {
				return false, err
			}
			var got []string
			for _, s := range list.Items {
				if s.Labels["team"] != "data" || len(s.Ports) != 1 || *s.Ports[0].Port != 5432 {
					return false, nil
				}
				for _, e := range s.Endpoints {
					got = append(got, e.Addresses...)
				}
			}
			return slices.Equal(got, want), nil
		}
	}
	eventually(t, "the mirrored slice", mirrored("192.0.2.10"))
	ep.Subsets = subset("192.0.2.10", "192.0.2.11")
	if _, err := eps.Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the slice following the update", mirrored("192.0.2.10", "192.0.2.11"))
	if err := eps.Delete(ctx, "external-db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the slice gone with the Endpoints", mirrored())
	// The Endpoints controller's own Endpoints (for a selector) stay
	// unmirrored: the EndpointSlice controller serves that Service.
	epPod(t, c, "web-1", "10.244.0.50", "http", true)
	eventually(t, "endpoints of selected", func() (bool, error) {
		got, err := eps.Get(ctx, "selected", metav1.GetOptions{})
		return err == nil && len(got.Subsets) == 1, nil
	})
	list, err := c.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
		LabelSelector: "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io"})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("mirrored slices left: %d (%v)", len(list.Items), err)
	}
}

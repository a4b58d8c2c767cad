package core

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

func TestStrategies(t *testing.T) {
	m, alloc, err := Strategies(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if alloc.CIDR() != DefaultServiceCIDR {
		t.Errorf("CIDR = %s", alloc.CIDR())
	}
	if len(m) != 14 {
		t.Errorf("%d strategies", len(m))
	}
	if _, ok := m[corev1.SchemeGroupVersion.WithResource("pods")].(registry.GracefulDeleter); !ok {
		t.Error("pods strategy is not a GracefulDeleter")
	}
	if _, _, err := Strategies(Options{ServiceCIDR: netip.MustParsePrefix("10.0.0.0/8")}); err == nil {
		t.Error("a /8 service CIDR was accepted")
	}
}

// fieldsOf returns the field set a strategy gives obj.
func fieldsOf(t *testing.T, s registry.Strategy, obj runtime.Object) fields.Set {
	t.Helper()
	_, fs, err := s.GetAttrs(obj)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestNamespace(t *testing.T) {
	ctx := context.Background()
	s := newNamespaceStrategy()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	s.PrepareForCreate(ctx, ns)
	s.Default(ns)
	want := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"kubernetes.io/metadata.name": "team-a"}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
	if diff := cmp.Diff(want, ns); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	upd := ns.DeepCopy()
	upd.Spec.Finalizers = nil
	s.PrepareForUpdate(ctx, upd, ns)
	if len(upd.Spec.Finalizers) != 1 {
		t.Errorf("update dropped the finalizer: %v", upd.Spec.Finalizers)
	}
	if !s.HoldsDeletion(ns) {
		t.Error("a namespace with the kubernetes finalizer is not held on delete")
	}
	s.MarkDeleting(ns)
	if ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("phase after MarkDeleting = %s", ns.Status.Phase)
	}
	if errs := s.NameValidator()("Team.A", false); len(errs) == 0 {
		t.Error("namespace name Team.A accepted")
	}
	if diff := cmp.Diff(fields.Set{"metadata.name": "team-a", "status.phase": "Terminating"}, fieldsOf(t, s, ns)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestNode(t *testing.T) {
	ctx := context.Background()
	s := newNodeStrategy()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{Capacity: quantities("cpu", "4")}}
	s.PrepareForCreate(ctx, node)
	s.Default(node)
	if diff := cmp.Diff(quantities("cpu", "4"), node.Status.Allocatable); diff != "" {
		t.Errorf("allocatable (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fields.Set{"metadata.name": "n1", "spec.unschedulable": "true"}, fieldsOf(t, s, node)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestSecret(t *testing.T) {
	ctx := context.Background()
	s := secretStrategy{}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"},
		Data: map[string][]byte{"a": []byte("1")}, StringData: map[string]string{"b": "2"}}
	s.Default(sec)
	want := &corev1.Secret{ObjectMeta: sec.ObjectMeta, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}}
	if diff := cmp.Diff(want, sec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("Opaque", fieldsOf(t, s, sec)["type"]); diff != "" {
		t.Errorf("type field (-want +got):\n%s", diff)
	}
	tests := []struct {
		name   string
		mutate func(*corev1.Secret)
		want   []string
	}{
		{"bad key", func(s *corev1.Secret) { s.Data["a/b"] = nil }, []string{"FieldValueInvalid data[a/b]"}},
		{"tls without key", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeTLS
			s.Data = map[string][]byte{"tls.crt": nil}
		}, []string{"FieldValueRequired data[tls.key]"}},
		{"too large", func(s *corev1.Secret) { s.Data["big"] = make([]byte, 1<<20) }, []string{"FieldValueTooLong data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := want.DeepCopy()
			tt.mutate(sec)
			if diff := cmp.Diff(tt.want, summary(s.Validate(ctx, sec))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	retyped := want.DeepCopy()
	retyped.Type = corev1.SecretTypeBasicAuth
	retyped.Data[corev1.BasicAuthUsernameKey] = []byte("u")
	if diff := cmp.Diff([]string{"FieldValueInvalid type"}, summary(s.ValidateUpdate(ctx, retyped, want))); diff != "" {
		t.Errorf("type change (-want +got):\n%s", diff)
	}
}

func TestConfigMap(t *testing.T) {
	ctx := context.Background()
	s := configMapStrategy{}
	cm := func() *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	}
	tests := []struct {
		name   string
		mutate func(*corev1.ConfigMap)
		want   []string
	}{
		{"valid", func(*corev1.ConfigMap) {}, nil},
		{"bad key", func(c *corev1.ConfigMap) { c.Data["no spaces"] = "" }, []string{"FieldValueInvalid data[no spaces]"}},
		{"key in both", func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"k": nil} }, []string{"FieldValueInvalid binaryData[k]"}},
		{"too large", func(c *corev1.ConfigMap) { c.Data["big"] = strings.Repeat("x", 1<<20) }, []string{"FieldValueTooLong data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cm()
			tt.mutate(c)
			if diff := cmp.Diff(tt.want, summary(s.Validate(ctx, c))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	old := cm()
	old.Immutable = ptr.To(true)
	changed := old.DeepCopy()
	changed.Data["k"] = "w"
	if diff := cmp.Diff([]string{"FieldValueForbidden data"}, summary(s.ValidateUpdate(ctx, changed, old))); diff != "" {
		t.Errorf("immutable data (-want +got):\n%s", diff)
	}
	mutable := old.DeepCopy()
	mutable.Immutable = nil
	if diff := cmp.Diff([]string{"FieldValueForbidden immutable"}, summary(s.ValidateUpdate(ctx, mutable, old))); diff != "" {
		t.Errorf("unset immutable (-want +got):\n%s", diff)
	}
	relabeled := old.DeepCopy()
	relabeled.Labels = map[string]string{"a": "b"}
	if errs := s.ValidateUpdate(ctx, relabeled, old); len(errs) > 0 {
		t.Errorf("metadata change of an immutable config map: %v", errs)
	}
}

func TestEventFields(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p", UID: "u1",
			APIVersion: "v1", ResourceVersion: "7", FieldPath: "spec.containers{c}"},
		Reason: "Started", Source: corev1.EventSource{Component: "kubelet"}, Type: "Normal", ReportingController: "kubelet",
	}
	want := fields.Set{
		"metadata.name": "e", "metadata.namespace": "default",
		"involvedObject.kind": "Pod", "involvedObject.namespace": "default", "involvedObject.name": "p",
		"involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "7",
		"involvedObject.fieldPath": "spec.containers{c}", "reason": "Started", "reportingComponent": "kubelet",
		"source": "kubelet", "type": "Normal",
	}
	if diff := cmp.Diff(want, fieldsOf(t, eventStrategy{}, ev)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ev.InvolvedObject.Namespace = "other"
	if diff := cmp.Diff([]string{"FieldValueInvalid involvedObject.namespace"}, summary(eventStrategy{}.Validate(context.Background(), ev))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEndpoints(t *testing.T) {
	ep := &corev1.Endpoints{ //nolint:staticcheck // SA1019: Endpoints is still served
		ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // SA1019: Endpoints is still served
			Addresses: []corev1.EndpointAddress{{IP: "10.42.0.5"}, {IP: "bogus"}}, //nolint:staticcheck // SA1019: Endpoints is still served
			Ports:     []corev1.EndpointPort{{Port: 80}},                          //nolint:staticcheck // SA1019: Endpoints is still served
		}},
	}
	s := endpointsStrategy{}
	s.Default(ep)
	if ep.Subsets[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("protocol = %q", ep.Subsets[0].Ports[0].Protocol)
	}
	if diff := cmp.Diff([]string{"FieldValueInvalid subsets[0].addresses[1].ip"}, summary(s.Validate(context.Background(), ep))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

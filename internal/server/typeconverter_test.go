package server

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"github.com/tugcluster/tug/internal/apiserver/openapi"
	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// TestFieldsTypeConverter: built-in kinds get the generated schema (a
// Service port keyed by port and protocol), kinds it lacks the OpenAPI
// one, and every served kind has one or the other.
func TestFieldsTypeConverter(t *testing.T) {
	docs, err := openapi.New(openAPIKinds(resources.Builtin()))
	if err != nil {
		t.Fatal(err)
	}
	fallback, err := managedfields.NewTypeConverter(docs.Schemas(), false)
	if err != nil {
		t.Fatal(err)
	}
	c := newFieldsTypeConverter(resources.Scheme(), fallback)

	svc := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}}}}
	svc.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Service"))
	tv, err := c.ObjectToTyped(svc)
	if err != nil {
		t.Fatal(err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := set.String(), `.spec.ports[port=53,protocol="UDP"]`; !strings.Contains(got, want) {
		t.Errorf("service fields %s lack %s", got, want)
	}
	if c.converterFor(svc.GroupVersionKind()) == fallback {
		t.Error("a Service took the OpenAPI schema")
	}

	crd := &apiextensionsv1.CustomResourceDefinition{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	if c.converterFor(crd.GroupVersionKind()) != fallback {
		t.Error("a CustomResourceDefinition did not take the OpenAPI schema")
	}
	for _, r := range resources.Builtin() {
		obj := r.New()
		obj.GetObjectKind().SetGroupVersionKind(r.GroupVersionKind())
		if virtualKinds[r.GroupVersionKind().Kind] {
			continue
		}
		if _, err := c.ObjectToTyped(obj); err != nil {
			t.Errorf("%s: %v", r.GVR, err)
		}
	}
}

// virtualKinds are served without storage; no field manager sees them.
var virtualKinds = map[string]bool{
	"Binding": true, "SelfSubjectReview": true, "TokenReview": true, "LocalSubjectAccessReview": true,
	"SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true, "SubjectAccessReview": true,
}

package apiextensions

import (
	"context"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validCRD() *apiextensionsv1.CustomResourceDefinition {
	schema := &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object"}}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "crontabs.stable.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "stable.example.com",
			Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "crontabs", Kind: "CronTab"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
				{Name: "v1", Served: true, Storage: true, Schema: schema},
			},
		},
	}
}

func TestCRDValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*apiextensionsv1.CustomResourceDefinition)
		want   string // a substring of the errors; "" for none
	}{
		{"valid", func(*apiextensionsv1.CustomResourceDefinition) {}, ""},
		{"name not plural.group", func(c *apiextensionsv1.CustomResourceDefinition) { c.Name = "other.stable.example.com" },
			`metadata.name: Invalid value: "other.stable.example.com": must be spec.names.plural+"."+spec.group`},
		{"group without a dot", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Group, c.Name = "example", "crontabs.example"
		}, "spec.group: Invalid value: \"example\": should be a domain with at least one dot"},
		{"no storage version", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Storage = false },
			"must have exactly one version marked as storage version"},
		{"two storage versions", func(c *apiextensionsv1.CustomResourceDefinition) {
			v2 := c.Spec.Versions[0]
			v2.Name = "v2"
			c.Spec.Versions = append(c.Spec.Versions, v2)
		}, "must have exactly one version marked as storage version"},
		{"no served version", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Served = false },
			"must have at least one version marked as served"},
		{"missing schema", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema = nil },
			"spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"},
		{"bad scope", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Scope = "Galaxy" },
			`spec.scope: Unsupported value: "Galaxy"`},
		{"upper-case plural", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Names.Plural, c.Name = "CronTabs", "CronTabs.stable.example.com"
		}, "spec.names.plural: Invalid value"},
		{"no kind", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.Kind = "" },
			"spec.names.kind: Required value"},
		{"duplicate versions", func(c *apiextensionsv1.CustomResourceDefinition) {
			v := c.Spec.Versions[0]
			v.Storage = false
			c.Spec.Versions = append(c.Spec.Versions, v)
		}, "must contain unique version names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crd := validCRD()
			tc.change(crd)
			s := Strategies(nil)
			var strategy crdStrategy
			for _, v := range s {
				strategy = v.(crdStrategy)
			}
			strategy.Default(crd)
			errs := strategy.Validate(context.Background(), crd).ToAggregate()
			switch {
			case tc.want == "" && errs != nil:
				t.Fatalf("unexpected errors: %v", errs)
			case tc.want != "" && (errs == nil || !strings.Contains(errs.Error(), tc.want)):
				t.Fatalf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}

func TestCRDSchemaErrorsUnderSharedPath(t *testing.T) {
	var got []string
	strategy := crdStrategy{validateSchema: func(_ *apiextensionsv1.JSONSchemaProps, p *field.Path) field.ErrorList {
		got = append(got, p.String())
		return nil
	}}
	crd := validCRD()
	v2 := crd.Spec.Versions[0]
	v2.Name, v2.Storage = "v2", false
	crd.Spec.Versions = append(crd.Spec.Versions, v2)
	strategy.Validate(context.Background(), crd)
	if len(got) != 1 || got[0] != "spec.validation.openAPIV3Schema" {
		t.Fatalf("same schema in every version checked at %v, want once at spec.validation.openAPIV3Schema", got)
	}
	got = nil
	crd.Spec.Versions[1].Schema = &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Description: "v2"}}
	strategy.Validate(context.Background(), crd)
	if strings.Join(got, " ") != "spec.versions[0].schema.openAPIV3Schema spec.versions[1].schema.openAPIV3Schema" {
		t.Fatalf("different schemas checked at %v, want each version's path", got)
	}
}

func TestCRDDefaultsAndDeletion(t *testing.T) {
	crd := validCRD()
	var strategy crdStrategy
	strategy.Default(crd)
	if crd.Spec.Names.Singular != "crontab" || crd.Spec.Names.ListKind != "CronTabList" ||
		crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy != apiextensionsv1.NoneConverter {
		t.Fatalf("defaults: names %+v conversion %+v", crd.Spec.Names, crd.Spec.Conversion)
	}
	if !strategy.HoldsDeletion(crd) {
		t.Fatal("a first delete must hold the CRD for its cleanup")
	}
	strategy.MarkDeleting(crd)
	strategy.MarkDeleting(crd)
	if len(crd.Finalizers) != 1 || crd.Finalizers[0] != CleanupFinalizer {
		t.Fatalf("finalizers %v, want only %s", crd.Finalizers, CleanupFinalizer)
	}
	now := metav1.Now()
	crd.DeletionTimestamp = &now
	if strategy.HoldsDeletion(crd) {
		t.Fatal("a CRD being deleted is held by its finalizer, not again")
	}
}

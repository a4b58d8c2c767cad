package openapi

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// CustomKind is one served version of a custom resource (a CRD version).
type CustomKind struct {
	// GVK is the kind of the objects; the group is required.
	GVK schema.GroupVersionKind
	// ListKind is the kind of lists of the objects, e.g. CronTabList.
	ListKind string
	// Resource is the plural resource name in URL paths, e.g. crontabs.
	Resource string
	// Namespaced puts the resource under /namespaces/{namespace}.
	Namespaced bool
	// Verbs are as for Kind. Watch adds no paths: custom resources are
	// watched with the watch parameter of list only, as upstream
	// publishes them.
	Verbs []string
	// Subresources are "status" (empty GVK and Type: the parent kind)
	// and "scale" (GVK autoscaling/v1 Scale, Type
	// reflect.TypeFor[autoscalingv1.Scale]()). Optional.
	Subresources []Subresource
	// Schema is the version's openAPIV3Schema, structural as the
	// CustomResourceDefinition validation requires; nil publishes an
	// object that accepts any fields (x-kubernetes-preserve-unknown-fields).
	Schema *apiextensionsv1.JSONSchemaProps
}

// The meta types custom kinds refer to.
var (
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
	listMetaType   = reflect.TypeFor[metav1.ListMeta]()
)

// anyObject is the schema of a custom kind without one.
var anyObject = apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: new(true)}

// WithCustom returns documents that publish o's kinds and custom's. o is
// not changed; o and the result may be served at the same time.
//
// It is meant to be called whenever the set of served custom resources
// changes, so it is cheap: the result shares o's definitions, reflects
// over no built-in type again, keeps o's v3 documents (and their
// encodings) of the group-versions custom does not touch, and builds the
// others on first request as New does.
func (o *OpenAPI) WithCustom(custom []CustomKind) (*OpenAPI, error) {
	b := o.b.extend()
	resources := maps.Clone(o.resources)
	meta := metaDefs{object: b.define(objectMetaType), list: b.define(listMetaType)}
	changed := map[string]bool{}
	var routes []route
	for i := range custom {
		c := &custom[i]
		if err := validateCustom(c); err != nil {
			return nil, err
		}
		gv := c.GVK.GroupVersion()
		gvr := gv.WithResource(c.Resource)
		if resources[gvr] {
			return nil, fmt.Errorf("resource %v is published twice", gvr)
		}
		resources[gvr] = true
		typeDef := customDefinitionName(c.GVK)
		listDef := customDefinitionName(gv.WithKind(c.ListKind))
		for _, name := range []string{typeDef, listDef} {
			if _, ok := b.byName[name]; ok {
				return nil, fmt.Errorf("kind %v: definition %s is published twice", c.GVK, name)
			}
		}
		b.byName[typeDef] = b.customDefinition(c, typeDef, meta)
		b.byName[listDef] = b.customListDefinition(c, listDef, typeDef, meta)

		var subs []Subresource
		var subDefs []string
		for _, sub := range c.Subresources {
			def := typeDef
			if sub.Type != nil {
				def = b.define(sub.Type)
			}
			// A definition o has keeps its kinds: it is shared.
			if _, shared := o.b.byName[def]; !shared && !sub.GVK.Empty() {
				b.byName[def].gvks = append(b.byName[def].gvks, sub.GVK)
			}
			subs, subDefs = append(subs, sub), append(subDefs, def)
		}
		k := &Kind{
			GVK:        c.GVK,
			Resource:   c.Resource,
			Namespaced: c.Namespaced,
			Verbs:      slices.DeleteFunc(slices.Clone(c.Verbs), func(v string) bool { return v == "watch" }),
		}
		routes = append(routes, withCustomMedia(routesOf(k, subs, typeDef, listDef, subDefs))...)
		changed[gvPath(gv)] = true
	}
	// The new definitions need their kinds published, and those of types
	// reached by reflection for the first time (Scale, or the meta types
	// when o has no kinds) their v3 forms.
	for name, d := range b.byName {
		if _, shared := o.b.byName[name]; shared {
			continue
		}
		setGVK(d)
		if d.v3 == nil {
			s := b.convertV3(d.v2)
			d.v3 = &s
		}
	}
	if b.err != nil {
		return nil, b.err
	}

	reuse := make(map[string]*document, len(o.v3))
	for key, d := range o.v3 {
		if !changed[key] {
			reuse[key] = d
		}
	}
	return publish(b, slices.Concat(o.routes, routes), resources, reuse), nil
}

// validateCustom checks that c can be published.
func validateCustom(c *CustomKind) error {
	switch {
	case c.GVK.Group == "" || c.GVK.Version == "" || c.GVK.Kind == "" || c.ListKind == "":
		return fmt.Errorf("custom kind %v: group, version, kind and list kind are required", c.GVK)
	case c.ListKind == c.GVK.Kind:
		return fmt.Errorf("custom kind %v: the list kind must differ from the kind", c.GVK)
	case c.Resource == "" || strings.Contains(c.Resource, "/"):
		return fmt.Errorf("custom kind %v: invalid resource name %q", c.GVK, c.Resource)
	}
	return validateSubresources("custom kind", c.GVK, c.Subresources)
}

// customDefinitionName is the definition name of a custom kind, as
// upstream names it: the group's labels reversed, then version and kind
// (stable.example.com/v1 CronTab → com.example.stable.v1.CronTab).
func customDefinitionName(gvk schema.GroupVersionKind) string {
	labels := strings.Split(gvk.Group, ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "." + gvk.Version + "." + gvk.Kind
}

// extend returns a builder that starts with b's definitions and adds to
// its own maps only, so that b can go on serving. The definitions are
// shared and must not be changed.
func (b *builder) extend() *builder {
	return &builder{
		byType: maps.Clone(b.byType),
		byName: maps.Clone(b.byName),
		refs:   map[string]spec.Ref{},
	}
}

// metaDefs are the definition names of ObjectMeta and ListMeta.
type metaDefs struct{ object, list string }

// customDefinition is the definition of custom kind c: its schema with
// apiVersion, kind and metadata added, in both forms.
func (b *builder) customDefinition(c *CustomKind, name string, meta metaDefs) *definition {
	props := c.Schema
	if props == nil {
		props = &anyObject
	}
	raw := crdSchema(props, true)
	v3 := b.withEmbedded(raw, meta.object, false)
	b.addTypeMeta(&v3, meta.object, objectMetaDoc, false)

	var v2 spec.Schema
	if props.XPreserveUnknownFields != nil && *props.XPreserveUnknownFields {
		// Swagger 2.0 clients (kubectl's validation) check fields against
		// the properties they know; an object that keeps unknown fields
		// is published as a bare object, as upstream does.
		v2.Type = spec.StringOrArray{"object"}
	} else {
		v2 = b.withEmbedded(swagger2Schema(raw), meta.object, true)
		b.addTypeMeta(&v2, meta.object, objectMetaDoc, true)
	}
	return &definition{name: name, v2: v2, v3: &v3, deps: []string{meta.object}, gvks: []schema.GroupVersionKind{c.GVK}}
}

// customListDefinition is the definition of lists of custom kind c,
// whose items are of definition item.
func (b *builder) customListDefinition(c *CustomKind, name, item string, meta metaDefs) *definition {
	d := &definition{name: name, deps: []string{item, meta.list}, gvks: []schema.GroupVersionKind{c.GVK.GroupVersion().WithKind(c.ListKind)}}
	for _, v2 := range []bool{true, false} {
		var s spec.Schema
		s.Type = spec.StringOrArray{"object"}
		s.Description = c.ListKind + " is a list of " + c.GVK.Kind + " objects."
		s.Required = []string{"items"}
		items := b.refSchema(item, v2)
		s.SetProperty("items", spec.Schema{SchemaProps: spec.SchemaProps{
			Type:        spec.StringOrArray{"array"},
			Description: "The " + c.Resource + ".",
			Items:       &spec.SchemaOrArray{Schema: &items},
		}})
		b.addTypeMeta(&s, meta.list, listMetaDoc, v2)
		if v2 {
			d.v2 = s
		} else {
			d.v3 = &s
		}
	}
	return d
}

// Descriptions of the properties every custom kind has, from the
// apimachinery types that define them.
var (
	typeMetaDocs  = metav1.TypeMeta{}.SwaggerDoc()
	objectMetaDoc = metav1.PartialObjectMetadata{}.SwaggerDoc()["metadata"]
	listMetaDoc   = metav1.PartialObjectMetadataList{}.SwaggerDoc()["metadata"]
)

// addTypeMeta sets the apiVersion, kind and metadata properties of s;
// metadata is of definition meta.
func (b *builder) addTypeMeta(s *spec.Schema, meta, metaDoc string, v2 bool) {
	s.Properties = maps.Clone(s.Properties)
	for _, name := range []string{"apiVersion", "kind"} {
		s.SetProperty(name, spec.Schema{SchemaProps: spec.SchemaProps{
			Type: spec.StringOrArray{"string"}, Description: typeMetaDocs[name],
		}})
	}
	ref := b.refSchema(meta, v2)
	var m spec.Schema
	if v2 {
		m = ref
	} else {
		// OpenAPI 3.0 ignores the siblings of $ref.
		m.AllOf = []spec.Schema{ref}
	}
	m.Description = metaDoc
	s.SetProperty("metadata", m)
}

// refSchema is a reference to definition name in the v2 or v3 form.
func (b *builder) refSchema(name string, v2 bool) spec.Schema {
	prefix := v3RefPrefix
	if v2 {
		prefix = v2RefPrefix
	}
	return spec.Schema{SchemaProps: spec.SchemaProps{Ref: b.ref(prefix + name)}}
}

// Media types of custom resources: JSON and YAML only, and no strategic
// merge patch (kubectl reads the patch types to choose the one it sends).
var (
	customObjectMedia = []string{"application/json", "application/yaml"}
	customListMedia   = []string{"application/json", "application/yaml", "application/json;stream=watch"}
	customPatchMedia  = []string{"application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"}
)

// withCustomMedia gives routes the media types of custom resources.
func withCustomMedia(routes []route) []route {
	for i := range routes {
		for j := range routes[i].ops {
			op := &routes[i].ops[j]
			op.consumes = customMediaFor(op.consumes)
			op.produces = customMediaFor(op.produces)
		}
	}
	return routes
}

func customMediaFor(media []string) []string {
	switch {
	case slices.Equal(media, objectMedia):
		return customObjectMedia
	case slices.Equal(media, listMedia):
		return customListMedia
	case slices.Equal(media, patchMedia):
		return customPatchMedia
	}
	return media
}

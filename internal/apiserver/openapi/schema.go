package openapi

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// The Kubernetes extensions this package publishes.
const (
	extGVK           = "x-kubernetes-group-version-kind"
	extPatchStrategy = "x-kubernetes-patch-strategy"
	extPatchMergeKey = "x-kubernetes-patch-merge-key"
	extListType      = "x-kubernetes-list-type"
	extListMapKeys   = "x-kubernetes-list-map-keys"
	extIntOrString   = "x-kubernetes-int-or-string"
)

// Reference prefixes of the two document formats.
const (
	v2RefPrefix = "#/definitions/"
	v3RefPrefix = "#/components/schemas/"
)

// schemaTyper is implemented by the API types that serialize as a JSON
// scalar (Quantity, IntOrString, Time…): they name their OpenAPI type and
// format themselves.
type schemaTyper interface {
	OpenAPISchemaType() []string
	OpenAPISchemaFormat() string
}

// oneOfTyper is implemented by the scalar types that accept several JSON
// types; OpenAPI v3 publishes them as oneOf.
type oneOfTyper interface {
	OpenAPIV3OneOfTypes() []string
}

// swaggerDocer is implemented by the k8s.io/api types: the generated
// method maps "" to the type's description and each json field name to
// the field's.
type swaggerDocer interface {
	SwaggerDoc() map[string]string
}

// definition is one named schema.
type definition struct {
	name string
	t    reflect.Type
	// v2 is the Swagger 2.0 schema; v3 the OpenAPI 3.0 one, made from v2
	// by convertV3 unless the type is a leaf that differs (oneOf).
	v2 spec.Schema
	v3 *spec.Schema
	// deps are the definitions v2 refers to, possibly repeated.
	deps []string
	gvks []schema.GroupVersionKind
}

// builder derives definitions from Go types by reflection.
type builder struct {
	byType map[reflect.Type]*definition
	byName map[string]*definition
	refs   map[string]spec.Ref
	err    error
}

func newBuilder() *builder {
	return &builder{
		byType: map[reflect.Type]*definition{},
		byName: map[string]*definition{},
		refs:   map[string]spec.Ref{},
	}
}

// fail records the first error; building carries on so that callers need
// not check after every step.
func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// ref returns the reference to uri, parsed once.
func (b *builder) ref(uri string) spec.Ref {
	if r, ok := b.refs[uri]; ok {
		return r
	}
	r, err := spec.NewRef(uri)
	if err != nil {
		b.fail(fmt.Errorf("reference %q: %w", uri, err))
	}
	b.refs[uri] = r
	return r
}

// define adds the definition of the named type t, and of every type it
// reaches, and returns its name.
func (b *builder) define(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if d, ok := b.byType[t]; ok {
		return d.name
	}
	name := definitionName(t)
	if other, ok := b.byName[name]; ok {
		b.fail(fmt.Errorf("types %v and %v have the same OpenAPI name %s", other.t, t, name))
		return name
	}
	d := &definition{name: name, t: t}
	// Registered before its fields are visited, so that recursive types
	// (JSONSchemaProps) refer to themselves.
	b.byType[t] = d
	b.byName[name] = d
	if typer, ok := as[schemaTyper](t); ok {
		d.v2, d.v3 = leafSchemas(t, typer)
	} else if t.Kind() == reflect.Struct {
		d.v2.Type = spec.StringOrArray{"object"}
		b.addFields(t, &d.v2, d)
	} else {
		d.v2 = b.fieldSchema(t, d)
	}
	if d.v2.Description == "" {
		d.v2.Description = swaggerDoc(t)[""]
	}
	if d.v2.Description == "" {
		d.v2.Description = typeDescriptions[name]
	}
	if d.v3 != nil {
		d.v3.Description = d.v2.Description
	}
	return name
}

// swaggerDoc returns the descriptions t's own SwaggerDoc method gives,
// nil if it has none. A method promoted from an embedded field describes
// that field's type, so it is ignored: the generated methods return the
// same map on every call, which tells the two apart.
func swaggerDoc(t reflect.Type) map[string]string {
	doc, ok := as[swaggerDocer](t)
	if !ok {
		return nil
	}
	docs := doc.SwaggerDoc()
	for _, e := range embedded(t) {
		if ed, ok := as[swaggerDocer](e); ok && sameMap(ed.SwaggerDoc(), docs) {
			return nil
		}
	}
	return docs
}

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// leafSchemas describes a type that serializes as a scalar.
func leafSchemas(t reflect.Type, typer schemaTyper) (spec.Schema, *spec.Schema) {
	var v2 spec.Schema
	v2.Type = typer.OpenAPISchemaType()
	v2.Format = typer.OpenAPISchemaFormat()
	if v2.Format == "int-or-string" {
		v2.AddExtension(extIntOrString, true)
	}
	oneOf, ok := as[oneOfTyper](t)
	if !ok {
		return v2, nil
	}
	v3 := v2
	v3.Type = nil
	for _, typ := range oneOf.OpenAPIV3OneOfTypes() {
		v3.OneOf = append(v3.OneOf, spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{typ}}})
	}
	return v2, &v3
}

// addFields adds the serialized fields of struct t to s, following
// encoding/json: embedded structs without a json name are inlined.
func (b *builder) addFields(t reflect.Type, s *spec.Schema, d *definition) {
	docs := swaggerDoc(t)
	if docs == nil && t.Name() != "" {
		docs = fieldDescriptions[definitionName(t)]
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := deref(f.Type); et.Kind() == reflect.Struct {
				b.addFields(et, s, d)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := b.fieldSchema(f.Type, d)
		p.Description = docs[name]
		patchExtensions(&p, f)
		if s.Properties == nil {
			s.Properties = map[string]spec.Schema{}
		}
		s.Properties[name] = p
		if !hasOption(opts, "omitempty") && !hasOption(opts, "omitzero") {
			s.Required = append(s.Required, name)
		}
	}
}

// fieldSchema describes a value of type t: a reference for named structs
// and leaf types, an inline schema for everything else.
func (b *builder) fieldSchema(t reflect.Type, d *definition) spec.Schema {
	t = deref(t)
	if t.PkgPath() != "" && t.Name() != "" {
		if _, ok := as[schemaTyper](t); ok || t.Kind() == reflect.Struct {
			name := b.define(t)
			d.deps = append(d.deps, name)
			return spec.Schema{SchemaProps: spec.SchemaProps{Ref: b.ref(v2RefPrefix + name)}}
		}
	}
	var s spec.Schema
	switch t.Kind() {
	case reflect.Bool:
		s.Type = spec.StringOrArray{"boolean"}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Int:
		s.Type, s.Format = spec.StringOrArray{"integer"}, "int32"
	case reflect.Int64, reflect.Uint32, reflect.Uint64, reflect.Uint:
		s.Type, s.Format = spec.StringOrArray{"integer"}, "int64"
	case reflect.Float32:
		s.Type, s.Format = spec.StringOrArray{"number"}, "float"
	case reflect.Float64:
		s.Type, s.Format = spec.StringOrArray{"number"}, "double"
	case reflect.String:
		s.Type = spec.StringOrArray{"string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			// encoding/json writes []byte as base64.
			s.Type, s.Format = spec.StringOrArray{"string"}, "byte"
			break
		}
		item := b.fieldSchema(t.Elem(), d)
		s.Type = spec.StringOrArray{"array"}
		s.Items = &spec.SchemaOrArray{Schema: &item}
	case reflect.Map:
		value := b.fieldSchema(t.Elem(), d)
		s.Type = spec.StringOrArray{"object"}
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &value}
	case reflect.Struct:
		// An unnamed struct: described inline.
		s.Type = spec.StringOrArray{"object"}
		b.addFields(t, &s, d)
	case reflect.Interface:
		// Any JSON value: an empty schema.
	default:
		b.fail(fmt.Errorf("%s: cannot describe Go type %v", d.name, t))
	}
	return s
}

// patchExtensions publishes the strategic merge patch tags of field f on
// its schema p, and the list type they imply (see the package comment).
func patchExtensions(p *spec.Schema, f reflect.StructField) {
	strategy, key := f.Tag.Get("patchStrategy"), f.Tag.Get("patchMergeKey")
	if strategy != "" {
		p.AddExtension(extPatchStrategy, strategy)
	}
	if key != "" {
		p.AddExtension(extPatchMergeKey, key)
	}
	t := deref(f.Type)
	if t.Kind() != reflect.Slice || !hasOption(strategy, "merge") {
		return
	}
	switch elem := deref(t.Elem()); {
	case key != "" && elem.Kind() == reflect.Struct:
		p.AddExtension(extListType, "map")
		p.AddExtension(extListMapKeys, []any{key})
	case key == "" && isScalar(elem):
		p.AddExtension(extListType, "set")
	}
}

// setGVKs publishes on each definition the kinds it was registered as.
func (b *builder) setGVKs() {
	for _, d := range b.byName {
		setGVK(d)
	}
}

// setGVK publishes on d the kinds it was registered as.
func setGVK(d *definition) {
	if len(d.gvks) == 0 {
		return
	}
	slices.SortFunc(d.gvks, func(x, y schema.GroupVersionKind) int {
		return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.Version, y.Version), cmp.Compare(x.Kind, y.Kind))
	})
	d.gvks = slices.Compact(d.gvks)
	list := make([]any, len(d.gvks))
	for i, gvk := range d.gvks {
		list[i] = map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
	}
	d.v2.AddExtension(extGVK, list)
	if d.v3 != nil {
		d.v3.AddExtension(extGVK, list)
	}
}

// convertV3 returns the OpenAPI 3.0 form of a Swagger 2.0 schema made by
// the builder: references point into components/schemas, and a
// reference with a description or extensions becomes an allOf of the
// reference, since OpenAPI 3.0 ignores the siblings of $ref.
func (b *builder) convertV3(s spec.Schema) spec.Schema {
	if uri := s.Ref.String(); uri != "" {
		ref := spec.Schema{SchemaProps: spec.SchemaProps{Ref: b.ref(v3RefPrefix + strings.TrimPrefix(uri, v2RefPrefix))}}
		if s.Description == "" && len(s.Extensions) == 0 {
			return ref
		}
		var out spec.Schema
		out.AllOf = []spec.Schema{ref}
		out.Description = s.Description
		out.Extensions = s.Extensions
		return out
	}
	out := s
	if s.Items != nil && s.Items.Schema != nil {
		item := b.convertV3(*s.Items.Schema)
		out.Items = &spec.SchemaOrArray{Schema: &item}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		value := b.convertV3(*s.AdditionalProperties.Schema)
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &value}
	}
	if s.Properties != nil {
		out.Properties = make(map[string]spec.Schema, len(s.Properties))
		for name, p := range s.Properties {
			out.Properties[name] = b.convertV3(p)
		}
	}
	return out
}

// v3Schemas fills in the OpenAPI 3.0 schema of every definition.
func (b *builder) v3Schemas() {
	for _, d := range b.byName {
		if d.v3 == nil {
			s := b.convertV3(d.v2)
			d.v3 = &s
		}
	}
}

// closure returns the names of the definitions roots reach, roots
// included.
func (b *builder) closure(roots []string) []string {
	seen := map[string]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[name] {
			continue
		}
		seen[name] = true
		if d, ok := b.byName[name]; ok {
			stack = append(stack, d.deps...)
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// as returns t's zero value as a T when t or *t implements T.
func as[T any](t reflect.Type) (T, bool) {
	it := reflect.TypeFor[T]()
	switch {
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface:
	case t.Implements(it):
		return reflect.Zero(t).Interface().(T), true
	case reflect.PointerTo(t).Implements(it):
		return reflect.New(t).Interface().(T), true
	}
	var zero T
	return zero, false
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// hasOption reports whether the comma-separated list opts holds opt.
func hasOption(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

package openapi

import (
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const (
	docTitle     = "Kubernetes"
	bearerScheme = "BearerToken"
)

// swagger returns the Swagger 2.0 document of routes and every definition.
func (b *builder) swagger(routes []route, version string) *spec.Swagger {
	sw := &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: docTitle, Version: version}},
		Paths:       &spec.Paths{Paths: make(map[string]spec.PathItem, len(routes))},
		Definitions: make(spec.Definitions, len(b.byName)),
		Parameters:  make(map[string]spec.Parameter, len(params)),
		SecurityDefinitions: spec.SecurityDefinitions{bearerScheme: &spec.SecurityScheme{
			SecuritySchemeProps: spec.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header",
				Description: "A bearer token in the Authorization header.",
			},
		}},
		Security: []map[string][]string{{bearerScheme: {}}},
	}}
	for name, d := range b.byName {
		sw.Definitions[name] = d.v2
	}
	for name, p := range params {
		sw.Parameters[name] = v2Param(p)
	}
	for _, r := range routes {
		sw.Paths.Paths[r.path] = b.v2PathItem(&r)
	}
	return sw
}

func v2Param(p param) spec.Parameter {
	return spec.Parameter{
		SimpleSchema: spec.SimpleSchema{Type: p.typ},
		ParamProps:   spec.ParamProps{Name: p.name, In: p.in, Description: p.desc, Required: p.in == "path"},
	}
}

// v2ParamRef refers to one of the document's shared parameters.
func (b *builder) v2ParamRef(name string) spec.Parameter {
	return spec.Parameter{Refable: spec.Refable{Ref: b.ref("#/parameters/" + name)}}
}

func (b *builder) v2PathItem(r *route) spec.PathItem {
	var item spec.PathItem
	if r.kind != "" {
		item.Parameters = append(item.Parameters, v2Param(nameParam(r.kind)))
	}
	if r.namespaced {
		item.Parameters = append(item.Parameters, b.v2ParamRef("namespace"))
	}
	item.Parameters = append(item.Parameters, b.v2ParamRef("pretty"))
	for _, op := range r.ops {
		o := &spec.Operation{OperationProps: spec.OperationProps{
			ID:          op.id,
			Description: op.desc,
			Tags:        []string{tag(r.gv)},
			Schemes:     []string{"https"},
			Consumes:    op.consumes,
			Produces:    op.produces,
			Deprecated:  op.deprecated,
		}}
		if op.body != "" {
			o.Parameters = append(o.Parameters, spec.Parameter{ParamProps: spec.ParamProps{
				Name: "body", In: "body", Required: op.bodyNeeded, Schema: b.v2RefSchema(op.body),
			}})
		}
		for _, q := range op.query {
			o.Parameters = append(o.Parameters, b.v2ParamRef(q))
		}
		o.Responses = &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: map[int]spec.Response{
			401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		}}}
		for _, resp := range op.responses {
			o.Responses.StatusCodeResponses[resp.code] = spec.Response{ResponseProps: spec.ResponseProps{
				Description: statusText(resp.code), Schema: b.v2RefSchema(resp.def),
			}}
		}
		o.AddExtension("x-kubernetes-action", op.action)
		o.AddExtension(extGVK, gvkMap(op))
		switch op.method {
		case "get":
			item.Get = o
		case "put":
			item.Put = o
		case "post":
			item.Post = o
		case "patch":
			item.Patch = o
		case "delete":
			item.Delete = o
		}
	}
	return item
}

func (b *builder) v2RefSchema(name string) *spec.Schema {
	return &spec.Schema{SchemaProps: spec.SchemaProps{Ref: b.ref(v2RefPrefix + name)}}
}

// nameParam is the {name} path parameter of an object of kind.
func nameParam(kind string) param {
	return param{name: "name", in: "path", typ: "string", desc: "Name of the " + kind + "."}
}

func gvkMap(op operation) map[string]any {
	return map[string]any{"group": op.gvk.Group, "version": op.gvk.Version, "kind": op.gvk.Kind}
}

// statusText is the description of a response, as the API conventions
// word it.
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	}
	return ""
}

package openapi

import (
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// openAPIV3 returns the OpenAPI 3.0 document of one group-version's
// routes, with the definitions they reach.
func (b *builder) openAPIV3(routes []route, version string) *spec3.OpenAPI {
	doc := &spec3.OpenAPI{
		Version: "3.0.0",
		Info:    &spec.Info{InfoProps: spec.InfoProps{Title: docTitle, Version: version}},
		Paths:   &spec3.Paths{Paths: make(map[string]*spec3.Path, len(routes))},
		Components: &spec3.Components{
			SecuritySchemes: spec3.SecuritySchemes{bearerScheme: &spec3.SecurityScheme{
				SecuritySchemeProps: spec3.SecuritySchemeProps{
					Type: "apiKey", Name: "authorization", In: "header",
					Description: "A bearer token in the Authorization header.",
				},
			}},
		},
		SecurityRequirement: []map[string][]string{{bearerScheme: {}}},
	}
	var roots []string
	for _, r := range routes {
		doc.Paths.Paths[r.path] = b.v3Path(&r)
		for _, op := range r.ops {
			if op.body != "" {
				roots = append(roots, op.body)
			}
			for _, resp := range op.responses {
				roots = append(roots, resp.def)
			}
		}
	}
	names := b.closure(roots)
	doc.Components.Schemas = make(map[string]*spec.Schema, len(names))
	for _, name := range names {
		doc.Components.Schemas[name] = b.byName[name].v3
	}
	return doc
}

func v3Param(p param) *spec3.Parameter {
	return &spec3.Parameter{ParameterProps: spec3.ParameterProps{
		Name: p.name, In: p.in, Description: p.desc, Required: p.in == "path",
		Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{p.typ}}},
	}}
}

// v3Params are the shared parameters, made once: OpenAPI 3.0 documents
// repeat them in every operation (kubectl looks for fieldValidation
// there).
var v3Params = func() map[string]*spec3.Parameter {
	m := make(map[string]*spec3.Parameter, len(params))
	for name, p := range params {
		m[name] = v3Param(p)
	}
	return m
}()

func (b *builder) v3Path(r *route) *spec3.Path {
	path := &spec3.Path{}
	if r.kind != "" {
		path.Parameters = append(path.Parameters, v3Param(nameParam(r.kind)))
	}
	if r.namespaced {
		path.Parameters = append(path.Parameters, v3Params["namespace"])
	}
	path.Parameters = append(path.Parameters, v3Params["pretty"])
	for _, op := range r.ops {
		o := &spec3.Operation{OperationProps: spec3.OperationProps{
			OperationId: op.id,
			Description: op.desc,
			Tags:        []string{tag(r.gv)},
			Deprecated:  op.deprecated,
		}}
		for _, q := range op.query {
			o.Parameters = append(o.Parameters, v3Params[q])
		}
		if op.body != "" {
			o.RequestBody = &spec3.RequestBody{RequestBodyProps: spec3.RequestBodyProps{
				Content: b.v3Content(op.consumes, op.body), Required: op.bodyNeeded,
			}}
		}
		o.Responses = &spec3.Responses{ResponsesProps: spec3.ResponsesProps{StatusCodeResponses: map[int]*spec3.Response{
			401: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
		}}}
		for _, resp := range op.responses {
			o.Responses.StatusCodeResponses[resp.code] = &spec3.Response{ResponseProps: spec3.ResponseProps{
				Description: statusText(resp.code), Content: b.v3Content(op.produces, resp.def),
			}}
		}
		o.AddExtension("x-kubernetes-action", op.action)
		o.AddExtension(extGVK, gvkMap(op))
		switch op.method {
		case "get":
			path.Get = o
		case "put":
			path.Put = o
		case "post":
			path.Post = o
		case "patch":
			path.Patch = o
		case "delete":
			path.Delete = o
		}
	}
	return path
}

// v3Content is a body of definition def in each of the media types.
func (b *builder) v3Content(media []string, def string) map[string]*spec3.MediaType {
	mt := &spec3.MediaType{MediaTypeProps: spec3.MediaTypeProps{
		Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Ref: b.ref(v3RefPrefix + def)}},
	}}
	content := make(map[string]*spec3.MediaType, len(media))
	for _, m := range media {
		content[m] = mt
	}
	return content
}

// Package openapi serves the OpenAPI documents of the API, built-in and
// custom resources alike: the Swagger 2.0 document at /openapi/v2 (JSON,
// or protobuf for kubectl) and the OpenAPI 3.0 discovery index and per
// group-version documents under /openapi/v3, as kubectl explain, kubectl
// apply and client-side field validation read them.
//
// The built-in schemas are derived by reflection over the Go types of
// k8s.io/api, not generated ahead of time: json tags give property names,
// and a field without omitempty is required; Go kinds give OpenAPI types;
// types that implement OpenAPISchemaType (Quantity, IntOrString, Time,
// MicroTime, Duration, apiextensions JSON) become leaf definitions of that
// type and format; each type's generated SwaggerDoc method gives the type
// and field descriptions; OpenAPIModelName, where generated, gives the
// definition name (else it is the reversed package path,
// io.k8s.api.core.v1.Pod).
//
// What reflection cannot see is approximated, and differs from the
// documents kube-apiserver serves:
//   - Required fields: upstream also honors the +optional marker, which
//     is not visible at run time; a field without omitempty is required
//     here even if its comment marks it optional.
//   - List types: the +listType and +listMapKey markers are not visible
//     either. A list with patchStrategy "merge" and a patchMergeKey is
//     published as x-kubernetes-list-type map keyed by that one key (upstream
//     sometimes has more keys, e.g. containerPort and protocol for ports); a
//     list of scalars with patchStrategy "merge" is a set; every other list
//     has no list type, which means atomic.
//   - Enums (+enum), defaults (+default), validation markers (minimum,
//     pattern…), x-kubernetes-map-type and unions are not published.
//   - Types without a SwaggerDoc method (those of apiextensions.k8s.io and
//     apiregistration.k8s.io, WatchEvent) carry the descriptions written
//     in descriptions.go for their kinds and first levels of fields;
//     deeper ones (JSONSchemaProps…) have none.
//   - Subresources that stream (log, exec, attach, portforward, proxy) are
//     not published, nor are "connect" operations.
//   - IntOrString carries x-kubernetes-int-or-string: true in addition to
//     its int-or-string format.
//
// Custom resources are published by WithCustom, one CustomKind per served
// CRD version, on top of the built-in documents: each kind's
// openAPIV3Schema becomes a definition named as upstream names it
// (com.example.stable.v1.CronTab), with apiVersion, kind and metadata
// added, and its list kind beside it. The v3 form keeps the schema whole
// (x-kubernetes-int-or-string also gets its anyOf); the v2 form is cut
// down as upstream cuts it (see swagger2Schema), because kubectl checks
// objects against it and Swagger 2.0 cannot say nullable. They differ
// from upstream's only in the wording of the descriptions of the list
// kinds and of apiVersion and kind in embedded resources, and in that
// the operations are described and parameterized as the built-in ones.
//
// New builds the definitions and paths eagerly (about 40 ms for every
// built-in kind); the serializations (JSON, protobuf, gzip) are made on the
// first request for each and then cached, unless Prepare makes them first.
package openapi

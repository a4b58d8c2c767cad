// Package endpoints serves resource requests: it parses the URL into a
// RequestInfo, negotiates the wire format (JSON, YAML, protobuf, Table,
// PartialObjectMetadata), decodes bodies, calls the registry and encodes
// objects, watch streams and Status errors.
package endpoints

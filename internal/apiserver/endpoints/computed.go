package endpoints

import (
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The access and authentication reviews are computed for each request,
// never stored; these let their handler read and answer requests as the
// resource endpoints do.

// DecodeComputed decodes the body of a request for a computed resource of
// kind gvk: JSON, YAML or protobuf by Content-Type, with the request's
// field validation. Errors are API errors (400, 413, 415).
func (h *Handler) DecodeComputed(w http.ResponseWriter, r *http.Request, gvk schema.GroupVersionKind, newObj func() runtime.Object) (runtime.Object, error) {
	return h.decodeRequest(w, r, gvk, newObj)
}

// RespondComputed writes a computed object with code in the negotiated
// encoding, or its PartialObjectMetadata. Computed resources have no table
// converter upstream, so Table is not offered: a client that accepts only
// tables gets 406 NotAcceptable.
func (h *Handler) RespondComputed(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, gv schema.GroupVersion) {
	h.respondAs(w, r, code, obj, gv, false)
}

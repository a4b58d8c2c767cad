package endpoints

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Output shapes a client can ask for with the "as" media type parameter.
const (
	asObject                    = ""
	asTable                     = "Table"
	asPartialObjectMetadata     = "PartialObjectMetadata"
	asPartialObjectMetadataList = "PartialObjectMetadataList"
)

// output is the negotiated response format.
type output struct {
	info   runtime.SerializerInfo
	as     string
	pretty bool
}

// contentType is the Content-Type header of the response.
func (o output) contentType() string {
	if o.as == asObject {
		return o.info.MediaType
	}
	return o.info.MediaType + ";as=" + o.as + ";g=meta.k8s.io;v=v1"
}

// negotiateOutput picks the first acceptable entry of the Accept header
// that this server can produce.
func negotiateOutput(r *http.Request, infos []runtime.SerializerInfo) (output, error) {
	return negotiateOutputOf(r, infos, true)
}

// negotiateOutputOf is negotiateOutput for responses that can be shown as
// a Table (tables) or not.
func negotiateOutputOf(r *http.Request, infos []runtime.SerializerInfo, tables bool) (output, error) {
	pretty := r.URL.Query().Get("pretty") == "true" || r.URL.Query().Get("pretty") == "1"
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "application/json"
	}
	for _, entry := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(entry))
		if err != nil || params["q"] == "0" {
			continue
		}
		as := params["as"]
		if as != asObject {
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			known := as == asTable || as == asPartialObjectMetadata || as == asPartialObjectMetadataList
			if !known || (as == asTable && !tables) {
				continue
			}
		}
		switch mediaType {
		case "*/*", "application/*":
			mediaType = runtime.ContentTypeJSON
		}
		for _, info := range infos {
			if info.MediaType == mediaType {
				if as == asTable && info.MediaType == runtime.ContentTypeProtobuf {
					break // tables hold arbitrary cells: JSON only
				}
				return output{info: info, as: as, pretty: pretty}, nil
			}
		}
	}
	return output{}, &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotAcceptable,
		Reason:  metav1.StatusReasonNotAcceptable,
		Message: fmt.Sprintf("only the following media types are accepted: %s", supportedTypes(infos)),
	}}
}

// negotiateInput returns the serializer for the request's Content-Type.
func negotiateInput(r *http.Request, infos []runtime.SerializerInfo) (runtime.SerializerInfo, error) {
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		contentType = runtime.ContentTypeJSON
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return runtime.SerializerInfo{}, unsupportedMediaType(contentType)
	}
	for _, info := range infos {
		if info.MediaType == mediaType {
			return info, nil
		}
	}
	return runtime.SerializerInfo{}, unsupportedMediaType(contentType)
}

func supportedTypes(infos []runtime.SerializerInfo) string {
	types := make([]string, 0, len(infos))
	for _, info := range infos {
		types = append(types, info.MediaType)
	}
	return strings.Join(types, ", ")
}

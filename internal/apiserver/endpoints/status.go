package endpoints

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// statusOf converts any error into the Status sent to the client.
func statusOf(err error) *metav1.Status {
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		s := apiStatus.Status()
		if s.Code == 0 {
			s.Code = http.StatusInternalServerError
		}
		return &s
	}
	return &apierrors.NewInternalError(err).ErrStatus
}

// writeError sends err as a Status in the negotiated format, falling back
// to JSON.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	status.Kind, status.APIVersion = "Status", "v1"
	if status.Status == "" {
		status.Status = metav1.StatusFailure
	}
	out, negErr := negotiateOutput(r, h.infos)
	if negErr != nil || out.as != asObject {
		out = output{info: h.jsonInfo}
	}
	h.writeObject(w, r, out, int(status.Code), status, schema.GroupVersion{Version: "v1"})
}

// unsupportedMediaType is the 415 for a Content-Type this server cannot read.
func unsupportedMediaType(contentType string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusUnsupportedMediaType,
		Reason:  metav1.StatusReasonUnsupportedMediaType,
		Message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf; got " + contentType,
	}}
}

// WriteError writes err as a Status; the filters use it for their errors.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(w, r, err)
}

// warn adds warnings to the response (Warning headers, as Kubernetes
// words them), each once: an update's retries decode and admit again.
func warn(w http.ResponseWriter, warnings []string) {
	for _, m := range warnings {
		value := fmt.Sprintf("299 - %q", m)
		if !slices.Contains(w.Header().Values("Warning"), value) {
			w.Header().Add("Warning", value)
		}
	}
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// writeStatus answers err as a JSON metav1.Status, so that the API server
// and kubectl show its message and reason.
func writeStatus(w http.ResponseWriter, err error) {
	var apiStatus apierrors.APIStatus
	s := apierrors.NewInternalError(err).ErrStatus
	if errors.As(err, &apiStatus) {
		s = apiStatus.Status()
	}
	if s.Code == 0 {
		s.Code = http.StatusInternalServerError
	}
	s.Kind, s.APIVersion, s.Status = "Status", "v1", metav1.StatusFailure
	data, _ := json.Marshal(s)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(s.Code))
	_, _ = w.Write(data)
}

func unauthorized() error {
	return apierrors.NewUnauthorized("a client certificate signed by the cluster CA is required")
}

func forbidden(user string, r *http.Request) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: "nodes/proxy"}, "",
		fmt.Errorf("user %q cannot %s %s: only members of %s are authorized", user, r.Method, r.URL.Path, mastersGroup))
}

func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// notFound is a 404 about something other than an API object.
func notFound(format string, args ...any) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		Message: fmt.Sprintf(format, args...),
	}}
}

func serviceUnavailable(msg string) error { return apierrors.NewServiceUnavailable(msg) }

func internalError(err error) error { return apierrors.NewInternalError(err) }

// runtimeError turns a CRI call's error into an API error: what the
// runtime does not find is a 404, what it refuses in the container's state
// a 400, anything else a 500.
func runtimeError(what string, err error) error {
	msg := fmt.Sprintf("%s: %s", what, status.Convert(err).Message())
	switch status.Code(err) {
	case codes.NotFound:
		return notFound("%s", msg)
	case codes.FailedPrecondition, codes.InvalidArgument:
		return apierrors.NewBadRequest(msg)
	case codes.Unavailable:
		return apierrors.NewServiceUnavailable(msg)
	}
	return apierrors.NewInternalError(errors.New(msg))
}

package registry

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/storage"
)

// interpretError turns a storage error into the Kubernetes Status error a
// client expects for resource gr and object name.
func interpretError(err error, gr schema.GroupResource, name string) error {
	var se *storage.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case storage.CodeKeyNotFound:
		return apierrors.NewNotFound(gr, name)
	case storage.CodeKeyExists:
		return apierrors.NewAlreadyExists(gr, name)
	case storage.CodeConflict:
		msg := "the object has been modified; please apply your changes to the latest version and try again"
		if se.Msg != "" {
			msg = se.Msg
		}
		return apierrors.NewConflict(gr, name, errors.New(msg))
	case storage.CodeExpired:
		expired := apierrors.NewResourceExpired(se.Error())
		expired.ErrStatus.Continue = se.Continue
		return expired
	case storage.CodeTooLargeRevision:
		return apierrors.NewTimeoutError("Too large resource version: "+se.Error(), 1)
	case storage.CodeInvalidRequest:
		return apierrors.NewBadRequest(se.Error())
	case storage.CodeUnavailable:
		return apierrors.NewServiceUnavailable(se.Error())
	default:
		return apierrors.NewInternalError(err)
	}
}

package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// Strategies returns the strategies of the batch/v1 resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	gv := batchv1.SchemeGroupVersion
	withStatus := registry.DefaultStrategy{HasStatus: true}
	return map[schema.GroupVersionResource]registry.Strategy{
		gv.WithResource("jobs"):     jobStrategy{withStatus},
		gv.WithResource("cronjobs"): cronJobStrategy{withStatus},
	}
}

func errWrongType(obj runtime.Object) error {
	return fmt.Errorf("unexpected object of type %T", obj)
}

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, errWrongType(obj))}
}

func nonNegative[T ~int32 | ~int64](v *T, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apivalidation.ValidateNonnegativeField(int64(*v), p)
}

// oneOf returns Required when value is empty and NotSupported when it is
// not one of supported.
func oneOf(p *field.Path, value string, supported ...string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	for _, s := range supported {
		if value == s {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(p, value, supported)}
}

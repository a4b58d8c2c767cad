package apps

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// defaultRevisionHistoryLimit is how many old revisions every workload
// keeps for rollback by default.
const defaultRevisionHistoryLimit = int32(10)

// Strategies returns the strategies of the apps/v1 resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	gv := appsv1.SchemeGroupVersion
	withStatus := registry.DefaultStrategy{HasStatus: true}
	return map[schema.GroupVersionResource]registry.Strategy{
		gv.WithResource("deployments"):         deploymentStrategy{withStatus},
		gv.WithResource("replicasets"):         replicaSetStrategy{withStatus},
		gv.WithResource("statefulsets"):        statefulSetStrategy{withStatus},
		gv.WithResource("daemonsets"):          daemonSetStrategy{withStatus},
		gv.WithResource("controllerrevisions"): controllerRevisionStrategy{},
	}
}

// metaFields returns metadata.name and metadata.namespace, the fields every
// apps resource can be selected by.
func metaFields(m *metav1.ObjectMeta) fields.Set {
	return fields.Set{"metadata.name": m.Name, "metadata.namespace": m.Namespace}
}

func errWrongType(obj runtime.Object) error {
	return fmt.Errorf("unexpected object of type %T", obj)
}

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, errWrongType(obj))}
}

func nonNegative(v int64, p *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, p)
}

func nonNegativePtr(v *int32, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return nonNegative(int64(*v), p)
}

// intOrPercent validates a count given as a non-negative number or a
// percentage ("25%"), at most 100% when capped.
func intOrPercent(v *intstr.IntOrString, p *field.Path, capped bool) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		return nonNegative(int64(v.IntVal), p)
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidPercent(v.StrVal) {
		errs = append(errs, field.Invalid(p, v.StrVal, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1]); capped && n > 100 {
		errs = append(errs, field.Invalid(p, v.StrVal, "must not be greater than 100%"))
	}
	return errs
}

// isZero reports whether a count is 0 or 0%.
func isZero(v *intstr.IntOrString) bool {
	return v == nil || (v.Type == intstr.Int && v.IntVal == 0) || (v.Type == intstr.String && v.StrVal == "0%")
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

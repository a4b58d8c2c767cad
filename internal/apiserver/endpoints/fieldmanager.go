package endpoints

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// FieldManagers hands out the managed-fields tracker of each kind, for
// server-side apply and managedFields on every write.
type FieldManagers struct {
	scheme    *runtime.Scheme
	converter managedfields.TypeConverter

	mu       sync.Mutex
	managers map[fieldManagerKey]*kindFields

	created createdFields
}

// kindFields records the writes to one kind through one endpoint: the
// field manager, and (for built-in kinds) soleOwnerUpdate's shortcut.
type kindFields struct {
	manager *managedfields.FieldManager
	sole    *soleOwner
}

type fieldManagerKey struct {
	gvk         schema.GroupVersionKind
	subresource string
}

// NewFieldManagers builds the trackers from the OpenAPI v3 schemas of the
// served types (keyed by definition name, carrying
// x-kubernetes-group-version-kind).
func NewFieldManagers(scheme *runtime.Scheme, converter managedfields.TypeConverter) *FieldManagers {
	return &FieldManagers{scheme: scheme, converter: newTrustedTypeConverter(converter), managers: map[fieldManagerKey]*kindFields{}}
}

// For returns the tracker of a resource and subresource ("" or "status").
func (f *FieldManagers) For(r *resources.Resource, subresource string) (*managedfields.FieldManager, error) {
	k, err := f.kind(r, subresource)
	if k == nil || err != nil {
		return nil, err
	}
	return k.manager, nil
}

// kind returns the field manager of a resource and subresource with what
// the server records updates with besides.
func (f *FieldManagers) kind(r *resources.Resource, subresource string) (*kindFields, error) {
	if f == nil {
		return nil, nil
	}
	gvk := r.GroupVersionKind()
	key := fieldManagerKey{gvk: gvk, subresource: subresource}
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.managers[key]; ok {
		return m, nil
	}
	var m *managedfields.FieldManager
	var sole *soleOwner
	var err error
	reset := resetFields(r, subresource)
	if r.Custom {
		// Custom resources: fields deduced from the objects themselves
		// (maps merge key by key, lists are atomic), and versions that
		// differ only in apiVersion.
		m, err = managedfields.NewDefaultFieldManager(managedfields.NewDeducedTypeConverter(), customConvertor{},
			f.scheme, customCreater{}, gvk, gvk.GroupVersion(), subresource, reset)
	} else {
		m, err = managedfields.NewDefaultFieldManager(f.converter, kindSettingConvertor{f.scheme}, f.scheme, f.scheme, gvk, gvk.GroupVersion(), subresource, reset)
		sole = &soleOwner{gvk: gvk, converter: f.converter, reset: reset[fieldpath.APIVersion(gvk.GroupVersion().String())]}
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("field manager for %v: %w", gvk, err))
	}
	k := &kindFields{manager: m, sole: sole}
	f.managers[key] = k
	return k, nil
}

// kindSettingConvertor converts objects for the field manager. The objects
// it is given are nearly always of the version asked for already, and the
// scheme then deep-copies them only to set their kind, twice per write
// (the live and the new object); the field manager only reads what it
// converts, so a shallow copy with the kind set serves. Real conversions
// go to the scheme.
type kindSettingConvertor struct{ *runtime.Scheme }

// ConvertToVersion implements runtime.ObjectConvertor.
func (c kindSettingConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	if _, ok := in.(runtime.Unstructured); !ok {
		if kinds, _, err := c.ObjectKinds(in); err == nil {
			if gvk, ok := target.KindForGroupVersionKinds(kinds); ok && slices.Contains(kinds, gvk) {
				out := shallowCopy(in)
				if out != in {
					out.GetObjectKind().SetGroupVersionKind(gvk)
					return out, nil
				}
			}
		}
	}
	return c.Scheme.ConvertToVersion(in, target)
}

// customConvertor converts custom resources between the versions of
// their CRD, which differ only in apiVersion (no conversion webhooks).
type customConvertor struct{}

// Convert implements runtime.ObjectConvertor.
func (customConvertor) Convert(in, out, _ any) error {
	return fmt.Errorf("cannot convert %T into %T", in, out)
}

// ConvertToVersion implements runtime.ObjectConvertor.
func (customConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("custom resource is a %T", in)
	}
	gvk, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return nil, fmt.Errorf("cannot convert %v to %v", u.GroupVersionKind(), target)
	}
	out := u.DeepCopy()
	out.SetGroupVersionKind(gvk)
	return out, nil
}

// ConvertFieldLabel implements runtime.ObjectConvertor.
func (customConvertor) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

// customCreater makes empty custom resources.
type customCreater struct{}

// New implements runtime.ObjectCreater.
func (customCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// resetFields are the fields a write through this endpoint cannot change,
// so no manager is recorded as owning them: status through the main
// resource, spec through /status (and a CSR's /approval).
func resetFields(r *resources.Resource, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	if _, ok := r.Subresource("status"); !ok {
		return nil
	}
	path := "status"
	if subresource == "status" || subresource == "approval" {
		path = "spec"
	}
	set := fieldpath.NewSet(fieldpath.MakePathOrDie(path))
	return map[fieldpath.APIVersion]fieldpath.Filter{
		fieldpath.APIVersion(r.GVR.GroupVersion().String()): fieldpath.NewExcludeSetFilter(set),
	}
}

// managerName is the field manager a request writes as: the fieldManager
// parameter, else the client's user agent up to its first slash, as
// Kubernetes names it.
func managerName(r *http.Request, param string) string {
	if param != "" {
		return param
	}
	ua := r.Header.Get("User-Agent")
	if i := strings.IndexByte(ua, '/'); i >= 0 {
		ua = ua[:i]
	}
	if len(ua) > 128 {
		ua = ua[:128]
	}
	return ua
}

package resources

import (
	"fmt"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// groupInstallers add the types of every served group-version, and the
// discovery document types, to a scheme.
var groupInstallers = []func(*runtime.Scheme) error{
	corev1.AddToScheme,
	admissionregistrationv1.AddToScheme,
	apiextensionsv1.AddToScheme,
	apiregistrationv1.AddToScheme,
	appsv1.AddToScheme,
	authenticationv1.AddToScheme,
	authorizationv1.AddToScheme,
	autoscalingv1.AddToScheme,
	autoscalingv2.AddToScheme,
	batchv1.AddToScheme,
	certificatesv1.AddToScheme,
	coordinationv1.AddToScheme,
	discoveryv1.AddToScheme,
	eventsv1.AddToScheme,
	flowcontrolv1.AddToScheme,
	networkingv1.AddToScheme,
	nodev1.AddToScheme,
	policyv1.AddToScheme,
	rbacv1.AddToScheme,
	resourcev1.AddToScheme,
	schedulingv1.AddToScheme,
	storagev1.AddToScheme,
	storagemigrationv1.AddToScheme,
	apidiscoveryv2.AddToScheme,
	apidiscoveryv2beta1.AddToScheme,
}

// AddToScheme registers in s every type tug serves: the kinds of all
// built-in group-versions with their options types and watch events, the
// unversioned meta types (Status, APIVersions, APIGroupList, APIGroup,
// APIResourceList), the meta.k8s.io types (Table, PartialObjectMetadata and
// their lists, in v1 and v1beta1; WatchEvent and the options types in v1),
// and the aggregated discovery documents (apidiscovery.k8s.io v2, v2beta1).
func AddToScheme(s *runtime.Scheme) error {
	// The core group and meta.k8s.io carry the unversioned types and the
	// parameter types (ListOptions, DeleteOptions, …), as in client-go.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	metav1.AddToGroupVersion(s, metav1.SchemeGroupVersion)
	if err := metav1.AddMetaToScheme(s); err != nil {
		return err
	}
	if err := metav1beta1.AddMetaToScheme(s); err != nil {
		return err
	}
	for _, add := range groupInstallers {
		if err := add(s); err != nil {
			return err
		}
	}
	return nil
}

// NewScheme returns a new scheme holding the types AddToScheme registers.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	return s, nil
}

var sharedScheme = sync.OnceValue(func() *runtime.Scheme {
	s, err := NewScheme()
	// Registering generated types fails only on a programming error (one
	// kind registered with two types), which this package's tests catch.
	utilruntime.Must(err)
	return s
})

// Scheme returns the process-wide scheme of NewScheme, built on first use.
// It is shared: callers must not register more types in it.
func Scheme() *runtime.Scheme {
	return sharedScheme()
}

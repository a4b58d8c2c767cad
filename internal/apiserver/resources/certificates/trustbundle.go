package certificates

import (
	"context"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// trustBundleStrategy checks ClusterTrustBundle names against their
// signer: a bundle of signer example.com/x is named "example.com:x:" and a
// DNS subdomain; a bundle without a signer is a DNS subdomain without
// colons.
type trustBundleStrategy struct {
	signerStrategy
}

// NameValidator implements registry.Strategy. The name's rules depend on
// spec.signerName, which Validate sees: here colons are let through.
func (trustBundleStrategy) NameValidator() apivalidation.ValidateNameFunc {
	return func(name string, prefix bool) []string {
		if strings.Contains(name, ":") {
			return nil
		}
		return apivalidation.NameIsDNSSubdomain(name, prefix)
	}
}

// Validate implements registry.Strategy.
func (trustBundleStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	b, ok := obj.(*certificatesv1.ClusterTrustBundle)
	if !ok {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("not a ClusterTrustBundle: %T", obj))}
	}
	return validateTrustBundleName(b.Name, b.Spec.SignerName)
}

// ValidateUpdate implements registry.Strategy.
func (s trustBundleStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

func validateTrustBundleName(name, signer string) field.ErrorList {
	path := field.NewPath("metadata", "name")
	if signer == "" {
		if strings.Contains(name, ":") {
			return field.ErrorList{field.Invalid(path, name, "ClusterTrustBundle without signer name must not have \":\" in its name")}
		}
		return nil
	}
	prefix := strings.ReplaceAll(signer, "/", ":") + ":"
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return field.ErrorList{field.Invalid(path, name, fmt.Sprintf("ClusterTrustBundle for signerName %s must be named with prefix %s", signer, prefix))}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(rest, false) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

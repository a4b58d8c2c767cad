package certificates

import (
	"context"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// csrStrategy keeps a CertificateSigningRequest's parts apart, as
// upstream does: the spec is written once, /approval writes the
// conditions (approving or denying), /status the certificate and the other
// conditions, and only /approval may add or change Approved and Denied.
type csrStrategy struct {
	signerStrategy
	now func() time.Time
}

var _ registry.PartUpdater = csrStrategy{}

// approvalTypes are the conditions only /approval sets; Failed, like them,
// is never taken back once set.
var approvalTypes = map[certificatesv1.RequestConditionType]bool{
	certificatesv1.CertificateApproved: true,
	certificatesv1.CertificateDenied:   true,
}

// ValidateUpdate implements registry.Strategy: the spec is immutable.
func (csrStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	csr, prev, err := csrs(obj, old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	if !apiequality.Semantic.DeepEqual(csr.Spec, prev.Spec) {
		return field.ErrorList{field.Invalid(field.NewPath("spec"), "", "field is immutable")}
	}
	return nil
}

// WritesPart implements registry.PartUpdater: /approval and /status.
func (csrStrategy) WritesPart(subresource string) bool {
	return subresource == "approval" || subresource == "status"
}

// MergePart implements registry.PartUpdater: the metadata and the part the
// subresource writes come from obj, the rest from current.
func (s csrStrategy) MergePart(subresource string, obj, current runtime.Object) (runtime.Object, error) {
	csr, prev, err := csrs(obj, current)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	out := csr.DeepCopy()
	out.Spec = *prev.Spec.DeepCopy()
	if subresource == "approval" {
		out.Status.Certificate = prev.Status.Certificate
	} else {
		out.Status.Conditions = keepApproval(out.Status.Conditions, prev.Status.Conditions)
	}
	stampConditions(out.Status.Conditions, prev.Status.Conditions, metav1.NewTime(s.now()))
	return out, nil
}

// ValidatePart implements registry.PartUpdater.
func (csrStrategy) ValidatePart(_ context.Context, subresource string, obj, old runtime.Object) field.ErrorList {
	csr, prev, err := csrs(obj, old)
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	path := field.NewPath("status", "conditions")
	var errs field.ErrorList
	seen := map[certificatesv1.RequestConditionType]bool{}
	for i, c := range csr.Status.Conditions {
		p := path.Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(p.Child("type"), ""))
		}
		if approvalTypes[c.Type] || c.Type == certificatesv1.CertificateFailed {
			if seen[c.Type] {
				errs = append(errs, field.Duplicate(p.Child("type"), c.Type))
			}
			seen[c.Type] = true
			if c.Status != corev1.ConditionTrue {
				errs = append(errs, field.NotSupported(p.Child("status"), c.Status, []string{string(corev1.ConditionTrue)}))
			}
		} else if c.Status != corev1.ConditionTrue && c.Status != corev1.ConditionFalse && c.Status != corev1.ConditionUnknown {
			errs = append(errs, field.NotSupported(p.Child("status"), c.Status, []string{"True", "False", "Unknown"}))
		}
	}
	if seen[certificatesv1.CertificateApproved] && seen[certificatesv1.CertificateDenied] {
		errs = append(errs, field.Invalid(path, certificatesv1.CertificateDenied, "Approved and Denied conditions are mutually exclusive"))
	}
	for _, c := range prev.Status.Conditions {
		if (approvalTypes[c.Type] || c.Type == certificatesv1.CertificateFailed) && !seen[c.Type] {
			errs = append(errs, field.Forbidden(path, fmt.Sprintf("updates may not remove a condition of type %q", c.Type)))
		}
	}
	if subresource == "status" && len(csr.Status.Certificate) > 0 && !seen[certificatesv1.CertificateApproved] {
		errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "", "certificate can only be set on an approved request"))
	}
	return errs
}

// keepApproval returns conditions with the Approved and Denied conditions
// of prev in place of its own (a /status writer cannot approve): one kept
// where it was, one added at the end when missing, one not in prev dropped.
func keepApproval(conditions, prev []certificatesv1.CertificateSigningRequestCondition) []certificatesv1.CertificateSigningRequestCondition {
	old := map[certificatesv1.RequestConditionType]certificatesv1.CertificateSigningRequestCondition{}
	for _, c := range prev {
		if approvalTypes[c.Type] {
			old[c.Type] = c
		}
	}
	var out []certificatesv1.CertificateSigningRequestCondition
	placed := map[certificatesv1.RequestConditionType]bool{}
	for _, c := range conditions {
		if !approvalTypes[c.Type] {
			out = append(out, c)
			continue
		}
		if o, ok := old[c.Type]; ok && !placed[c.Type] {
			out = append(out, o)
			placed[c.Type] = true
		}
	}
	for _, c := range prev {
		if approvalTypes[c.Type] && !placed[c.Type] {
			out = append(out, c)
			placed[c.Type] = true
		}
	}
	return out
}

// stampConditions fills the times a writer left out: lastUpdateTime now,
// lastTransitionTime kept from the same condition in prev while its status
// is unchanged, else now.
func stampConditions(conditions, prev []certificatesv1.CertificateSigningRequestCondition, now metav1.Time) {
	for i := range conditions {
		c := &conditions[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = now
		}
		if !c.LastTransitionTime.IsZero() {
			continue
		}
		c.LastTransitionTime = now
		for _, p := range prev {
			if p.Type == c.Type && p.Status == c.Status && !p.LastTransitionTime.IsZero() {
				c.LastTransitionTime = p.LastTransitionTime
				break
			}
		}
	}
}

func csrs(obj, old runtime.Object) (*certificatesv1.CertificateSigningRequest, *certificatesv1.CertificateSigningRequest, error) {
	csr, ok := obj.(*certificatesv1.CertificateSigningRequest)
	prev, okOld := old.(*certificatesv1.CertificateSigningRequest)
	if !ok || !okOld {
		return nil, nil, fmt.Errorf("not CertificateSigningRequests: %T, %T", obj, old)
	}
	return csr, prev, nil
}

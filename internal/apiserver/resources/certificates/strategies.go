// Package certificates holds the strategies of certificates.k8s.io
// resources: their field selectors on spec.signerName, the parts of a
// CertificateSigningRequest its subresources write, and the names of
// ClusterTrustBundles.
package certificates

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// signerStrategy adds spec.signerName to the selectable fields.
type signerStrategy struct {
	registry.DefaultStrategy
	signer func(runtime.Object) (string, bool)
}

// GetAttrs implements registry.Strategy.
func (s signerStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ls, fs, err := s.DefaultStrategy.GetAttrs(obj)
	if err != nil {
		return nil, nil, err
	}
	if name, ok := s.signer(obj); ok {
		fs["spec.signerName"] = name
	}
	return ls, fs, nil
}

// Strategies returns the strategies of this group's resources.
func Strategies() map[schema.GroupVersionResource]registry.Strategy {
	gv := certificatesv1.SchemeGroupVersion
	return map[schema.GroupVersionResource]registry.Strategy{
		gv.WithResource("certificatesigningrequests"): csrStrategy{
			signerStrategy: signerStrategy{
				DefaultStrategy: registry.DefaultStrategy{HasStatus: true, ClusterScoped: true},
				signer: func(o runtime.Object) (string, bool) {
					csr, ok := o.(*certificatesv1.CertificateSigningRequest)
					if !ok {
						return "", false
					}
					return csr.Spec.SignerName, true
				},
			},
			now: time.Now,
		},
		gv.WithResource("clustertrustbundles"): trustBundleStrategy{signerStrategy{
			DefaultStrategy: registry.DefaultStrategy{ClusterScoped: true},
			signer: func(o runtime.Object) (string, bool) {
				b, ok := o.(*certificatesv1.ClusterTrustBundle)
				if !ok {
					return "", false
				}
				return b.Spec.SignerName, true
			},
		}},
	}
}

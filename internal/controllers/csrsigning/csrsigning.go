// Package csrsigning issues the certificates of approved
// CertificateSigningRequests for the two signers whose certificates the API
// server itself trusts, signed by the cluster CA:
// kubernetes.io/kube-apiserver-client (any user) and
// kubernetes.io/kube-apiserver-client-kubelet (system:node:<name> in
// system:nodes). A request a signer may not sign gets a Failed condition,
// as upstream's signing controller reports it.
package csrsigning

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tugcluster/tug/internal/controller"
)

// SignFunc signs a client certificate for user cn in groups orgs with the
// cluster CA, valid for ttl (pki.Bundle.SignClientCert).
type SignFunc func(cn string, orgs []string, pub crypto.PublicKey, ttl time.Duration) ([]byte, error)

// defaultDuration is a certificate's lifetime when the request names
// none, as kube-controller-manager's --cluster-signing-duration defaults.
const defaultDuration = 365 * 24 * time.Hour

// minDuration is the shortest lifetime a request may ask for.
const minDuration = 10 * time.Minute

// clientUsages are the key usages a client certificate may carry.
var clientUsages = []certificatesv1.KeyUsage{
	certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth,
}

// Controller signs approved requests.
type Controller struct {
	client kubernetes.Interface
	csrs   certlisters.CertificateSigningRequestLister
	synced cache.InformerSynced
	sign   SignFunc
	loop   *controller.Loop
}

// New returns the controller.
func New(client kubernetes.Interface, csrs certinformers.CertificateSigningRequestInformer, sign SignFunc) (*Controller, error) {
	c := &Controller{client: client, csrs: csrs.Lister(), synced: csrs.Informer().HasSynced, sign: sign}
	c.loop = controller.New("csrsigning", 2, c.sync)
	_, err := csrs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.loop.EnqueueObject,
		UpdateFunc: func(_, obj any) { c.loop.EnqueueObject(obj) },
	})
	return c, err
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error { return c.loop.Run(ctx, c.synced) }

func (c *Controller) sync(ctx context.Context, name string) error {
	csr, err := c.csrs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !pending(csr) {
		return nil
	}
	out := csr.DeepCopy()
	cn, orgs, pub, err := validate(csr)
	if err != nil {
		out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue,
			Reason: "SignerValidationFailure", Message: err.Error(),
			LastUpdateTime: metav1.Now(),
		})
	} else {
		ttl := defaultDuration
		if s := csr.Spec.ExpirationSeconds; s != nil {
			ttl = max(time.Duration(*s)*time.Second, minDuration)
		}
		if out.Status.Certificate, err = c.sign(cn, orgs, pub, ttl); err != nil {
			return err
		}
	}
	_, err = c.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, out, metav1.UpdateOptions{})
	return err
}

// pending reports an approved request of one of our signers that has
// neither a certificate nor a failure yet.
func pending(csr *certificatesv1.CertificateSigningRequest) bool {
	if len(csr.Status.Certificate) > 0 {
		return false
	}
	if csr.Spec.SignerName != certificatesv1.KubeAPIServerClientSignerName &&
		csr.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName {
		return false
	}
	approved := false
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			return false
		case certificatesv1.CertificateApproved:
			approved = c.Status == corev1.ConditionTrue
		}
	}
	return approved
}

// validate parses the request and checks it against its signer's rules,
// returning the user, groups and public key to sign.
func validate(csr *certificatesv1.CertificateSigningRequest) (string, []string, crypto.PublicKey, error) {
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return "", nil, nil, errors.New("spec.request is not a PEM CERTIFICATE REQUEST")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return "", nil, nil, fmt.Errorf("parse the certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return "", nil, nil, fmt.Errorf("the certificate request's signature: %w", err)
	}
	if !slices.Contains(csr.Spec.Usages, certificatesv1.UsageClientAuth) {
		return "", nil, nil, errors.New("usages must include \"client auth\"")
	}
	for _, u := range csr.Spec.Usages {
		if !slices.Contains(clientUsages, u) {
			return "", nil, nil, fmt.Errorf("usage %q is not allowed for signer %s", u, csr.Spec.SignerName)
		}
	}
	if len(req.DNSNames)+len(req.IPAddresses)+len(req.EmailAddresses)+len(req.URIs) > 0 {
		return "", nil, nil, errors.New("client certificates carry no subject alternative names")
	}
	cn, orgs := req.Subject.CommonName, req.Subject.Organization
	if cn == "" {
		return "", nil, nil, errors.New("the subject has no common name")
	}
	if csr.Spec.SignerName == certificatesv1.KubeAPIServerClientKubeletSignerName &&
		(!strings.HasPrefix(cn, "system:node:") || len(cn) == len("system:node:") || !slices.Equal(orgs, []string{"system:nodes"})) {
		return "", nil, nil, errors.New("a kubelet client certificate is for CN system:node:<name> in O system:nodes only")
	}
	return cn, orgs, req.PublicKey, nil
}

package endpoints

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// resourceProxyTransport reaches pods (and services' endpoints) for
// pods/proxy and services/proxy. Like kube-apiserver's, it does not verify
// a pod's serving certificate: pods have no names the cluster vouches for.
var resourceProxyTransport = &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as kube-apiserver's proxy to pods
	TLSHandshakeTimeout: 10 * time.Second,
	IdleConnTimeout:     90 * time.Second,
	MaxIdleConnsPerHost: 4,
}

// proxyTarget is what a pods/proxy or services/proxy name says: an
// optional scheme, the object's name and an optional port (number or
// name), as "name", "name:port" or "scheme:name:port".
type proxyTarget struct{ scheme, name, port string }

func parseProxyName(s string) (proxyTarget, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		return proxyTarget{name: parts[0]}, nil
	case 2:
		return proxyTarget{name: parts[0], port: parts[1]}, nil
	case 3:
		if parts[0] != "http" && parts[0] != "https" && parts[0] != "" {
			return proxyTarget{}, apierrors.NewBadRequest(fmt.Sprintf("invalid scheme %q in %q: want http or https", parts[0], s))
		}
		return proxyTarget{scheme: parts[0], name: parts[1], port: parts[2]}, nil
	}
	return proxyTarget{}, apierrors.NewBadRequest(fmt.Sprintf("invalid proxy name %q: want name, name:port or scheme:name:port", s))
}

// servePodProxy proxies /api/v1/namespaces/{ns}/pods/{name}/proxy/{path}
// to the pod's IP: the given port, else its first container port, else 80.
func (h *Handler) servePodProxy(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	target, err := parseProxyName(info.Name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.stores[podsGVR].Get(ctx, info.Namespace, target.name, nil)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		h.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("stored pod is a %T", obj)))
		return
	}
	if pod.Status.PodIP == "" {
		h.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("address not allowed: pod %s has no IP yet", pod.Name)))
		return
	}
	port := target.port
	if port == "" {
		for _, c := range pod.Spec.Containers {
			if len(c.Ports) > 0 {
				port = strconv.Itoa(int(c.Ports[0].ContainerPort))
				break
			}
		}
	}
	if port != "" {
		if _, err := strconv.Atoi(port); err != nil {
			if port, err = namedContainerPort(pod, port); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
	}
	host := pod.Status.PodIP
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	h.proxyTo(w, r, target.scheme, host, "/api/v1/namespaces/"+info.Namespace+"/pods/"+info.Name+"/proxy")
}

// namedContainerPort finds the number of a named container port.
func namedContainerPort(pod *corev1.Pod, name string) (string, error) {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return strconv.Itoa(int(p.ContainerPort)), nil
			}
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("pod %s has no container port named %q", pod.Name, name))
}

// serveServiceProxy proxies /api/v1/namespaces/{ns}/services/{name}/proxy/
// {path} to a ready endpoint of the service port (by name or number; the
// only port when none is given), chosen at random.
func (h *Handler) serveServiceProxy(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	target, err := parseProxyName(info.Name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	obj, err := h.stores[servicesGVR].Get(ctx, info.Namespace, target.name, nil)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		h.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("stored service is a %T", obj)))
		return
	}
	port, err := servicePort(svc, target.port)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	host, err := h.serviceEndpoint(ctx, svc, port)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.proxyTo(w, r, target.scheme, host, "/api/v1/namespaces/"+info.Namespace+"/services/"+info.Name+"/proxy")
}

// servicePort picks the Service's port named or numbered p.
func servicePort(svc *corev1.Service, p string) (*corev1.ServicePort, error) {
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if p == "" && len(svc.Spec.Ports) == 1 || sp.Name == p || strconv.Itoa(int(sp.Port)) == p {
			return sp, nil
		}
	}
	if p == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("service %s has several ports: name one as %s:<port>", svc.Name, svc.Name))
	}
	return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %q found for service %q", p, svc.Name))
}

// serviceEndpoint picks a ready endpoint of the service port from the
// Service's EndpointSlices and returns its host:port.
func (h *Handler) serviceEndpoint(ctx context.Context, svc *corev1.Service, sp *corev1.ServicePort) (string, error) {
	slices := h.stores[discoveryv1.SchemeGroupVersion.WithResource("endpointslices")]
	if slices == nil {
		return "", apierrors.NewServiceUnavailable("endpointslices are not served")
	}
	list, err := slices.List(ctx, svc.Namespace, &metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
	if err != nil {
		return "", err
	}
	items, ok := list.(*discoveryv1.EndpointSliceList)
	if !ok {
		return "", apierrors.NewInternalError(fmt.Errorf("listed endpoint slices are a %T", list))
	}
	var hosts []string
	for _, s := range items.Items {
		for _, p := range s.Ports {
			if p.Port == nil || (p.Name != nil && *p.Name != sp.Name) || (p.Name == nil && sp.Name != "") {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready || len(e.Addresses) == 0 {
					continue
				}
				hosts = append(hosts, net.JoinHostPort(e.Addresses[0], strconv.Itoa(int(*p.Port))))
			}
		}
	}
	if len(hosts) == 0 {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", svc.Name))
	}
	return hosts[rand.IntN(len(hosts))], nil //nolint:gosec // load spreading, not security
}

// proxyTo passes the request, minus the prefix of its path, to host.
func (h *Handler) proxyTo(w http.ResponseWriter, r *http.Request, scheme, host, prefix string) {
	if scheme == "" {
		scheme = "http"
	}
	// Nothing after the prefix stays empty: the proxy then redirects a GET
	// or HEAD of ".../proxy" to ".../proxy/", as upstream does, so that
	// relative links in the answer resolve below the proxy.
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	location := &url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: r.URL.RawQuery}
	passOn(w, r, location, resourceProxyTransport, false, true, proxyErrorResponder{h: h, host: host})
}

type proxyErrorResponder struct {
	h    *Handler
	host string
}

func (p proxyErrorResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	p.h.writeError(w, r, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach %s: %v", p.host, err)))
}

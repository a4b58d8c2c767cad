package endpoints

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// defaultKubeletPort is where a kubelet serves when its node does not say.
const defaultKubeletPort = 10250

// newKubeletTransport is how the API server reaches kubelets: TLS verified
// against the cluster CA, presenting the admin client certificate. nil
// without credentials.
func newKubeletTransport(cfg *tls.Config) *http.Transport {
	if cfg == nil {
		return nil
	}
	return &http.Transport{
		TLSClientConfig:     cfg.Clone(),
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 4,
	}
}

// servePodNodeSubresource serves pods/log, pods/exec, pods/attach and
// pods/portforward from the kubelet of the pod's node.
func (h *Handler) servePodNodeSubresource(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	obj, err := store.Get(ctx, info.Namespace, info.Name, nil)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		h.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("stored pod is a %T", obj)))
		return
	}
	q := r.URL.Query()
	switch info.Subresource {
	case "log":
		if info.Verb != "get" {
			h.writeError(w, r, methodNotSupported(schema.GroupResource{Resource: "pods/log"}, info.Verb))
			return
		}
		h.servePodLog(ctx, w, r, pod, q)
	case "exec", "attach":
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		params, err := streamParams(q, info.Subresource == "exec")
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.proxyToKubelet(ctx, w, r, pod.Spec.NodeName, pod.Name,
			kubeletPath(info.Subresource, pod.Namespace, pod.Name, container), params, true)
	case "portforward":
		params := url.Values{}
		for _, p := range q["ports"] {
			params.Add("port", p)
		}
		h.proxyToKubelet(ctx, w, r, pod.Spec.NodeName, pod.Name, kubeletPath("portForward", pod.Namespace, pod.Name), params, true)
	}
}

// serveNodeProxy proxies /api/v1/nodes/{name}/proxy/{path} to the node's
// kubelet at /{path}; a name with a port ("node:port" or
// "scheme:node:port") other than the kubelet's goes to that port of the
// node's address instead.
func (h *Handler) serveNodeProxy(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	target, err := parseProxyName(info.Name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	prefix := "/api/v1/nodes/" + info.Name + "/proxy"
	if target.port != "" {
		base, err := h.kubeletFor(ctx, target.name, "")
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if host, port, _ := net.SplitHostPort(base.Host); port != target.port || target.scheme == "http" {
			h.proxyTo(w, r, target.scheme, net.JoinHostPort(host, target.port), prefix)
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	h.proxyToKubelet(ctx, w, r, target.name, "", path, r.URL.Query(), false)
}

// kubeletPath joins escaped path segments under a kubelet endpoint.
func kubeletPath(endpoint string, segments ...string) string {
	var b strings.Builder
	b.WriteString("/" + endpoint)
	for _, s := range segments {
		b.WriteString("/" + url.PathEscape(s))
	}
	return b.String()
}

// simulatedRuntime starts the container runtime version of the nodes of
// `tug agent --simulated` (internal/agent/simulated.RuntimeVersion). They
// have no kubelet, and their addresses (198.18.0.0/15, set aside for
// benchmarks) lead off the machine: the server must not dial them.
const simulatedRuntime = "simulated://"

// kubeletURL is the base URL of a node's kubelet: its InternalIP (else
// ExternalIP) and the port its status advertises.
func kubeletURL(node *corev1.Node) (*url.URL, error) {
	if strings.HasPrefix(node.Status.NodeInfo.ContainerRuntimeVersion, simulatedRuntime) {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q is simulated (tug agent --simulated): it has no kubelet to reach", node.Name))
	}
	var host string
	for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type == want && host == "" {
				host = a.Address
			}
		}
	}
	if host == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q has no InternalIP address to reach its kubelet at", node.Name))
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = defaultKubeletPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// kubeletFor returns the base URL of the named node's kubelet.
func (h *Handler) kubeletFor(ctx context.Context, nodeName, podName string) (*url.URL, error) {
	if nodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", podName))
	}
	if h.kubeletTransport == nil {
		return nil, apierrors.NewServiceUnavailable("this server has no credentials to reach kubelets")
	}
	nodes := h.stores[corev1.SchemeGroupVersion.WithResource("nodes")]
	if nodes == nil {
		return nil, apierrors.NewServiceUnavailable("nodes are not served")
	}
	obj, err := nodes.Get(ctx, "", nodeName, nil)
	if err != nil {
		return nil, err
	}
	node, ok := obj.(*corev1.Node)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("stored node is a %T", obj))
	}
	return kubeletURL(node)
}

// proxyToKubelet passes the request to path on the node's kubelet, the
// upgrade (SPDY or websocket) included; upgradeRequired refuses plain
// requests, as the stream subresources do.
func (h *Handler) proxyToKubelet(ctx context.Context, w http.ResponseWriter, r *http.Request, nodeName, podName, path string, params url.Values, upgradeRequired bool) {
	base, err := h.kubeletFor(ctx, nodeName, podName)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	location := *base
	location.Path = path
	location.RawQuery = params.Encode()
	// The kubelet trusts this server's own certificate.
	passOn(w, r, &location, h.kubeletTransport, upgradeRequired, false, kubeletErrorResponder{h: h, node: nodeName, url: base.Host})
}

// passOn proxies r, upgrades (SPDY, websocket) included, to location
// without the caller's credentials, which are for this server only. With
// rewrite, links and redirects in HTML answers are rewritten to go through
// this server's proxy path, and X-Forwarded-* headers are set, as upstream
// does for pod and service proxies.
func passOn(w http.ResponseWriter, r *http.Request, location *url.URL, transport http.RoundTripper, upgradeRequired, rewrite bool, responder proxy.ErrorResponder) {
	out := r.Clone(r.Context())
	out.Header.Del("Authorization")
	handler := &proxy.UpgradeAwareHandler{
		Location:        location,
		Transport:       transport,
		UpgradeRequired: upgradeRequired,
		WrapTransport:   rewrite,
		UseLocationHost: true,
		FlushInterval:   200 * time.Millisecond,
		Responder:       responder,
	}
	handler.ServeHTTP(w, out)
}

type kubeletErrorResponder struct {
	h    *Handler
	node string
	url  string
}

func (k kubeletErrorResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	if apierrors.IsBadRequest(err) {
		k.h.writeError(w, r, err)
		return
	}
	k.h.writeError(w, r, kubeletUnreachable(k.node, k.url, err))
}

func kubeletUnreachable(node, host string, err error) error {
	return apierrors.NewServiceUnavailable(fmt.Sprintf("unable to reach the kubelet of node %q at %s: %v", node, host, err))
}

// servePodLog streams a container's log from the kubelet.
func (h *Handler) servePodLog(ctx context.Context, w http.ResponseWriter, r *http.Request, pod *corev1.Pod, q url.Values) {
	params, err := logParams(pod.Name, q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	container, err := podContainer(pod, q.Get("container"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	base, err := h.kubeletFor(ctx, pod.Spec.NodeName, pod.Name)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	location := *base
	location.Path = kubeletPath("containerLogs", pod.Namespace, pod.Name, container)
	location.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location.String(), nil)
	if err != nil {
		h.writeError(w, r, apierrors.NewInternalError(err))
		return
	}
	resp, err := h.kubeletTransport.RoundTrip(req)
	if err != nil {
		h.writeError(w, r, kubeletUnreachable(pod.Spec.NodeName, base.Host, err))
		return
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		h.writeError(w, r, kubeletError(resp, pod.Name))
		return
	}
	if wsstream.IsWebSocketRequest(r) {
		// A websocket client gets the log as binary (or base64) messages.
		_ = wsstream.NewReader(resp.Body, true, wsstream.NewDefaultReaderProtocols()).Copy(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32*1024)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			// A followed log reaches the client as it is written.
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// kubeletError turns a kubelet's error answer into a Status: its own when
// it sent one, else one built from the code and body.
func kubeletError(resp *http.Response, podName string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	var status metav1.Status
	if err := json.Unmarshal(body, &status); err == nil && status.Kind == "Status" && status.Code != 0 {
		return &apierrors.StatusError{ErrStatus: status}
	}
	// The generic response knows the reason for each code.
	err := apierrors.NewGenericServerResponse(resp.StatusCode, "get", schema.GroupResource{}, "", "", 0, false)
	if msg := strings.TrimSpace(string(body)); msg != "" {
		err.ErrStatus.Message = msg
	}
	err.ErrStatus.Details = &metav1.StatusDetails{Name: podName, Kind: "pods"}
	return err
}

// podContainer returns the container a request means: the one named, which
// must be in the pod, or the pod's only container.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	if name != "" {
		for _, c := range pod.Spec.Containers {
			if c.Name == name {
				return name, nil
			}
		}
		for _, c := range pod.Spec.InitContainers {
			if c.Name == name {
				return name, nil
			}
		}
		for _, c := range pod.Spec.EphemeralContainers {
			if c.Name == name {
				return name, nil
			}
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	}
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " "))
	if len(pod.Spec.InitContainers) > 0 {
		names = names[:0]
		for _, c := range pod.Spec.InitContainers {
			names = append(names, c.Name)
		}
		msg += fmt.Sprintf(" or one of the init containers: [%s]", strings.Join(names, " "))
	}
	return "", apierrors.NewBadRequest(msg)
}

// logParams checks the PodLogOptions query and returns the kubelet's
// containerLogs query for it.
func logParams(podName string, q url.Values) (url.Values, error) {
	out := url.Values{}
	for _, name := range []string{"follow", "previous", "timestamps"} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("%s=%q is not a boolean", name, v))
			}
			if b {
				out.Set(name, "true")
			}
		}
	}
	var errs field.ErrorList
	for _, p := range []struct {
		name    string
		minimum int64
	}{{"tailLines", 0}, {"sinceSeconds", 1}, {"limitBytes", 1}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("%s=%q is not an integer", p.name, v))
		}
		if n < p.minimum {
			errs = append(errs, field.Invalid(field.NewPath(p.name), n, fmt.Sprintf("must be greater than or equal to %d", p.minimum)))
		}
		out.Set(p.name, v)
	}
	if v := q.Get("sinceTime"); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("sinceTime=%q is not an RFC3339 time", v))
		}
		out.Set("sinceTime", v)
		if q.Get("sinceSeconds") != "" {
			errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, podName, errs)
	}
	return out, nil
}

// streamParams checks the PodExecOptions / PodAttachOptions query and
// returns the kubelet's query for it.
func streamParams(q url.Values, exec bool) (url.Values, error) {
	out := url.Values{}
	streams := false
	for _, f := range []struct{ api, kubelet string }{
		{"stdin", "input"}, {"stdout", "output"}, {"stderr", "error"}, {"tty", "tty"},
	} {
		v := q.Get(f.api)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("%s=%q is not a boolean", f.api, v))
		}
		if b {
			out.Set(f.kubelet, "1")
			streams = streams || f.api != "tty"
		}
	}
	if !streams {
		return nil, apierrors.NewBadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	if exec {
		if len(q["command"]) == 0 {
			return nil, apierrors.NewBadRequest("you must specify at least one command for the container")
		}
		out["command"] = q["command"]
	}
	return out, nil
}

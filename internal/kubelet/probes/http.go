package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxRedirects is how many same-host redirects a probe follows.
const maxRedirects = 10

func runHTTP(ctx context.Context, action *corev1.HTTPGetAction, host string, port int, timeout time.Duration) (Result, string, error) {
	target := probeURL(action.Scheme, host, port, action.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return Unknown, "", fmt.Errorf("http probe: %w", err)
	}
	for _, h := range action.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	// Defaults only where the probe names no header of its own.
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", userAgent())
	}
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", "*/*")
	}

	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			// A probe is one request; a kept-alive connection would only
			// pile up in the container.
			DisableKeepAlives: true,
			// Probes check liveness, not identity: containers serve
			// self-signed certificates.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
			Proxy:           nil,
			DialContext:     (&net.Dialer{Timeout: timeout}).DialContext,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Following a redirect to another host would let a container
			// make the kubelet send requests anywhere.
			if req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) && urlErr.Timeout() {
			return Failure, fmt.Sprintf("Get %q: context deadline exceeded (timeout %v)", target.String(), timeout), nil
		}
		return Failure, err.Error(), nil
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if err != nil {
		return Failure, fmt.Sprintf("read response of %s: %v", target.String(), err), nil
	}
	switch {
	case resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusMultipleChoices:
		return Success, "", nil
	case resp.StatusCode >= http.StatusMultipleChoices && resp.StatusCode < http.StatusBadRequest:
		// Only a redirect not followed (to another host) ends here.
		return Success, fmt.Sprintf("Probe terminated redirects, Response body: %s", body), nil
	}
	return Failure, "HTTP probe failed with statuscode: " + strconv.Itoa(resp.StatusCode), nil
}

// probeURL builds the probe's URL; path may carry a query.
func probeURL(scheme corev1.URIScheme, host string, port int, path string) *url.URL {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = strings.ToLower(string(scheme))
	if u.Scheme == "" {
		u.Scheme = "http"
	}
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	if u.Path == "" {
		u.Path = "/"
	} else if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	return u
}

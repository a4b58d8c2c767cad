package endpoints

import (
	"context"
	"net/http"
	"strings"
)

// RequestInfo is what a request path and method say about the request.
type RequestInfo struct {
	// IsResourceRequest is false for discovery, health and other paths.
	IsResourceRequest bool
	// Verb is get, list, watch, create, update, patch, delete or
	// deletecollection.
	Verb        string
	APIGroup    string
	APIVersion  string
	Namespace   string
	Resource    string
	Subresource string
	Name        string
	// Rest holds path segments after the subresource (proxy paths).
	Rest []string
}

// ParseRequestInfo reads /api/v1/... and /apis/<group>/<version>/... paths.
func ParseRequestInfo(r *http.Request) RequestInfo {
	var info RequestInfo
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.APIVersion, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.APIGroup, info.APIVersion, parts = parts[1], parts[2], parts[3:]
	default:
		return info
	}
	info.IsResourceRequest = true
	watchPath := false
	if parts[0] == "watch" {
		watchPath, parts = true, parts[1:]
	}
	// namespaces/<ns>/<resource>..., except a namespace's own subresources.
	namespaceSubresource := len(parts) == 3 && (parts[2] == "status" || parts[2] == "finalize")
	if len(parts) >= 3 && parts[0] == "namespaces" && !namespaceSubresource {
		info.Namespace, parts = parts[1], parts[2:]
	} else if len(parts) >= 2 && parts[0] == "namespaces" {
		info.Namespace = parts[1]
	}
	if len(parts) == 0 {
		info.IsResourceRequest = false
		return info
	}
	info.Resource = parts[0]
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
	}
	if len(parts) > 3 {
		info.Rest = parts[3:]
	}
	info.Verb = verbFor(r, info.Name != "", watchPath)
	return info
}

func verbFor(r *http.Request, named, watchPath bool) string {
	switch r.Method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if named {
			return "delete"
		}
		return "deletecollection"
	case http.MethodGet, http.MethodHead:
		if w := r.URL.Query().Get("watch"); watchPath || w == "true" || w == "1" {
			return "watch"
		}
		if named {
			return "get"
		}
		return "list"
	}
	return strings.ToLower(r.Method)
}

func splitPath(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

type requestInfoKey struct{}

// WithRequestInfo parses each request's RequestInfo once, for every stage
// after it to read with RequestInfoFor.
func WithRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := ParseRequestInfo(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// RequestInfoFor returns the RequestInfo WithRequestInfo stored, parsing
// the request if it has none.
func RequestInfoFor(r *http.Request) RequestInfo {
	if info, ok := r.Context().Value(requestInfoKey{}).(RequestInfo); ok {
		return info
	}
	return ParseRequestInfo(r)
}

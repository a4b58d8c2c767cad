// Package discovery serves the API discovery documents (/api, /api/v1,
// /apis, /apis/<group>, /apis/<group>/<version>), in the legacy form and,
// for /api and /apis, the aggregated apidiscovery.k8s.io/v2 form, as JSON,
// YAML or protobuf, built once from the resource catalog.
package discovery

import (
	"fmt"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// Discovery holds the encoded discovery documents of one set of resources
// and serves them. It is immutable and safe for concurrent use.
type Discovery struct {
	// docs maps a path, without a trailing slash, to its documents.
	docs map[string]*documents
}

// documents are the encodings of one path, by format: legacy always,
// aggregated only at /api and /apis.
type documents struct {
	legacy     map[format]*document
	aggregated map[format]*document
}

// New builds the discovery documents of rs. serverAddress ("host:port")
// is what /api tells clients to use, for any client address. New fails
// only if a document cannot be encoded, which is a programming error.
func New(rs []resources.Resource, serverAddress string) (*Discovery, error) {
	c := resources.NewCatalog(rs)
	d := &Discovery{docs: map[string]*documents{}}
	var core, others []resources.Group
	for _, g := range c.Groups() {
		if g.Name == "" {
			core = append(core, g)
		} else {
			others = append(others, g)
		}
	}
	add := func(path string, legacy, aggregated runtime.Object) error {
		docs := &documents{}
		var err error
		if docs.legacy, err = encodeAll(legacy, false); err != nil {
			return fmt.Errorf("encode discovery document %s: %w", path, err)
		}
		if aggregated != nil {
			if docs.aggregated, err = encodeAll(aggregated, true); err != nil {
				return fmt.Errorf("encode aggregated discovery document %s: %w", path, err)
			}
		}
		d.docs[path] = docs
		return nil
	}
	if err := add("/api", apiVersions(c, serverAddress), aggregatedList(c, core)); err != nil {
		return nil, err
	}
	if err := add("/apis", apiGroupList(c), aggregatedList(c, others)); err != nil {
		return nil, err
	}
	for _, g := range c.Groups() {
		if g.Name != "" {
			group := apiGroup(g)
			group.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
			if err := add("/apis/"+g.Name, &group, nil); err != nil {
				return nil, err
			}
		}
		for _, v := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: v}
			if err := add(groupVersionPath(gv), apiResourceList(gv, c.ForGroupVersion(gv)), nil); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// groupVersionPath is where gv's resource list is served.
func groupVersionPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// canonicalPath drops one trailing slash: upstream serves /apis/ as /apis.
func canonicalPath(path string) string {
	if len(path) > 1 {
		return strings.TrimSuffix(path, "/")
	}
	return path
}

// Handles reports whether path is one of the discovery documents.
func (d *Discovery) Handles(path string) bool {
	_, ok := d.docs[canonicalPath(path)]
	return ok
}

// ServeHTTP serves the document at r.URL.Path in the form the Accept
// header asks for, with an ETag; a request whose If-None-Match names it
// gets 304 Not Modified. As upstream, aggregated discovery is served
// whenever the client accepts it, whatever the order of its Accept header.
// Paths that Handles rejects get 404, methods other than GET 405, and an
// Accept header that admits none of the forms 406, each as a metav1.Status.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	docs, ok := d.docs[canonicalPath(r.URL.Path)]
	switch {
	case !ok:
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound,
			"the server could not find the requested resource", true)
		return
	case r.Method != http.MethodGet:
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			"the server does not allow this method on the requested resource", true)
		return
	}
	doc, aggregated := docs.negotiate(r.Header.Values("Accept"))
	if doc == nil {
		writeStatus(w, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable,
			"only the following media types are accepted: "+strings.Join(mediaTypes, ", "), false)
		return
	}
	body, etag, err := doc.get()
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError,
			fmt.Sprintf("encode discovery document: %v", err), false)
		return
	}
	h := w.Header()
	h.Set("ETag", etag)
	// One path has several forms: caches must key on Accept.
	h.Set("Vary", "Accept")
	if aggregated {
		// Aggregated documents may be cached and revalidated by ETag;
		// legacy ones are marked as upstream marks them.
		h.Set("Cache-Control", "public")
	} else {
		h.Set("Cache-Control", "no-cache, private")
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", doc.contentType)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// etagMatches reports whether an If-None-Match header names etag, or is
// "*". Weak tags match too: the comparison for GET is the weak one.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// writeStatus writes a failure as a metav1.Status in JSON, as every API
// error is written.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, message string, details bool) {
	status := &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Code:     int32(code),
	}
	if details {
		status.Details = &metav1.StatusDetails{}
	}
	body, err := encodeJSON(status)
	if err != nil {
		http.Error(w, message, code)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("Cache-Control", "no-cache, private")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

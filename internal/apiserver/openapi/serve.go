package openapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// URL paths served.
const (
	v2Path   = "/openapi/v2"
	v3Root   = "/openapi/v3"
	v3Prefix = "/openapi/v3/"
)

// Media types of the documents. Clients ask for the protobuf forms with
// an "@", which mime.ParseMediaType rejects, so responses are labeled
// with the dotted alias client-go can parse.
const (
	mediaJSON      = "application/json"
	mediaV2Proto   = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	mediaV2ProtoV1 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	mediaV3Proto   = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	mediaV3ProtoV1 = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

// immutableFor is how long a client may cache a group-version document
// fetched by its hash.
const immutableFor = 365 * 24 * time.Hour

// Handles reports whether path is one ServeHTTP answers: /openapi/v2,
// /openapi/v3 and everything under /openapi/v3/.
func (o *OpenAPI) Handles(path string) bool {
	return path == v2Path || path == v3Root || strings.HasPrefix(path, v3Prefix)
}

// ServeHTTP serves /openapi/v2 (JSON or protobuf by the Accept header),
// the /openapi/v3 index and the /openapi/v3/<api|apis/group>/<version>
// documents (JSON or protobuf), with ETags, If-None-Match and gzip.
func (o *OpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch path := r.URL.Path; {
	case path == v2Path:
		o.serveDocument(w, r, o.v2, mediaV2Proto, mediaV2ProtoV1)
	case path == v3Root || path == v3Prefix:
		enc, err := o.index()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-cache, private")
		serveEncoding(w, r, enc, mediaJSON)
	case strings.HasPrefix(path, v3Prefix):
		o.serveV3(w, r, strings.TrimPrefix(path, v3Prefix))
	default:
		http.NotFound(w, r)
	}
}

// serveV3 serves the document of one group-version. Documents fetched by
// the hash the index gives may be cached for good; a stale hash is
// redirected to the current one.
func (o *OpenAPI) serveV3(w http.ResponseWriter, r *http.Request, key string) {
	doc, ok := o.v3[key]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		j, err := doc.json()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if hash != j.hash {
			http.Redirect(w, r, v3Prefix+key+"?hash="+j.hash, http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().Add(immutableFor).UTC().Format(http.TimeFormat))
	} else {
		w.Header().Set("Cache-Control", "no-cache, private")
	}
	o.serveDocument(w, r, doc, mediaV3Proto, mediaV3ProtoV1)
}

// serveDocument serves doc in JSON or protobuf, as Accept asks;
// protoTypes are the protobuf media types, the one to answer with last.
func (o *OpenAPI) serveDocument(w http.ResponseWriter, r *http.Request, doc *document, protoTypes ...string) {
	offers := append([]string{mediaJSON}, protoTypes...)
	media, ok := negotiate(r.Header.Get("Accept"), offers)
	if !ok {
		http.Error(w, "only "+strings.Join(offers, ", ")+" are served", http.StatusNotAcceptable)
		return
	}
	encode := doc.json
	if media != mediaJSON {
		encode = doc.proto
		media = protoTypes[len(protoTypes)-1]
	}
	enc, err := encode()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	serveEncoding(w, r, enc, media)
}

// serveEncoding writes enc, or 304 when the client holds it already.
func serveEncoding(w http.ResponseWriter, r *http.Request, enc *encoding, media string) {
	h := w.Header()
	h.Set("ETag", enc.etag)
	h.Set("Vary", "Accept, Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), enc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", media)
	h.Set("X-Content-Type-Options", "nosniff")
	body := enc.data
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = enc.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// The client went away if this fails; nothing is left to do.
		_, _ = w.Write(body)
	}
}

// negotiate picks the offer the Accept header prefers: the highest
// quality, then the first listed; wildcards match the first offer. An
// empty header accepts the first offer.
func negotiate(accept string, offers []string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return offers[0], true
	}
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(accept, ",") {
		// Not mime.ParseMediaType: the protobuf media types hold an "@",
		// which RFC 2045 does not allow in a token.
		media, params, _ := strings.Cut(part, ";")
		media = strings.ToLower(strings.TrimSpace(media))
		q, ok := quality(params)
		if !ok || q <= bestQ {
			continue
		}
		for _, offer := range offers {
			if media == offer || media == "*/*" || media == "application/*" {
				best, bestQ = offer, q
				break
			}
		}
	}
	return best, best != ""
}

// quality returns the q parameter of a media range's parameters, 1 when
// absent; false when it is malformed.
func quality(params string) (float64, bool) {
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.TrimSpace(name) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return q, err == nil && q >= 0 && q <= 1
	}
	return 1, true
}

// etagMatches reports whether the If-None-Match header names etag.
func etagMatches(ifNoneMatch, etag string) bool {
	for candidate := range strings.SplitSeq(ifNoneMatch, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag || candidate == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the Accept-Encoding header allows gzip.
func acceptsGzip(acceptEncoding string) bool {
	for part := range strings.SplitSeq(acceptEncoding, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := quality(params)
		return ok && q > 0
	}
	return false
}

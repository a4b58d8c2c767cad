package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// encoding is one serialization of a document, made once.
type encoding struct {
	data []byte
	// hash is the hex SHA-256 of data; etag is it quoted.
	hash string
	etag string
	// gzipped returns data compressed, made on first use.
	gzipped func() []byte
}

func newEncoding(data []byte) *encoding {
	sum := sha256.Sum256(data)
	hash := strings.ToUpper(hex.EncodeToString(sum[:]))
	return &encoding{
		data:    data,
		hash:    hash,
		etag:    `"` + hash + `"`,
		gzipped: sync.OnceValue(func() []byte { return compress(data) }),
	}
}

func compress(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(data) / 8)
	// Writes to a bytes.Buffer cannot fail.
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// document is an OpenAPI document and its serializations, each made on
// first use.
type document struct {
	json  func() (*encoding, error)
	proto func() (*encoding, error)
}

// newV2Document makes the document that build returns on first use; the
// structure is dropped once it is serialized.
func newV2Document(build func() *spec.Swagger) *document {
	d := &document{}
	d.json = sync.OnceValues(func() (*encoding, error) {
		data, err := json.Marshal(build())
		if err != nil {
			return nil, fmt.Errorf("encode OpenAPI v2 document: %w", err)
		}
		return newEncoding(data), nil
	})
	d.proto = sync.OnceValues(func() (*encoding, error) {
		j, err := d.json()
		if err != nil {
			return nil, err
		}
		doc, err := openapi_v2.ParseDocument(j.data)
		if err != nil {
			return nil, fmt.Errorf("convert OpenAPI v2 document to protobuf: %w", err)
		}
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode OpenAPI v2 document as protobuf: %w", err)
		}
		return newEncoding(data), nil
	})
	return d
}

// newV3Document makes the document that build returns on first use; the
// structure is dropped once it is serialized.
func newV3Document(build func() *spec3.OpenAPI) *document {
	d := &document{}
	d.json = sync.OnceValues(func() (*encoding, error) {
		data, err := json.Marshal(build())
		if err != nil {
			return nil, fmt.Errorf("encode OpenAPI v3 document: %w", err)
		}
		return newEncoding(data), nil
	})
	d.proto = sync.OnceValues(func() (*encoding, error) {
		j, err := d.json()
		if err != nil {
			return nil, err
		}
		pb, err := openapi_v3.ParseDocument(j.data)
		if err != nil {
			return nil, fmt.Errorf("convert OpenAPI v3 document to protobuf: %w", err)
		}
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(pb)
		if err != nil {
			return nil, fmt.Errorf("encode OpenAPI v3 document as protobuf: %w", err)
		}
		return newEncoding(data), nil
	})
	return d
}

// v3Index is the body of /openapi/v3: where each group-version's document
// is, with the hash of its content so that clients can cache it.
type v3Index struct {
	Paths map[string]v3IndexEntry `json:"paths"`
}

type v3IndexEntry struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

func (o *OpenAPI) encodeIndex() (*encoding, error) {
	index := v3Index{Paths: make(map[string]v3IndexEntry, len(o.v3))}
	for key, doc := range o.v3 {
		j, err := doc.json()
		if err != nil {
			return nil, err
		}
		index.Paths[key] = v3IndexEntry{ServerRelativeURL: v3Prefix + key + "?hash=" + j.hash}
	}
	data, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI v3 index: %w", err)
	}
	return newEncoding(data), nil
}

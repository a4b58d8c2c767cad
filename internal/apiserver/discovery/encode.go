package discovery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"
)

// format is a wire format of the documents.
type format int

const (
	formatJSON format = iota
	formatYAML
	formatProtobuf
)

// Media types of the formats, and the parameters that select aggregated
// discovery.
const (
	contentTypeJSON     = "application/json"
	contentTypeYAML     = "application/yaml"
	contentTypeProtobuf = "application/vnd.kubernetes.protobuf"
	aggregatedParams    = ";g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

	// ContentTypeAggregated is the media type of aggregated discovery in
	// JSON, which client-go asks for and recognizes in responses.
	ContentTypeAggregated = contentTypeJSON + aggregatedParams
)

// mediaTypes are the media types served, in the order a 406 lists them.
var mediaTypes = []string{contentTypeJSON, contentTypeYAML, contentTypeProtobuf}

// formatOf maps a media type to its format.
var formatOf = map[string]format{
	contentTypeJSON:     formatJSON,
	contentTypeYAML:     formatYAML,
	contentTypeProtobuf: formatProtobuf,
}

// encodeAll prepares obj's documents in every format. JSON and protobuf
// are encoded at once, so that New reports an error; YAML, which few
// clients ask for and which takes most of the time, on first use.
// Aggregated documents carry the apidiscovery parameters in their content
// type.
func encodeAll(obj runtime.Object, aggregated bool) (map[format]*document, error) {
	js, err := encodeJSON(obj)
	if err != nil {
		return nil, err
	}
	var pb bytes.Buffer
	if err := protobuf.NewSerializer(nil, nil).Encode(obj, &pb); err != nil {
		return nil, err
	}
	params := ""
	if aggregated {
		params = aggregatedParams
	}
	return map[format]*document{
		formatJSON:     newDocument(contentTypeJSON+params, js, nil),
		formatYAML:     newDocument(contentTypeYAML+params, nil, func() ([]byte, error) { return yaml.JSONToYAML(js) }),
		formatProtobuf: newDocument(contentTypeProtobuf+params, pb.Bytes(), nil),
	}, nil
}

// encodeJSON renders obj as JSON with a trailing newline, as the API
// server's JSON serializer does.
func encodeJSON(obj any) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// document is one encoded response: its body is given, or rendered on
// first use.
type document struct {
	contentType string
	render      func() ([]byte, error)

	once sync.Once
	body []byte
	etag string
	err  error
}

func newDocument(contentType string, body []byte, render func() ([]byte, error)) *document {
	if render == nil {
		render = func() ([]byte, error) { return body, nil }
	}
	return &document{contentType: contentType, render: render}
}

// get returns the body and its entity tag: a strong validator, distinct
// for each format of a path.
func (d *document) get() (body []byte, etag string, err error) {
	d.once.Do(func() {
		d.body, d.err = d.render()
		sum := sha256.Sum256(d.body)
		d.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	})
	return d.body, d.etag, d.err
}

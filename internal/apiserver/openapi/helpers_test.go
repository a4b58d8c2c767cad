package openapi

import (
	"encoding/json"
	"sync"
	"testing"
)

// builtin is the OpenAPI of the built-in kinds, shared by the tests: it
// is immutable once built.
var builtin struct {
	once sync.Once
	o    *OpenAPI
	err  error
}

func newBuiltin(t testing.TB) *OpenAPI {
	t.Helper()
	builtin.once.Do(func() { builtin.o, builtin.err = New(builtinKinds(t)) })
	if builtin.err != nil {
		t.Fatal(builtin.err)
	}
	return builtin.o
}

// decodeV2 returns the definitions of the served v2 document.
func decodeV2(t *testing.T, o *OpenAPI) map[string]json.RawMessage {
	t.Helper()
	enc, err := o.v2.json()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(enc.data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Definitions
}

// decodeV3 returns the component schemas of a served v3 document.
func decodeV3(t *testing.T, o *OpenAPI, gv string) map[string]json.RawMessage {
	t.Helper()
	d, ok := o.v3[gv]
	if !ok {
		t.Fatalf("no v3 document for %s", gv)
	}
	enc, err := d.json()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(enc.data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas
}

package openapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// normalise re-indents a JSON document so that golden files diff well.
func normalise(t *testing.T, body []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
	return append(bytes.TrimSpace(out.Bytes()), '\n')
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff.\ngot:\n%s", name, got)
	}
}

// TestGoldenSchemas pins the v2 and v3 schemas of a few definitions as
// served in the documents.
func TestGoldenSchemas(t *testing.T) {
	o := newBuiltin(t)
	v2 := decodeV2(t, o)
	v3 := map[string]map[string]json.RawMessage{}
	for _, gv := range []string{"api/v1", "apis/apps/v1"} {
		v3[gv] = decodeV3(t, o, gv)
	}
	for _, tc := range []struct{ name, gv string }{
		{"io.k8s.api.core.v1.Pod", "api/v1"},
		{"io.k8s.api.core.v1.ConfigMap", "api/v1"},
		{"io.k8s.api.apps.v1.Deployment", "apis/apps/v1"},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "api/v1"},
		{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", "apis/apps/v1"},
		{"io.k8s.apimachinery.pkg.api.resource.Quantity", "api/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := v2[tc.name]
			if !ok {
				t.Fatalf("%s is not in the v2 definitions", tc.name)
			}
			checkGolden(t, tc.name+".v2.json", normalise(t, s))
			s, ok = v3[tc.gv][tc.name]
			if !ok {
				t.Fatalf("%s is not in the v3 schemas of %s", tc.name, tc.gv)
			}
			checkGolden(t, tc.name+".v3.json", normalise(t, s))
		})
	}
}

package openapi

import "testing"

// BenchmarkNew measures what server start-up pays: building the
// definitions and paths of every built-in kind.
func BenchmarkNew(b *testing.B) {
	kinds := builtinKinds(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(kinds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeAll measures New plus every serialization the first
// requests make: v2 JSON and protobuf, and the JSON of every v3
// group-version (which the /openapi/v3 index hashes).
func BenchmarkServeAll(b *testing.B) {
	kinds := builtinKinds(b)
	b.ReportAllocs()
	for b.Loop() {
		o, err := New(kinds)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.v2.proto(); err != nil {
			b.Fatal(err)
		}
		if _, err := o.index(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV2Protobuf measures the conversion of the v2 document to
// protobuf, the first kubectl request's cost.
func BenchmarkV2Protobuf(b *testing.B) {
	o, err := New(builtinKinds(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d := newV2Document(nil)
		d.json = o.v2.json
		if _, err := d.proto(); err != nil {
			b.Fatal(err)
		}
	}
}

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

// BenchmarkWithCustom measures what each change to the set of custom
// resources costs before any request: publishing a few CRD versions on
// the built-in documents.
func BenchmarkWithCustom(b *testing.B) {
	base, err := New(builtinKinds(b))
	if err != nil {
		b.Fatal(err)
	}
	custom := []CustomKind{widgetKind("v1"), widgetKind("v2"), widgetKind("v3")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := base.WithCustom(custom); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWithCustomV2 adds the first /openapi/v2 request, which the
// conformance specs make after every change: the whole document is
// built and encoded again.
func BenchmarkWithCustomV2(b *testing.B) {
	base, err := New(builtinKinds(b))
	if err != nil {
		b.Fatal(err)
	}
	custom := []CustomKind{widgetKind("v1")}
	b.ReportAllocs()
	for b.Loop() {
		o, err := base.WithCustom(custom)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.v2.json(); err != nil {
			b.Fatal(err)
		}
	}
}

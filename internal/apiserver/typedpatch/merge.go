// Package typedpatch applies JSON merge patches (RFC 7386) straight to
// typed API objects, field by field, instead of encoding the object to
// JSON, merging documents and decoding the result.
//
// The document round trip costs a pod status patch about four times what
// the merge itself does: the whole pod is encoded, parsed into generic maps,
// re-encoded and strictly decoded, although the patch names a handful of
// fields. Here only the patch is parsed; the fields it names are set on a
// copy the caller owns, and its leaves (strings, numbers, lists, quantities,
// times) are decoded with the same strict, case-sensitive decoder the API
// server uses for request bodies.
//
// The fast path gives up (Merge reports false) on anything whose outcome it
// cannot promise to be identical to the round trip's: a field the type does
// not have, a value that does not decode strictly, a change of kind, a
// patch that is not an object, map values that are themselves objects, and
// for strategic merge patches any list or directive (lists are merged by
// key there, not replaced) and any field with a strategy of its own. The caller then discards the object and takes
// the document path, which reports the error or warning the request
// deserves.
package typedpatch

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	sigsjson "sigs.k8s.io/json"
)

// Merge applies patch to obj, a pointer to a struct the caller owns, and
// reports whether it could. On false obj may be partly patched and must be
// discarded. strategic says the patch is a strategic merge patch: it is
// applied only when it has no lists and no $-directives, where strategic
// and JSON merge patches agree.
func Merge(obj any, patch []byte, strategic bool) bool {
	if strategic && (bytes.IndexByte(patch, '[') >= 0 || bytes.Contains(patch, []byte(`"$`))) {
		return false
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	// Validated once here: parseObject then only splits members.
	if !json.Valid(patch) {
		return false
	}
	members, ok := parseObject(patch)
	if !ok {
		return false
	}
	// The document path decodes into the store's kind; a patch that
	// changes apiVersion or kind is its to refuse.
	if _, ok := members["apiVersion"]; ok {
		return false
	}
	if _, ok := members["kind"]; ok {
		return false
	}
	return mergeStruct(v.Elem(), members, strategic)
}

// parseObject splits a JSON object, valid JSON (Merge checks the whole
// patch once), into its members, undecoded: slices of data. A member
// named twice keeps its last value, as decoding into a map does.
// Unmarshaling into a map of raw messages instead would check and scan
// each nested object again at every level it is split at.
func parseObject(data []byte) (map[string]json.RawMessage, bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, false
	}
	members := map[string]json.RawMessage{}
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == '}' {
		return members, true
	}
	for i < len(data) && data[i] == '"' {
		end := skipString(data, i)
		name, ok := memberName(data[i:end])
		if !ok {
			return nil, false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		start := skipSpace(data, i+1)
		end = skipValue(data, start)
		members[name] = data[start:end]
		i = skipSpace(data, end)
		if i < len(data) && data[i] == '}' {
			return members, true
		}
		if i >= len(data) || data[i] != ',' {
			return nil, false
		}
		i = skipSpace(data, i+1)
	}
	return nil, false
}

// memberName decodes a quoted member name; only one with escapes needs
// the decoder.
func memberName(quoted []byte) (string, bool) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), true
	}
	var name string
	return name, json.Unmarshal(quoted, &name) == nil
}

func endsLiteral(c byte) bool { return c == ',' || c == '}' || c == ']' || isSpace(c) }

// isSpace says c is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string that starts (with its
// quote) at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index after the value that starts at i: a string,
// an object or array (to its matching bracket), or a literal or number (to
// the next delimiter).
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(data) && !endsLiteral(data[i]) {
			i++
		}
		return i
	}
}

// mergeStruct merges an object's members into the fields of struct v. A
// strategic patch gives up on fields with a patch strategy of their own
// (a replaced selector, retained keys): only plain merging is served.
func mergeStruct(v reflect.Value, members map[string]json.RawMessage, strategic bool) bool {
	fields := fieldsOf(v.Type())
	for name, raw := range members {
		f, ok := fields[name]
		if !ok || f.index == nil || (strategic && f.ownStrategy) {
			return false
		}
		if !mergeValue(v.FieldByIndex(f.index), raw, strategic) {
			return false
		}
	}
	return true
}

// mergeValue merges one patch member into field v: null clears it, an
// object is merged into a struct or map, anything else replaces it.
func mergeValue(v reflect.Value, raw json.RawMessage, strategic bool) bool {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		v.SetZero()
		return true
	}
	if len(raw) == 0 || raw[0] != '{' || isLeaf(v.Type()) {
		return decodeInto(v, raw)
	}
	members, ok := parseObject(raw)
	if !ok {
		return false
	}
	switch v.Kind() {
	case reflect.Struct:
		return mergeStruct(v, members, strategic)
	case reflect.Pointer:
		if v.Type().Elem().Kind() != reflect.Struct {
			return false
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return mergeStruct(v.Elem(), members, strategic)
	case reflect.Map:
		return mergeMap(v, members)
	default:
		return false
	}
}

// mergeMap merges an object's members into map v, whose values must be
// leaves: merging into an object held by a map would need the map value
// copied out and back, which no patch the fast path serves needs.
func mergeMap(v reflect.Value, members map[string]json.RawMessage) bool {
	t := v.Type()
	if t.Key().Kind() != reflect.String || !isLeaf(t.Elem()) {
		return false
	}
	if v.IsNil() {
		// The round trip turns even a patch of only nulls into an empty
		// (not absent) object.
		v.Set(reflect.MakeMapWithSize(t, len(members)))
	}
	for key, raw := range members {
		k := reflect.ValueOf(key).Convert(t.Key())
		if string(bytes.TrimSpace(raw)) == "null" {
			v.SetMapIndex(k, reflect.Value{})
			continue
		}
		elem := reflect.New(t.Elem()).Elem()
		if !decodeInto(elem, raw) {
			return false
		}
		v.SetMapIndex(k, elem)
	}
	return true
}

// decodeInto replaces v with raw decoded strictly, as the API server
// decodes bodies: case-sensitive, no unknown or duplicate fields.
func decodeInto(v reflect.Value, raw json.RawMessage) bool {
	fresh := reflect.New(v.Type())
	strict, err := sigsjson.UnmarshalStrict(raw, fresh.Interface(), sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil || len(strict) > 0 {
		return false
	}
	v.Set(fresh.Elem())
	return true
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// isLeaf says values of t are replaced whole by a patch: everything but
// structs, pointers to structs and maps, and those too when they encode
// themselves (times, quantities, int-or-strings, raw extensions), whose
// JSON need not mirror their fields.
func isLeaf(t reflect.Type) bool {
	if cached, ok := leafTypes.Load(t); ok {
		return cached.(bool)
	}
	leaf := typeIsLeaf(t)
	leafTypes.Store(t, leaf)
	return leaf
}

var leafTypes sync.Map // reflect.Type → bool

func typeIsLeaf(t reflect.Type) bool {
	for _, c := range []reflect.Type{t, reflect.PointerTo(t)} {
		if c.Implements(jsonUnmarshaler) || c.Implements(jsonMarshaler) || c.Implements(textUnmarshaler) {
			return true
		}
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return false
	case reflect.Pointer:
		return typeIsLeaf(t.Elem()) || t.Elem().Kind() != reflect.Struct
	default:
		return true
	}
}

// patchField is a struct field as patches name it.
type patchField struct {
	index []int // into the struct, through inlined structs; nil when two fields share the name
	// ownStrategy says its strategic merge patch strategy is not a plain
	// merge (a replaced selector, retained keys).
	ownStrategy bool
}

// fieldIndexes caches, per struct type, its fields by JSON name, inline
// (embedded) structs flattened.
var fieldIndexes sync.Map // reflect.Type → map[string]patchField

func fieldsOf(t reflect.Type) map[string]patchField {
	if cached, ok := fieldIndexes.Load(t); ok {
		return cached.(map[string]patchField)
	}
	fields := map[string]patchField{}
	collectFields(t, nil, fields)
	fieldIndexes.Store(t, fields)
	return fields
}

// collectFields adds the JSON-named fields of struct t, reached through
// index prefix, to fields. Embedded structs without a name are inlined,
// as encoding/json does; embedded pointers are not followed (no API type
// has one, and a nil one could not be indexed into).
func collectFields(t reflect.Type, prefix []int, fields map[string]patchField) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), prefix...), i)
		if f.Anonymous && name == "" {
			if f.Type.Kind() == reflect.Struct {
				collectFields(f.Type, index, fields)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		// A shallower field hides an inlined one of the same name; two at
		// one depth hide each other (encoding/json's rules), and neither
		// is served here.
		if prior, ok := fields[name]; ok && len(prior.index) <= len(index) {
			if len(prior.index) == len(index) {
				fields[name] = patchField{}
			}
			continue
		}
		strategy := f.Tag.Get("patchStrategy")
		fields[name] = patchField{index: index, ownStrategy: strategy != "" && strategy != "merge"}
	}
}

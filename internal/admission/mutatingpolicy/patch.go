package mutatingpolicy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// applyConfiguration merges the apply configuration v into obj and
// returns the result; obj is not changed.
func applyConfiguration(obj map[string]any, v ref.Val) (map[string]any, error) {
	if _, ok := v.(traits.Mapper); !ok {
		return nil, fmt.Errorf("apply configuration must evaluate to an Object, got %s", v.Type().TypeName())
	}
	patch, err := jsonValue(v)
	if err != nil {
		return nil, fmt.Errorf("apply configuration: %w", err)
	}
	return mergeMaps(obj, patch.(map[string]any)), nil
}

// mergeMaps merges patch into a copy of obj as server-side apply merges
// the fields an apply configuration sets: maps key by key, everything
// else (scalars, lists) replaced. A null removes the field. Lists are not
// merged by key, as lists of type map would be: they are replaced whole.
// Only the maps on the paths patch touches are copied.
func mergeMaps(obj, patch map[string]any) map[string]any {
	out := make(map[string]any, len(obj)+len(patch))
	for k, v := range obj {
		out[k] = v
	}
	for k, pv := range patch {
		if pv == nil {
			delete(out, k)
			continue
		}
		pm, patchIsMap := pv.(map[string]any)
		om, objIsMap := out[k].(map[string]any)
		if patchIsMap && objIsMap {
			out[k] = mergeMaps(om, pm)
			continue
		}
		if patchIsMap {
			out[k] = mergeMaps(nil, pm) // drops nulls inside
			continue
		}
		out[k] = pv
	}
	return out
}

// jsonPatch applies the JSON patch operations v (a list of JSONPatch) to
// obj and returns the result; obj is not changed.
func jsonPatch(obj map[string]any, v ref.Val) (map[string]any, error) {
	list, ok := v.(traits.Lister)
	if !ok {
		return nil, fmt.Errorf("JSON patch must evaluate to a list of JSONPatch, got %s", v.Type().TypeName())
	}
	ops, err := jsonValue(list)
	if err != nil {
		return nil, fmt.Errorf("JSON patch: %w", err)
	}
	for i, op := range ops.([]any) {
		m, ok := op.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("JSON patch operation %d is not a JSONPatch", i)
		}
		if s, _ := m["op"].(string); s == "" {
			return nil, fmt.Errorf("JSON patch operation %d has no op", i)
		}
	}
	patchJSON, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode JSON patch: %w", err)
	}
	patch, err := jsonpatch.DecodePatch(patchJSON)
	if err != nil {
		return nil, fmt.Errorf("decode JSON patch: %w", err)
	}
	doc, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("JSON patch: %w", err)
	}
	out := map[string]any{}
	// utiljson keeps integers int64, as the unstructured converter does.
	if err := utiljson.Unmarshal(patched, &out); err != nil {
		return nil, fmt.Errorf("decode patched object: %w", err)
	}
	return out, nil
}

// jsonValue converts a CEL value to the JSON-like value of unstructured
// objects: maps with string keys, []any, string, int64, float64, bool,
// nil. Bytes become base64 (as JSON encodes []byte), timestamps and
// durations their string forms.
func jsonValue(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		if uint64(v) > math.MaxInt64 {
			return nil, fmt.Errorf("uint %d does not fit an integer field", uint64(v))
		}
		return int64(v), nil
	case types.Double:
		return float64(v), nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString(v), nil
	case types.Timestamp, types.Duration:
		return jsonValue(v.ConvertToType(types.StringType))
	case *types.Err:
		return nil, v
	case traits.Mapper:
		out := map[string]any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is a %s, not a string", k.Value(), k.Type().TypeName())
			}
			val, err := jsonValue(v.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = val
		}
		return out, nil
	case traits.Lister:
		out := []any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			val, err := jsonValue(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value of type %s", v.Type().TypeName())
}

// decode converts the mutated map m into a new object of obj's Go type,
// refusing fields the type does not have: an *unstructured.Unstructured
// simply holds m.
func decode(obj runtime.Object, m map[string]any) (runtime.Object, error) {
	if _, ok := obj.(*unstructured.Unstructured); ok {
		return &unstructured.Unstructured{Object: m}, nil
	}
	t := reflect.TypeOf(obj)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("cannot mutate a %T", obj)
	}
	out, ok := reflect.New(t.Elem()).Interface().(runtime.Object)
	if !ok {
		return nil, fmt.Errorf("cannot mutate a %T", obj)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m, out, true); err != nil {
		return nil, fmt.Errorf("mutated object is not a valid %s: %w", t.Elem().Name(), err)
	}
	return out, nil
}

// store puts mutated (from decode) into obj, in place: the caller of
// admission holds obj. obj's type meta is kept (objects inside the server
// usually have none).
func store(obj, mutated runtime.Object) error {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.Object = mutated.(*unstructured.Unstructured).Object
		return nil
	}
	dst, src := reflect.ValueOf(obj), reflect.ValueOf(mutated)
	if dst.Type() != src.Type() {
		return errors.New("mutated object changed type")
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	dst.Elem().Set(src.Elem())
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return nil
}

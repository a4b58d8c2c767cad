package schema

import (
	"encoding/json"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeschema "k8s.io/apimachinery/pkg/runtime/schema"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// Validate checks obj against the schema: the OpenAPI value constraints
// (types, integer vs number, required, enum, nullable, bounds, lengths,
// pattern, item and property counts, checked formats, int-or-string,
// additionalProperties, allOf/anyOf/oneOf/not), then the apiVersion, kind
// and metadata of embedded resources, then the uniqueness of
// x-kubernetes-list-type set and map items. Errors read like
// kube-apiserver's, e.g. `spec.size: Invalid value: "string": spec.size in
// body must be of type integer: "string"`. Call it on pruned and defaulted
// objects. The root metadata is validated elsewhere. An object that passes
// is then checked by the CEL rules (x-kubernetes-validations, rules.go).
func (s *Schema) Validate(obj map[string]any) field.ErrorList {
	return s.ValidateUpdate(obj, nil)
}

// ValidateUpdate is Validate for an update of old (nil for a create): the
// CEL transition rules, which use oldSelf, run only where old has a value.
func (s *Schema) ValidateUpdate(obj, old map[string]any) field.ErrorList {
	if s == nil || s.structural == nil {
		return nil
	}
	errs := resultErrors(nil, s.validator.Validate(obj))
	errs = append(errs, validateEmbedded(nil, obj, s.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
	if len(errs) > 0 || s.rules == nil {
		return errs
	}
	var oldValue any
	if old != nil {
		oldValue = old
	}
	return s.rules.validate(nil, obj, oldValue)
}

// resultErrors maps the validator's errors to field errors under fldPath,
// with the types kube-apiserver gives them (Required, NotSupported,
// TooLong, TooMany, TypeInvalid, else Invalid).
func resultErrors(fldPath *field.Path, result *validate.Result) field.ErrorList {
	if result == nil || result.IsValid() {
		return nil
	}
	var errs field.ErrorList
	for _, err := range result.Errors {
		verr, ok := err.(*openapierrors.Validation) //nolint:errorlint // the validator returns these unwrapped
		if !ok {
			errs = append(errs, field.Invalid(fldPath, "", err.Error()))
			continue
		}
		p := fldPath
		if name := strings.TrimPrefix(verr.Name, "."); name != "" {
			p = p.Child(name)
		}
		var value any = ""
		if verr.Value != nil {
			value = verr.Value
		}
		switch verr.Code() {
		case openapierrors.RequiredFailCode:
			errs = append(errs, field.Required(p, ""))
		case openapierrors.EnumFailCode:
			errs = append(errs, field.NotSupported(p, verr.Value, enumStrings(verr.Values)))
		case openapierrors.TooLongFailCode:
			errs = append(errs, field.TooLong(p, "", int(asInt64(verr.Valid))))
		case openapierrors.MaxItemsFailCode, openapierrors.TooManyPropertiesCode:
			errs = append(errs, field.TooMany(p, int(asInt64(verr.Value)), int(asInt64(verr.Valid))))
		case openapierrors.InvalidTypeCode:
			errs = append(errs, field.TypeInvalid(p, value, verr.Error()))
		default:
			errs = append(errs, field.Invalid(p, value, verr.Error()))
		}
	}
	return errs
}

// enumStrings renders allowed values for NotSupported: strings as they
// are, anything else as JSON.
func enumStrings(values []any) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if s, ok := v.(string); ok {
			out = append(out, s)
			continue
		}
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	return out
}

// asInt64 reads a count or limit from a validation error, -1 if absent.
func asInt64(v any) int64 {
	if i, ok := v.(int64); ok {
		return i
	}
	return -1
}

// validateEmbedded checks the apiVersion, kind and metadata of every
// x-kubernetes-embedded-resource object in x (and of x itself if isRoot,
// which ValidateCRDSchema uses for defaults).
func validateEmbedded(fldPath *field.Path, x any, s *structuralschema.Structural, isRoot bool) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	switch x := x.(type) {
	case map[string]any:
		if s.XEmbeddedResource && (fldPath != nil || isRoot) {
			errs = append(errs, validateEmbeddedResource(fldPath, x)...)
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				errs = append(errs, validateEmbedded(fldPath.Child(k), v, &prop, false)...)
			} else if s.AdditionalProperties != nil {
				errs = append(errs, validateEmbedded(fldPath.Key(k), v, s.AdditionalProperties.Structural, false)...)
			}
		}
	case []any:
		for i, v := range x {
			errs = append(errs, validateEmbedded(fldPath.Index(i), v, s.Items, false)...)
		}
	}
	return errs
}

// validateEmbeddedResource checks one embedded object: apiVersion and
// kind are required and well-formed, metadata (optional) must decode as
// ObjectMeta and be valid for a create, with any name allowed in a URL
// path segment.
func validateEmbeddedResource(fldPath *field.Path, x map[string]any) field.ErrorList {
	var errs field.ErrorList
	if _, ok := x["apiVersion"]; !ok {
		errs = append(errs, field.Required(fldPath.Child("apiVersion"), ""))
	}
	if _, ok := x["kind"]; !ok {
		errs = append(errs, field.Required(fldPath.Child("kind"), ""))
	}
	if v, ok := x["apiVersion"]; ok {
		p := fldPath.Child("apiVersion")
		apiVersion, isString := v.(string)
		switch {
		case !isString:
			errs = append(errs, field.Invalid(p, v, "must be a string"))
		case apiVersion == "":
			errs = append(errs, field.Invalid(p, apiVersion, "must not be empty"))
		default:
			if _, err := runtimeschema.ParseGroupVersion(apiVersion); err != nil {
				errs = append(errs, field.Invalid(p, apiVersion, err.Error()))
			}
		}
	}
	if v, ok := x["kind"]; ok {
		p := fldPath.Child("kind")
		kind, isString := v.(string)
		switch {
		case !isString:
			errs = append(errs, field.Invalid(p, v, "must be a string"))
		case kind == "":
			errs = append(errs, field.Invalid(p, kind, "must not be empty"))
		default:
			if msgs := utilvalidation.IsDNS1035Label(strings.ToLower(kind)); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p, kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
			}
		}
	}
	if v, ok := x["metadata"]; ok {
		p := fldPath.Child("metadata")
		meta := &metav1.ObjectMeta{}
		raw, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(raw, meta)
		}
		if err != nil {
			return append(errs, field.Invalid(p, v, err.Error()))
		}
		if meta.Name == "" {
			meta.Name = "fakename" // a template need not be named; only what it sets is checked
		}
		errs = append(errs, metavalidation.ValidateObjectMeta(meta, meta.Namespace != "", pathSegmentName, p)...)
	}
	return errs
}

// pathSegmentName accepts any name usable as a URL path segment, all an
// embedded resource's name must be.
func pathSegmentName(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

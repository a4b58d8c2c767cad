package openapi

import (
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// modelNamer is implemented by the API types whose generated code names
// their OpenAPI model.
type modelNamer interface {
	OpenAPIModelName() string
}

// definitionName returns the OpenAPI definition name of a named Go type:
// the OpenAPIModelName it reports when it has one, else its package path
// with the domain reversed and slashes turned into dots, then the type
// name (k8s.io/api/core/v1.Pod → io.k8s.api.core.v1.Pod).
func definitionName(t reflect.Type) string {
	if n, ok := as[modelNamer](t); ok {
		name := n.OpenAPIModelName()
		// A method promoted from an embedded field (TypeMeta) names the
		// field's type, not t.
		if name != "" && !slices.ContainsFunc(embedded(t), func(e reflect.Type) bool {
			en, ok := as[modelNamer](e)
			return ok && en.OpenAPIModelName() == name
		}) {
			return name
		}
	}
	return packageName(t.PkgPath()) + "." + t.Name()
}

// embedded returns the types of the fields embedded in struct t.
func embedded(t reflect.Type) []reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	var types []reflect.Type
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous {
			types = append(types, deref(f.Type))
		}
	}
	return types
}

// packageName turns a Go package path into the dotted prefix of the
// OpenAPI names of its types.
func packageName(pkgPath string) string {
	domain, rest, _ := strings.Cut(pkgPath, "/")
	parts := strings.Split(domain, ".")
	slices.Reverse(parts)
	name := strings.Join(parts, ".")
	if rest != "" {
		name += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return name
}

// groupIdent is the group's name in operation IDs: "Core" for the legacy
// group, else the group without its .k8s.io suffix in upper camel case
// (rbac.authorization.k8s.io → RbacAuthorization).
func groupIdent(group string) string {
	if group == "" {
		return "Core"
	}
	var b strings.Builder
	for part := range strings.SplitSeq(strings.TrimSuffix(group, ".k8s.io"), ".") {
		for word := range strings.SplitSeq(part, "-") {
			b.WriteString(upperFirst(word))
		}
	}
	return b.String()
}

// tag is the operation tag of a group-version, such as core_v1 or
// rbacAuthorization_v1.
func tag(gv schema.GroupVersion) string {
	return lowerFirst(groupIdent(gv.Group)) + "_" + gv.Version
}

// opPrefix is the group-version part of operation IDs, such as CoreV1.
func opPrefix(gv schema.GroupVersion) string {
	return groupIdent(gv.Group) + upperFirst(gv.Version)
}

// gvPath is the URL path prefix of a group-version without its leading
// slash: api/v1 or apis/<group>/<version>. It is also the key of the
// group-version in the /openapi/v3 index.
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

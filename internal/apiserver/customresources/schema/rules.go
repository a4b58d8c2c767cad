package schema

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// CEL validation rules (x-kubernetes-validations): each rule of a schema
// node is evaluated with `self` bound to the node's value, and, for
// transition rules, `oldSelf` to the value it replaces on an update.
// Variables are dynamically typed; a rule that does not compile here (one
// that uses the Kubernetes CEL libraries: quantity, url, ip…) is left out
// rather than refusing every object.

// ruleCostLimit bounds one rule's evaluation, as upstream's per-call limit.
const ruleCostLimit = 1_000_000

var ruleEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("self", cel.DynType),
		cel.Variable("oldSelf", cel.DynType),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(ext.StringsVersion(2)),
		ext.Lists(),
		ext.Sets(),
		ext.Math(),
		ext.Encoders(),
	)
})

// rule is one compiled x-kubernetes-validations rule.
type rule struct {
	def        apiextensionsv1.ValidationRule
	prg        cel.Program
	message    cel.Program // messageExpression, if it compiled
	transition bool        // uses oldSelf: evaluated only on updates
}

// ruleNode is a schema node's rules and the nodes below it that have any.
type ruleNode struct {
	rules      []rule
	properties map[string]*ruleNode
	items      *ruleNode
	additional *ruleNode
}

// compileRules compiles the rules of s and below; nil when there are none.
func compileRules(s *structuralschema.Structural) *ruleNode {
	if s == nil {
		return nil
	}
	n := &ruleNode{}
	env, err := ruleEnv()
	if err != nil {
		return nil
	}
	for _, def := range s.XValidations {
		ast, iss := env.Compile(def.Rule)
		if iss.Err() != nil {
			continue
		}
		prg, err := env.Program(ast, cel.CostLimit(ruleCostLimit))
		if err != nil {
			continue
		}
		r := rule{def: def, prg: prg, transition: usesOldSelf(ast)}
		if def.MessageExpression != "" {
			if mast, iss := env.Compile(def.MessageExpression); iss.Err() == nil {
				r.message, _ = env.Program(mast, cel.CostLimit(ruleCostLimit))
			}
		}
		n.rules = append(n.rules, r)
	}
	for name, prop := range s.Properties {
		if sub := compileRules(&prop); sub != nil {
			if n.properties == nil {
				n.properties = map[string]*ruleNode{}
			}
			n.properties[name] = sub
		}
	}
	n.items = compileRules(s.Items)
	if s.AdditionalProperties != nil {
		n.additional = compileRules(s.AdditionalProperties.Structural)
	}
	if len(n.rules) == 0 && n.properties == nil && n.items == nil && n.additional == nil {
		return nil
	}
	return n
}

// usesOldSelf reports whether a compiled rule refers to oldSelf.
func usesOldSelf(ast *cel.Ast) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == "oldSelf" {
			return true
		}
	}
	return strings.Contains(ast.Source().Content(), "oldSelf")
}

// validate evaluates the rules at value (and below), old being the value it
// replaces (nil on a create, or where nothing corresponds).
func (n *ruleNode) validate(path *field.Path, value, old any) field.ErrorList {
	if n == nil || value == nil {
		return nil
	}
	var errs field.ErrorList
	for _, r := range n.rules {
		if r.transition && old == nil {
			continue
		}
		errs = append(errs, r.check(path, value, old)...)
	}
	switch v := value.(type) {
	case map[string]any:
		oldMap, _ := old.(map[string]any)
		for name, sub := range n.properties {
			if child, ok := v[name]; ok {
				errs = append(errs, sub.validate(path.Child(name), child, oldMap[name])...)
			}
		}
		if n.additional != nil {
			for key, child := range v {
				errs = append(errs, n.additional.validate(path.Key(key), child, oldMap[key])...)
			}
		}
	case []any:
		// List items have no old value to compare with: their transition
		// rules (correlated by key upstream) are not evaluated.
		for i, child := range v {
			errs = append(errs, n.items.validate(path.Index(i), child, nil)...)
		}
	}
	return errs
}

// check evaluates one rule.
func (r rule) check(path *field.Path, value, old any) field.ErrorList {
	vars := map[string]any{"self": value}
	if old != nil {
		vars["oldSelf"] = old
	}
	if r.def.FieldPath != "" {
		for _, part := range strings.Split(strings.TrimPrefix(r.def.FieldPath, "."), ".") {
			path = path.Child(part)
		}
	}
	out, _, err := r.prg.Eval(vars)
	if err != nil {
		return field.ErrorList{field.Invalid(path, typeName(value), fmt.Sprintf("%s: %v", r.def.Rule, err))}
	}
	if ok, isBool := out.(celtypes.Bool); isBool && bool(ok) {
		return nil
	}
	message := r.def.Message
	if r.message != nil {
		if m, _, err := r.message.Eval(vars); err == nil {
			if s, ok := m.Value().(string); ok && s != "" {
				message = s
			}
		}
	}
	if message == "" {
		message = "failed rule: " + r.def.Rule
	}
	if r.def.Reason != nil {
		switch *r.def.Reason {
		case apiextensionsv1.FieldValueRequired:
			return field.ErrorList{field.Required(path, message)}
		case apiextensionsv1.FieldValueForbidden:
			return field.ErrorList{field.Forbidden(path, message)}
		case apiextensionsv1.FieldValueDuplicate:
			return field.ErrorList{field.Duplicate(path, message)}
		}
	}
	return field.ErrorList{field.Invalid(path, typeName(value), message)}
}

// typeName is how upstream shows the value of a failed rule: its JSON type.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, int:
		return "integer"
	case float64:
		return "number"
	}
	return "null"
}

package mutatingpolicy

import (
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/tugcluster/tug/internal/admission/policycel"
)

// newEnv returns the CEL environment of mutations: the policy
// environment with the Object and JSONPatch types and
// jsonpatch.escapeKey. It is built once.
var newEnv = sync.OnceValues(func() (*cel.Env, error) {
	base, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	return policycel.NewEnv(
		cel.CustomTypeProvider(typeProvider{Provider: base}),
		cel.Function("jsonpatch.escapeKey",
			cel.Overload("jsonpatch_escapeKey_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					return types.String(escapeKey(string(s)))
				}))),
	)
})

// escapeKey escapes a key for use in a JSON pointer (RFC 6901).
func escapeKey(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// mutation is one compiled entry of spec.mutations.
type mutation struct {
	patchType admissionregistrationv1.PatchType
	expr      policycel.Expr
}

// program is a policy compiled.
type program struct {
	matchConditions []policycel.NamedExpr
	variables       []policycel.NamedExpr
	mutations       []mutation
}

func compilePolicy(policy *admissionregistrationv1.MutatingAdmissionPolicy) (*program, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	spec := &policy.Spec
	pr := &program{
		matchConditions: policycel.CompileConditions(env, spec.MatchConditions),
		variables:       policycel.CompileVariables(env, spec.Variables),
	}
	for _, m := range spec.Mutations {
		var source string
		switch {
		case m.PatchType == admissionregistrationv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			source = m.ApplyConfiguration.Expression
		case m.PatchType == admissionregistrationv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			source = m.JSONPatch.Expression
		}
		// A mutation without its expression fails to compile, under the
		// failure policy, like any other broken expression.
		pr.mutations = append(pr.mutations, mutation{patchType: m.PatchType, expr: policycel.Compile(env, source)})
	}
	return pr, nil
}

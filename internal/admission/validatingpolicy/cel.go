package validatingpolicy

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/tugcluster/tug/internal/admission/policycel"
)

// newEnv returns the CEL environment of policy expressions. It is built
// once: environments are safe for concurrent use.
var newEnv = sync.OnceValues(func() (*cel.Env, error) { return policycel.NewEnv() })

type validation struct {
	expr        policycel.Expr
	messageExpr policycel.Expr // Source "" when there is no messageExpression
	spec        admissionregistrationv1.Validation
}

// program is a policy compiled.
type program struct {
	matchConditions []policycel.NamedExpr
	variables       []policycel.NamedExpr
	validations     []validation
}

func compilePolicy(policy *admissionregistrationv1.ValidatingAdmissionPolicy) (*program, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	spec := &policy.Spec
	pr := &program{
		matchConditions: policycel.CompileConditions(env, spec.MatchConditions),
		variables:       policycel.CompileVariables(env, spec.Variables),
	}
	for i := range spec.Validations {
		v := &spec.Validations[i]
		val := validation{expr: policycel.Compile(env, v.Expression), spec: *v}
		if v.MessageExpression != "" {
			val.messageExpr = policycel.Compile(env, v.MessageExpression)
		}
		pr.validations = append(pr.validations, val)
	}
	return pr, nil
}

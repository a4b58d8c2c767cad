package validatingpolicy

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Variables every expression may use. All are dynamically typed: objects
// come in as JSON-like maps, so type errors show up at evaluation time.
const (
	varObject    = "object"
	varOldObject = "oldObject"
	varRequest   = "request"
	varParams    = "params"
	varNamespace = "namespaceObject"
	varVariables = "variables"
)

// costLimit bounds the work of one evaluation, as upstream's per-call
// limit does, so that a policy cannot stall writes.
const costLimit = 1_000_000

// newEnv returns the CEL environment of policy expressions. It is built
// once: environments are safe for concurrent use.
var newEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(varObject, cel.DynType),
		cel.Variable(varOldObject, cel.DynType),
		cel.Variable(varRequest, cel.DynType),
		cel.Variable(varParams, cel.DynType),
		cel.Variable(varNamespace, cel.DynType),
		cel.Variable(varVariables, cel.MapType(cel.StringType, cel.DynType)),
		cel.HomogeneousAggregateLiterals(),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(ext.StringsVersion(2)),
		ext.Lists(),
		ext.Sets(),
		ext.Math(),
		ext.Encoders(),
	)
})

// expr is one compiled expression; err is its compilation error, which
// surfaces (under the failure policy) when the expression is needed.
type expr struct {
	source string
	prg    cel.Program
	err    error
}

func compile(env *cel.Env, source string) expr {
	e := expr{source: source}
	ast, iss := env.Compile(source)
	if iss.Err() != nil {
		e.err = fmt.Errorf("compilation error: %w", iss.Err())
		return e
	}
	e.prg, e.err = env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if e.err != nil {
		e.err = fmt.Errorf("compilation error: %w", e.err)
	}
	return e
}

// eval runs e against vars; errors read as upstream's.
func (e expr) eval(ctx context.Context, vars map[string]any) (ref.Val, error) {
	if e.err != nil {
		return nil, e.err
	}
	v, _, err := e.prg.ContextEval(ctx, vars)
	if err != nil {
		return nil, fmt.Errorf("expression '%s' resulted in error: %w", e.source, err)
	}
	return v, nil
}

// evalBool runs an expression that must yield a bool.
func (e expr) evalBool(ctx context.Context, vars map[string]any) (bool, error) {
	v, err := e.eval(ctx, vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(celtypes.Bool)
	if !ok {
		return false, fmt.Errorf("expression '%s' resulted in error: expected bool, got %s", e.source, v.Type().TypeName())
	}
	return bool(b), nil
}

type variable struct {
	name string
	expr expr
}

type validation struct {
	expr        expr
	messageExpr expr // source "" when there is no messageExpression
	spec        admissionregistrationv1.Validation
}

// program is a policy compiled.
type program struct {
	resourceVersion string
	matchConditions []namedExpr
	variables       []variable
	validations     []validation
}

type namedExpr struct {
	name string
	expr expr
}

// evalVariables evaluates the policy's variables in order into the value
// of `variables`. A variable that fails holds its error, which surfaces
// only where it is used, as upstream's lazy variables behave.
func (pr *program) evalVariables(ctx context.Context, vars map[string]any) {
	values := map[ref.Val]ref.Val{}
	vars[varVariables] = celtypes.NewRefValMap(celtypes.DefaultTypeAdapter, values)
	for _, v := range pr.variables {
		val, err := v.expr.eval(ctx, vars)
		if err != nil {
			val = celtypes.WrapErr(err)
		}
		values[celtypes.String(v.name)] = val
	}
}

// programCache holds compiled policies by UID; an entry is replaced when
// the policy's resourceVersion changes and dropped when it is gone.
type programCache struct {
	mu       sync.Mutex
	programs map[types.UID]*program
}

func newProgramCache() *programCache {
	return &programCache{programs: map[types.UID]*program{}}
}

func (c *programCache) get(policy *admissionregistrationv1.ValidatingAdmissionPolicy) (*program, error) {
	c.mu.Lock()
	pr := c.programs[policy.UID]
	c.mu.Unlock()
	if pr != nil && pr.resourceVersion == policy.ResourceVersion {
		return pr, nil
	}
	pr, err := compilePolicy(policy)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.programs[policy.UID] = pr
	c.mu.Unlock()
	return pr, nil
}

// prune forgets deleted policies; it does work only when the cache holds
// more programs than there are policies.
func (c *programCache) prune(policies []admissionregistrationv1.ValidatingAdmissionPolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.programs) <= len(policies) {
		return
	}
	live := make(map[types.UID]bool, len(policies))
	for i := range policies {
		live[policies[i].UID] = true
	}
	for uid := range c.programs {
		if !live[uid] {
			delete(c.programs, uid)
		}
	}
}

func compilePolicy(policy *admissionregistrationv1.ValidatingAdmissionPolicy) (*program, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	spec := &policy.Spec
	pr := &program{resourceVersion: policy.ResourceVersion}
	for _, mc := range spec.MatchConditions {
		pr.matchConditions = append(pr.matchConditions, namedExpr{name: mc.Name, expr: compile(env, mc.Expression)})
	}
	for _, v := range spec.Variables {
		pr.variables = append(pr.variables, variable{name: v.Name, expr: compile(env, v.Expression)})
	}
	for i := range spec.Validations {
		v := &spec.Validations[i]
		val := validation{expr: compile(env, v.Expression), spec: *v}
		if v.MessageExpression != "" {
			val.messageExpr = compile(env, v.MessageExpression)
		}
		pr.validations = append(pr.validations, val)
	}
	return pr, nil
}

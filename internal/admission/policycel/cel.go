package policycel

import (
	"context"
	"fmt"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sync"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/types"
)

// Variables every expression may use. All are dynamically typed: objects
// come in as JSON-like maps, so type errors show up at evaluation time.
const (
	VarObject    = "object"
	VarOldObject = "oldObject"
	VarRequest   = "request"
	VarParams    = "params"
	VarNamespace = "namespaceObject"
	VarVariables = "variables"
)

// costLimit bounds the work of one evaluation, as upstream's per-call
// limit does, so that a policy cannot stall writes.
const costLimit = 1_000_000

// NewEnv returns the CEL environment of policy expressions with extra
// options (a plugin's own types and functions). Build it once:
// environments are safe for concurrent use.
func NewEnv(extra ...cel.EnvOption) (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.Variable(VarObject, cel.DynType),
		cel.Variable(VarOldObject, cel.DynType),
		cel.Variable(VarRequest, cel.DynType),
		cel.Variable(VarParams, cel.DynType),
		cel.Variable(VarNamespace, cel.DynType),
		cel.Variable(VarVariables, cel.MapType(cel.StringType, cel.DynType)),
		cel.HomogeneousAggregateLiterals(),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(ext.StringsVersion(2)),
		ext.Lists(),
		ext.Sets(),
		ext.Math(),
		ext.Encoders(),
	}
	return cel.NewEnv(append(opts, extra...)...)
}

// Expr is one compiled expression; a compilation error is kept and
// surfaces (under the failure policy) when the expression is evaluated.
type Expr struct {
	Source string
	prg    cel.Program
	err    error
}

// Compile compiles source in env.
func Compile(env *cel.Env, source string) Expr {
	e := Expr{Source: source}
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

// Eval runs e against vars; errors read as upstream's.
func (e Expr) Eval(ctx context.Context, vars map[string]any) (ref.Val, error) {
	if e.err != nil {
		return nil, e.err
	}
	v, _, err := e.prg.ContextEval(ctx, vars)
	if err != nil {
		return nil, fmt.Errorf("expression '%s' resulted in error: %w", e.Source, err)
	}
	return v, nil
}

// EvalBool runs an expression that must yield a bool.
func (e Expr) EvalBool(ctx context.Context, vars map[string]any) (bool, error) {
	v, err := e.Eval(ctx, vars)
	if err != nil {
		return false, err
	}
	b, ok := v.(celtypes.Bool)
	if !ok {
		return false, fmt.Errorf("expression '%s' resulted in error: expected bool, got %s", e.Source, v.Type().TypeName())
	}
	return bool(b), nil
}

// NamedExpr is a named expression: a variable or a match condition.
type NamedExpr struct {
	Name string
	Expr Expr
}

// CompileConditions compiles a policy's match conditions.
func CompileConditions(env *cel.Env, conditions []admissionregistrationv1.MatchCondition) []NamedExpr {
	out := make([]NamedExpr, len(conditions))
	for i, mc := range conditions {
		out[i] = NamedExpr{Name: mc.Name, Expr: Compile(env, mc.Expression)}
	}
	return out
}

// CompileVariables compiles a policy's variables, in their order.
func CompileVariables(env *cel.Env, variables []admissionregistrationv1.Variable) []NamedExpr {
	out := make([]NamedExpr, len(variables))
	for i, v := range variables {
		out[i] = NamedExpr{Name: v.Name, Expr: Compile(env, v.Expression)}
	}
	return out
}

// Matched evaluates match conditions in order: false at the first that
// does not hold, an error naming the first that fails.
func Matched(ctx context.Context, conditions []NamedExpr, vars map[string]any) (bool, error) {
	for _, mc := range conditions {
		ok, err := mc.Expr.EvalBool(ctx, vars)
		if err != nil {
			return false, fmt.Errorf("failed to evaluate match condition %q: %w", mc.Name, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// EvalVariables evaluates a policy's variables in order into the value
// of `variables`. A variable that fails holds its error, which surfaces
// only where it is used, as upstream's lazy variables behave.
func EvalVariables(ctx context.Context, variables []NamedExpr, vars map[string]any) {
	values := map[ref.Val]ref.Val{}
	vars[VarVariables] = celtypes.NewRefValMap(celtypes.DefaultTypeAdapter, values)
	for _, v := range variables {
		val, err := v.Expr.Eval(ctx, vars)
		if err != nil {
			val = celtypes.WrapErr(err)
		}
		values[celtypes.String(v.Name)] = val
	}
}

// Cache holds compiled policies (T) by UID; an entry is replaced when the
// policy's resourceVersion changes and dropped when the policy is gone.
// It is safe for concurrent use.
type Cache[T any] struct {
	mu       sync.Mutex
	programs map[types.UID]cached[T]
}

type cached[T any] struct {
	resourceVersion string
	program         T
}

// Get returns the program of the policy uid at resourceVersion,
// compiling it when the cache has none.
func (c *Cache[T]) Get(uid types.UID, resourceVersion string, compile func() (T, error)) (T, error) {
	c.mu.Lock()
	e, ok := c.programs[uid]
	c.mu.Unlock()
	if ok && e.resourceVersion == resourceVersion {
		return e.program, nil
	}
	pr, err := compile()
	if err != nil {
		return pr, err
	}
	c.mu.Lock()
	if c.programs == nil {
		c.programs = map[types.UID]cached[T]{}
	}
	c.programs[uid] = cached[T]{resourceVersion: resourceVersion, program: pr}
	c.mu.Unlock()
	return pr, nil
}

// Prune forgets the policies not in live; it does work only when the
// cache holds more programs than there are policies.
func (c *Cache[T]) Prune(live []types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.programs) <= len(live) {
		return
	}
	keep := make(map[types.UID]bool, len(live))
	for _, uid := range live {
		keep[uid] = true
	}
	for uid := range c.programs {
		if !keep[uid] {
			delete(c.programs, uid)
		}
	}
}

// Index maps policies by name and forgets the programs of policies that
// are gone; name returns a policy's name and uid.
func Index[P any, T any](c *Cache[T], policies []P, name func(*P) (string, types.UID)) map[string]*P {
	live := make([]types.UID, len(policies))
	byName := make(map[string]*P, len(policies))
	for i := range policies {
		n, uid := name(&policies[i])
		byName[n] = &policies[i]
		live[i] = uid
	}
	c.Prune(live)
	return byName
}

// Len is the number of cached programs.
func (c *Cache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.programs)
}

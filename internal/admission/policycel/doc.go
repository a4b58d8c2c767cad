// Package policycel is what the admission policy plugins share: the
// request as CEL sees it, matching by matchConstraints and binding
// matchResources, parameter lookup by paramRef, and the compiled CEL
// expressions with their program cache. validatingpolicy and mutatingpolicy
// each add their own actions (refusing a write, changing it) on top.
package policycel

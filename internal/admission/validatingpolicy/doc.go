// Package validatingpolicy enforces ValidatingAdmissionPolicies
// (admissionregistration.k8s.io/v1): CEL expressions that a cluster
// administrator binds to resources, so that writes can be refused without
// running a webhook. It is an admission plugin: for every create and update
// it finds the bindings whose policy and match rules select the request,
// evaluates the policy's match conditions, variables and validations
// against the object, and refuses the write when the binding's validation
// actions include Deny; Warn tells the client in a Warning header, Audit is
// only logged (tug keeps no audit log).
// Everything it reads (policies, bindings, namespaces, parameter objects)
// comes in as functions, so the plugin runs the same in unit tests as
// inside the API server. Matching and CEL evaluation are policycel's,
// shared with mutatingpolicy.
package validatingpolicy

// Package mutatingpolicy applies MutatingAdmissionPolicies
// (admissionregistration.k8s.io/v1): CEL expressions, bound to resources
// like validating policies, that change an object as it is written. For
// every create and update the plugin finds the bindings whose policy and
// match rules select the request (policycel, shared with
// validatingpolicy), evaluates each of the policy's mutations in order and
// applies its result to the object: an apply configuration
// (`Object{spec: Object.spec{replicas: 3}}`) merged as server-side apply
// merges, or a list of JSON patch operations. Every later mutation and
// policy sees the object as the earlier ones left it. Policies are applied
// once, in binding order: reinvocationPolicy is ignored.
package mutatingpolicy

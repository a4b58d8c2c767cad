// Package core holds the strategies of the core/v1 resources: how pods,
// services, namespaces and the other legacy-group objects are defaulted,
// validated, prepared and selected by field, and the allocator that hands
// out service cluster IPs and node ports.
package core

// Package registry is the one generic REST store: it turns API requests on
// any resource into storage operations, filling system metadata, running the
// resource's Strategy and translating storage errors into Kubernetes Status
// errors.
package registry

// Package frameworktest is what scheduler plugin tests and benchmarks
// share: a framework.Handle over a fixed snapshot with a fake clientset,
// a parallel loop the race detector can see, and fluent pod and node
// builders.
package frameworktest

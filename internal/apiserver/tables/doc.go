// Package tables converts API objects to meta.k8s.io/v1 Table responses,
// the form kubectl asks for with
// "Accept: application/json;as=Table;v=v1;g=meta.k8s.io".
//
// Each built-in kind has the columns kubectl prints for it with `kubectl
// get` (priority 0) and `-o wide` (priority 1); the server always fills
// every cell and kubectl hides the wide ones. Kinds without a printer get
// NAME and AGE. Printers are registered per API group in one file each
// (core.go, apps.go, …); registry.go collects them into one map.
//
// The cell values are Go values as metav1.Table documents them: strings,
// int64 and bool. Everything that depends on the time of day (AGE, LAST
// SEEN, DURATION, the "(5m ago)" of RESTARTS) is computed from the time
// passed to Convert, so the output is deterministic in tests.
package tables

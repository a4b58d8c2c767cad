// Package apps holds the strategies of the apps/v1 resources: how
// deployments, replica sets, stateful sets, daemon sets and controller
// revisions are defaulted and validated.
package apps

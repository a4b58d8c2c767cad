// Package filters wraps the API handler in the stages every request
// passes: a long-lived worker goroutine, panic recovery, authentication,
// authorization and the in-flight limit. Admission plugs in here as its own
// stage.
package filters

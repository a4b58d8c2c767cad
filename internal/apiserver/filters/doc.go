// Package filters wraps the API handler in the stages every request
// passes: panic recovery, then authentication. Authorization and admission
// plug in here as their own stages.
package filters

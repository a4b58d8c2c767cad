// Package integration holds black-box tests that start a real tug server
// and drive it with client-go and the real kubectl binaries.
package integration

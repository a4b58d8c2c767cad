// Package e2e drives the built tug binary with the real kubectl binaries:
// each test starts `tug server` as a child process on a free loopback port
// and runs kubectl scenarios against it.
package e2e

// Package node holds the node tests: a tug server and real nodes (tug
// agent with its own containerd and runc, each in a network namespace the
// test creates), driven through client-go and real kubectl.
package node

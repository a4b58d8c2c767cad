// Package internal holds all of tug; it is a product, not a library, so
// nothing here is importable from outside the module. The folders mirror
// the architecture in the design; this map lists the packages that exist
// today.
//
//	cli/                 the command line: a cobra root and one file per
//	                     command; flags fill Options structs, no logic.
//	version/             which build is running: release, git commit and
//	                     the Kubernetes API version served.
//	storage/             storage.Interface, the object store the API server
//	                     uses, and the Backend contract that engines
//	                     implement; doc.go states the contract.
//	  storagetest/       the one test suite every backend runs.
//	  bolt/              the default backend: a bbolt file plus a write-ahead
//	                     log with group commit, in the data directory.
//	  etcd/              the backend over the etcd v3 API.
//	pki/                 the cluster CA and what it signs (serving and admin
//	                     certificates), the service-account key and the
//	                     join token: made at first start, reused after.
//	kubeconfig/          builds, writes and loads kubeconfig files.
//	atomicfile/          whole-or-nothing file writes (temp file + rename).
//
// The API server (apiserver/), the composition roots of `tug server` and
// `tug agent` (server/, agent/), the scheduler, controllers, node agent,
// networking, security and test helpers arrive with later issues, each in
// the folder the code conventions lay out (see the Layout section of
// README.md).
package internal

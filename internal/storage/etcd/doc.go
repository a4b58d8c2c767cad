// Package etcd is a storage.Backend over an etcd v3 cluster, reached through
// the official clientv3 client.
//
// etcd already has the semantics storage.Backend asks for: one global
// revision, per-key create and mod revisions, a compactable MVCC history,
// and ordered watches. This package maps each Backend call onto one etcd
// request (a range, a transaction or a watch) and etcd's errors onto
// storage errors: compacted revisions are expired, future revisions are too
// large. TTLs become leases, shared between writes with similar TTLs so a
// stream of Events does not create one lease per write.
package etcd

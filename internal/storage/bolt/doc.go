// Package bolt is the default storage.Backend: a bbolt file plus a
// write-ahead log, in one directory.
//
// A write is acknowledged once it is in the write-ahead log and the log is
// fdatasynced: one sync per group of concurrent writes, so throughput grows
// with concurrency and a single write costs about one fsync. Logged writes
// are kept in memory and applied to the bbolt file in the background in
// large, fully synced transactions; reads merge the file with the writes not
// yet applied. Opening replays the log into the file, so a crash or kill -9
// at any moment loses no acknowledged write.
//
// The file holds four buckets: kv (current value of each key), log (the
// history, one entry per revision, with the previous value), ttl (expiry
// index) and meta (applied and compacted revisions).
package bolt

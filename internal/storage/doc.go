// Package storage defines where every API object lives: the object-level
// Interface the API server uses, the raw Backend each storage engine
// implements, and Store, the one codec-aware implementation of Interface on
// top of any Backend.
//
// # Contract
//
// Keys are "/registry/<group>/<resource>/[<namespace>/]<name>". Values are
// objects encoded by the codec the caller supplies; storage only sets and
// reads metadata.resourceVersion through a Versioner.
//
// A Backend keeps one global revision. Every successful write increments it
// by exactly one, and a key's ModRevision is the revision of its last write,
// which becomes the object's resourceVersion. Revisions never go backwards,
// across restarts too. A write is durable before the call returns.
//
// A Backend keeps a history of recent changes so that reads at an older
// revision and watches from an older revision work until that revision is
// compacted; after that they fail with an error for which IsExpired is true.
//
// Watches deliver every change with a revision greater than the start
// revision, in revision order, with no gaps and no duplicates. A watcher that
// cannot keep up never slows writers: it falls back to reading history and is
// cut off with an expired error once the history it needs is compacted.
// Revisions without changes for a watch are reported as progress now and
// then, and promptly when asked (WatchProgressRequester, RequestProgress).
//
// A cachedExistingObject handed to Store (a watch cache's object) is only
// read: when it is of the stored revision, a copy of it stands in for
// decoding the stored bytes. Store hands the object it decodes for a
// write's caller (a copy) on to the one watch that asks for them
// (ListOptions.TakeWritten: the watch cache's), see handoffs.
//
// All methods are safe for concurrent use. Objects passed in are not retained;
// they are not mutated except for the out parameters named in each method
// and the resourceVersion and selfLink that Create clears on the object it
// stores.
package storage

package bolt

import (
	"errors"
	"time"
)

// Options configures a bolt Backend. Zero fields take the defaults below.
type Options struct {
	// Dir holds the database file and the write-ahead log; created if
	// missing. Required. tug server uses <data-dir>/server/db.
	Dir string
	// HistoryMaxAge drops history entries older than this. Default 5m.
	HistoryMaxAge time.Duration
	// HistoryMaxEvents keeps at most this many history entries. Default 100000.
	HistoryMaxEvents int64
	// CompactInterval is how often history is compacted and expired TTL
	// keys are deleted. Default 1s.
	CompactInterval time.Duration
	// MemoryEvents is how many already-applied events stay in memory for
	// watchers and reads at recent revisions; older ones are read from the
	// file's history. Default 1000.
	MemoryEvents int
	// ApplyInterval is the longest a logged write waits before it is
	// applied to the database file. Default 100ms: fewer, larger synced
	// transactions disturb the log's fsyncs less.
	ApplyInterval time.Duration
	// MaxBacklog is how many logged writes may wait to be applied before
	// new writes wait. Default 100000.
	MaxBacklog int
	// MaxBatch caps the writes one group commit takes. Default 4096.
	MaxBatch int
	// WALSegmentSize is the size each log segment is preallocated to.
	// Default 64 MiB.
	WALSegmentSize int64
}

func (o Options) withDefaults() Options {
	if o.HistoryMaxAge == 0 {
		o.HistoryMaxAge = 5 * time.Minute
	}
	if o.HistoryMaxEvents == 0 {
		o.HistoryMaxEvents = 100000
	}
	if o.CompactInterval == 0 {
		o.CompactInterval = time.Second
	}
	if o.MemoryEvents == 0 {
		o.MemoryEvents = 1000
	}
	if o.ApplyInterval == 0 {
		o.ApplyInterval = 100 * time.Millisecond
	}
	if o.MaxBacklog == 0 {
		o.MaxBacklog = 100000
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 4096
	}
	if o.WALSegmentSize == 0 {
		o.WALSegmentSize = 64 << 20
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("bolt: Dir is required")
	case o.HistoryMaxAge < 0, o.HistoryMaxEvents < 0, o.CompactInterval < 0, o.MemoryEvents < 0,
		o.ApplyInterval < 0, o.MaxBacklog < 0, o.MaxBatch < 0, o.WALSegmentSize < 0:
		return errors.New("bolt: options must not be negative")
	case o.WALSegmentSize != 0 && o.WALSegmentSize < 1<<20:
		return errors.New("bolt: WALSegmentSize must be at least 1 MiB")
	}
	return nil
}
